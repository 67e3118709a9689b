import Crypto
import Foundation
import SwiftASN1
import X509

/// What an authority certificate is for.
public enum AuthorityKind: String, Sendable, Codable, Hashable {
    /// The self-signed offline root (ACR).
    case root
    /// An issuing CA (Forte Personnes, Élémentaire Personnes).
    case issuingCA
    /// A delegated OCSP responder of an issuing CA (id-kp-OCSPSigning, ocsp-nocheck).
    case ocspResponder
    /// The time-stamping authority (RFC 3161; id-kp-timeStamping, critical), issued by the root.
    case timeStampingAuthority
}

/// One certificate of the hierarchy with the label of its private key in the key store.
///
/// It keeps the values OCSP and CRL code needs precomputed: DER, subject DER, key identifier
/// and the SHA-1 / SHA-256 hashes of name and key used in OCSP CertIDs.
public struct AuthorityCertificate: Sendable, Hashable {
    /// The slug used in URLs and file names, e.g. `forte-personnes` or `forte-personnes-ocsp`.
    public let slug: String
    /// What this certificate is for.
    public let kind: AuthorityKind
    /// The label of the private key in the key store.
    public let keyLabel: String
    /// The certificate.
    public let certificate: Certificate
    /// The certificate, DER-encoded.
    public let certificateDER: [UInt8]
    /// The subject name, DER-encoded.
    public let subjectDER: [UInt8]
    /// The subjectKeyIdentifier (SHA-1 of the public key bits).
    public let keyIdentifier: [UInt8]
    /// SHA-1 of the public key BIT STRING contents (OCSP issuerKeyHash and ResponderID byKey).
    public let keyHashSHA1: [UInt8]
    /// SHA-256 of the public key BIT STRING contents.
    public let keyHashSHA256: [UInt8]
    /// SHA-1 of the subject DER (OCSP issuerNameHash).
    public let nameHashSHA1: [UInt8]
    /// SHA-256 of the subject DER.
    public let nameHashSHA256: [UInt8]

    /// Wraps a certificate and precomputes its hashes.
    /// - Parameters:
    ///   - slug: The URL slug.
    ///   - kind: The role.
    ///   - keyLabel: The key-store label of its private key.
    ///   - certificate: The certificate.
    public init(slug: String, kind: AuthorityKind, keyLabel: String, certificate: Certificate) throws {
        self.slug = slug
        self.kind = kind
        self.keyLabel = keyLabel
        self.certificate = certificate
        self.certificateDER = try DERHelpers.encode(certificate)
        self.subjectDER = try DERHelpers.encode(certificate.subject)
        let keyBits = Array(certificate.publicKey.subjectPublicKeyInfoBytes)
        self.keyIdentifier = X509ExtensionEncoders.keyIdentifier(certificate.publicKey)
        self.keyHashSHA1 = Array(Insecure.SHA1.hash(data: keyBits))
        self.keyHashSHA256 = Array(SHA256.hash(data: keyBits))
        self.nameHashSHA1 = Array(Insecure.SHA1.hash(data: subjectDER))
        self.nameHashSHA256 = Array(SHA256.hash(data: subjectDER))
    }

    /// The certificate as PEM.
    public var pem: String {
        (try? certificate.serializeAsPEM().pemString) ?? ""
    }

    /// Opens this authority's private key.
    /// - Parameter keyStore: The store holding it.
    /// - Returns: The signing handle.
    public func signingKey(in keyStore: any KeyStore) throws -> any PKISigningKey {
        let key = try keyStore.key(label: keyLabel)
        guard key.publicKey == certificate.publicKey else {
            throw PKIError.invalidConfiguration("The key '\(keyLabel)' does not match the certificate of '\(slug)'.")
        }
        return key
    }

    /// Equal when the certificates are equal.
    public static func == (lhs: AuthorityCertificate, rhs: AuthorityCertificate) -> Bool {
        lhs.slug == rhs.slug && lhs.certificateDER == rhs.certificateDER
    }

    /// Hashes the certificate DER.
    public func hash(into hasher: inout Hasher) { hasher.combine(certificateDER) }
}

/// Builds and signs certificates with swift-certificates through a `PKISigningKey`.
enum CertificateFactory {
    static func make(serial: Certificate.SerialNumber, publicKey: Certificate.PublicKey, notBefore: Date, notAfter: Date,
                     issuer: DistinguishedName, subject: DistinguishedName, extensions: [Certificate.Extension],
                     signer: any PKISigningKey) throws -> Certificate {
        try Certificate(version: .v3, serialNumber: serial, publicKey: publicKey,
                        notValidBefore: DERTime.truncated(notBefore), notValidAfter: DERTime.truncated(notAfter),
                        issuer: issuer, subject: subject, signatureAlgorithm: signer.signatureAlgorithm,
                        extensions: Certificate.Extensions(extensions), issuerPrivateKey: signer.certificatePrivateKey)
    }

    /// C, O and CN, the subject of every authority.
    static func authorityName(country: String, organization: String, commonName: String) throws -> DistinguishedName {
        DistinguishedName([
            RelativeDistinguishedName(try .init(type: .RDNAttributeType.countryName, printableString: country)),
            RelativeDistinguishedName(.init(type: .RDNAttributeType.organizationName, utf8String: organization)),
            RelativeDistinguishedName(.init(type: .RDNAttributeType.commonName, utf8String: commonName)),
        ])
    }
}
