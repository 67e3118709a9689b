import Crypto
import SwiftASN1
import X509

/// The hash algorithms of OCSP CertIDs this responder understands.
public enum OCSPHashAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// SHA-1 (what most clients, and OpenSSL by default, send).
    case sha1
    /// SHA-256 (`openssl ocsp -sha256`).
    case sha256

    /// The algorithm's OID.
    public var oid: ASN1ObjectIdentifier {
        self == .sha1 ? PKIObjectIdentifiers.sha1 : PKIObjectIdentifiers.sha256
    }

    init?(oid: ASN1ObjectIdentifier) {
        switch oid {
        case PKIObjectIdentifiers.sha1: self = .sha1
        case PKIObjectIdentifiers.sha256: self = .sha256
        default: return nil
        }
    }

    func hash(_ bytes: [UInt8]) -> [UInt8] {
        self == .sha1 ? Array(Insecure.SHA1.hash(data: bytes)) : Array(SHA256.hash(data: bytes))
    }
}

/// `CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber }` (RFC 6960 §4.1.1).
public struct OCSPCertID: Sendable, Hashable, DERImplicitlyTaggable {
    /// The hash algorithm's OID (kept as read, even if unsupported).
    public var hashAlgorithmOID: ASN1ObjectIdentifier
    /// Whether the AlgorithmIdentifier carried an explicit NULL parameter (OpenSSL writes one);
    /// kept so a decoded CertID re-encodes byte for byte.
    public var hashAlgorithmHasNullParameters: Bool
    /// Hash of the issuer's subject DER.
    public var issuerNameHash: [UInt8]
    /// Hash of the issuer's public key BIT STRING contents.
    public var issuerKeyHash: [UInt8]
    /// The serial number asked about.
    public var serialNumber: Certificate.SerialNumber

    /// The hash algorithm, if supported.
    public var hashAlgorithm: OCSPHashAlgorithm? { OCSPHashAlgorithm(oid: hashAlgorithmOID) }

    /// Creates a CertID from raw fields.
    public init(hashAlgorithmOID: ASN1ObjectIdentifier, hashAlgorithmHasNullParameters: Bool = true,
                issuerNameHash: [UInt8], issuerKeyHash: [UInt8], serialNumber: Certificate.SerialNumber) {
        self.hashAlgorithmOID = hashAlgorithmOID
        self.hashAlgorithmHasNullParameters = hashAlgorithmHasNullParameters
        self.issuerNameHash = issuerNameHash
        self.issuerKeyHash = issuerKeyHash
        self.serialNumber = serialNumber
    }

    /// Computes the CertID of a certificate, as a client does (NULL hash parameters, like OpenSSL).
    /// - Parameters:
    ///   - issuer: The issuing CA certificate.
    ///   - serialNumber: The certificate's serial number.
    ///   - hashAlgorithm: SHA-1 or SHA-256.
    public init(issuer: Certificate, serialNumber: Certificate.SerialNumber, hashAlgorithm: OCSPHashAlgorithm = .sha1) throws {
        self.init(hashAlgorithmOID: hashAlgorithm.oid, hashAlgorithmHasNullParameters: true,
                  issuerNameHash: hashAlgorithm.hash(try DERHelpers.encode(issuer.subject)),
                  issuerKeyHash: hashAlgorithm.hash(Array(issuer.publicKey.subjectPublicKeyInfoBytes)),
                  serialNumber: serialNumber)
    }

    /// `SEQUENCE`.
    public static var defaultIdentifier: ASN1Identifier { .sequence }

    /// Decodes a CertID.
    public init(derEncoded node: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(node, identifier: identifier) { nodes in
            guard let algorithmNode = nodes.next() else { throw PKIError.malformed("OCSP CertID", "no hash algorithm") }
            let (oid, hasNull) = try DER.sequence(algorithmNode, identifier: .sequence) { nodes -> (ASN1ObjectIdentifier, Bool) in
                let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
                var hasNull = false
                if let parameter = nodes.next() {
                    _ = try ASN1Null(derEncoded: parameter)
                    hasNull = true
                }
                return (oid, hasNull)
            }
            let nameHash = try ASN1OctetString(derEncoded: &nodes)
            let keyHash = try ASN1OctetString(derEncoded: &nodes)
            let serial = try ArraySlice<UInt8>(derEncoded: &nodes)
            return OCSPCertID(hashAlgorithmOID: oid, hashAlgorithmHasNullParameters: hasNull,
                              issuerNameHash: Array(nameHash.bytes), issuerKeyHash: Array(keyHash.bytes),
                              serialNumber: Certificate.SerialNumber(bytes: serial))
        }
    }

    /// Encodes the CertID.
    public func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try DERHelpers.serializeAlgorithmIdentifier(hashAlgorithmOID, nullParameters: hashAlgorithmHasNullParameters, into: &coder)
            try coder.serialize(ASN1OctetString(contentBytes: issuerNameHash[...]))
            try coder.serialize(ASN1OctetString(contentBytes: issuerKeyHash[...]))
            try coder.serialize(serialNumber.bytes)
        }
    }
}
