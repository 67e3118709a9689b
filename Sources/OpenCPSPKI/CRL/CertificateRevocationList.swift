import Foundation
import SwiftASN1
import X509

/// A parsed CRL: enough to check what `CRLBuilder` wrote and to verify its signature.
public struct CertificateRevocationList: Sendable, Hashable {
    /// The version number as encoded (1 means v2).
    public let version: Int
    /// The issuer name.
    public let issuer: DistinguishedName
    /// thisUpdate.
    public let thisUpdate: Date
    /// nextUpdate.
    public let nextUpdate: Date?
    /// The entries.
    public let entries: [CRLEntry]
    /// The CRL extensions.
    public let extensions: [Certificate.Extension]
    /// The cRLNumber, if present.
    public let crlNumber: Int?
    /// The base CRL number of a delta CRL (deltaCRLIndicator), `nil` for a full CRL.
    public let baseCRLNumber: Int?
    /// The signed bytes (TBSCertList).
    public let tbsBytes: [UInt8]
    /// The signature algorithm OID.
    public let signatureAlgorithm: ASN1ObjectIdentifier
    /// The signature value.
    public let signatureBytes: [UInt8]

    /// Parses a DER CRL.
    /// - Parameter der: The bytes.
    public init(derEncoded der: [UInt8]) throws {
        do {
            let root = try DER.parse(der)
            var result: (Int, DistinguishedName, Date, Date?, [CRLEntry], [Certificate.Extension], [UInt8]) = (0, DistinguishedName(), Date(), nil, [], [], [])
            var algorithm: ASN1ObjectIdentifier = [0, 0]
            var signature: [UInt8] = []
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbsNode = nodes.next() else { throw PKIError.malformed("CRL", "no TBSCertList") }
                result.6 = Array(tbsNode.encodedBytes)
                try DER.sequence(tbsNode, identifier: .sequence) { nodes in
                    var next = nodes.next()
                    if let node = next, node.identifier == .integer {
                        result.0 = try Int(derEncoded: node)
                        next = nodes.next()
                    }
                    guard let sigAlg = next else { throw PKIError.malformed("CRL", "no signature algorithm") }
                    _ = try DERHelpers.parseAlgorithmIdentifier(sigAlg)
                    guard let issuerNode = nodes.next() else { throw PKIError.malformed("CRL", "no issuer") }
                    result.1 = try DistinguishedName(derEncoded: issuerNode)
                    guard let thisUpdate = nodes.next() else { throw PKIError.malformed("CRL", "no thisUpdate") }
                    result.2 = try DERTime.parseX509Time(thisUpdate)
                    while let node = nodes.next() {
                        switch node.identifier {
                        case .utcTime, .generalizedTime:
                            result.3 = try DERTime.parseX509Time(node)
                        case .sequence:
                            result.4 = try DER.sequence(of: RawEntry.self, identifier: .sequence, rootNode: node).map(\.entry)
                        case ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific):
                            result.5 = try DER.explicitlyTagged(node, tagNumber: 0, tagClass: .contextSpecific) {
                                try DERHelpers.parseExtensions($0)
                            }
                        default:
                            throw PKIError.malformed("CRL", "unexpected field")
                        }
                    }
                }
                guard let algNode = nodes.next() else { throw PKIError.malformed("CRL", "no signature algorithm") }
                algorithm = try DERHelpers.parseAlgorithmIdentifier(algNode)
                signature = Array(try ASN1BitString(derEncoded: &nodes).bytes)
            }
            version = result.0
            issuer = result.1
            thisUpdate = result.2
            nextUpdate = result.3
            entries = result.4
            extensions = result.5
            tbsBytes = result.6
            signatureAlgorithm = algorithm
            signatureBytes = signature
            crlNumber = try result.5.first { $0.oid == PKIObjectIdentifiers.crlNumber }.map { try Int(derEncoded: $0.value) }
            baseCRLNumber = try result.5.first { $0.oid == PKIObjectIdentifiers.deltaCRLIndicator }.map { try Int(derEncoded: $0.value) }
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.malformed("CRL", String(describing: error))
        }
    }

    /// Whether `issuerCertificate`'s key signed this CRL.
    public func isSigned(by issuerCertificate: Certificate) -> Bool {
        guard let algorithm = Certificate.SignatureAlgorithm(knownOID: signatureAlgorithm) else { return false }
        return issuerCertificate.publicKey.isValidSignature(signatureBytes, for: tbsBytes, signatureAlgorithm: algorithm)
    }

    private struct RawEntry: DERParseable {
        let entry: CRLEntry
        init(derEncoded node: ASN1Node) throws {
            entry = try DER.sequence(node, identifier: .sequence) { nodes in
                let serial = try ArraySlice<UInt8>(derEncoded: &nodes)
                guard let dateNode = nodes.next() else { throw PKIError.malformed("CRL", "entry without date") }
                let date = try DERTime.parseX509Time(dateNode)
                var reason: RevocationReason?
                if let extNode = nodes.next() {
                    for ext in try DERHelpers.parseExtensions(extNode) where ext.oid == PKIObjectIdentifiers.reasonCode {
                        let code = try Int(derEncoded: try DER.parse(ext.value), withIdentifier: .enumerated)
                        reason = RevocationReason(rawValue: code)
                    }
                }
                return CRLEntry(serialNumber: Certificate.SerialNumber(bytes: serial), revocationDate: date, reason: reason)
            }
        }
    }
}
