import Foundation
import SwiftASN1
import X509

/// `OCSPResponseStatus` (RFC 6960 §4.2.1).
public enum OCSPResponseStatus: Int, Sendable, Hashable, CaseIterable {
    /// The response has valid confirmations.
    case successful = 0
    /// Illegal confirmation request (garbage, too many certificates, bad nonce).
    case malformedRequest = 1
    /// Internal error in the issuer (e.g. the status look-up failed).
    case internalError = 2
    /// Try again later.
    case tryLater = 3
    /// Must sign the request.
    case sigRequired = 5
    /// Request unauthorized: a certificate of a CA this responder does not serve.
    case unauthorized = 6
}

/// The status of one certificate in a response.
public enum OCSPCertificateStatus: Sendable, Hashable {
    /// Not revoked.
    case good
    /// Revoked (or on hold, reason `certificateHold`) at a time, with an optional reason.
    case revoked(time: Date, reason: RevocationReason?)
    /// The responder does not know the certificate.
    case unknown

    /// The status a `RevocationRecord` gives at `date` (`good` if there is none or it was released).
    public static func from(_ record: RevocationRecord?, at date: Date) -> OCSPCertificateStatus {
        guard let record, record.isRevoked(at: date) else { return .good }
        return .revoked(time: record.revokedAt, reason: record.reason)
    }
}

/// One `SingleResponse`.
public struct OCSPSingleResponse: Sendable, Hashable {
    /// The CertID, as asked.
    public var certID: OCSPCertID
    /// The status.
    public var status: OCSPCertificateStatus
    /// thisUpdate.
    public var thisUpdate: Date
    /// nextUpdate.
    public var nextUpdate: Date?

    /// Creates a single response.
    public init(certID: OCSPCertID, status: OCSPCertificateStatus, thisUpdate: Date, nextUpdate: Date?) {
        self.certID = certID
        self.status = status
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
    }
}

/// A decoded `BasicOCSPResponse`.
public struct BasicOCSPResponse: Sendable, Hashable {
    /// ResponderID byKey (SHA-1 of the responder key), if used.
    public var responderKeyHash: [UInt8]?
    /// ResponderID byName (DER of the name), if used.
    public var responderNameDER: [UInt8]?
    /// producedAt.
    public var producedAt: Date
    /// The single responses.
    public var responses: [OCSPSingleResponse]
    /// responseExtensions (e.g. the nonce).
    public var extensions: [Certificate.Extension]
    /// The signed bytes (ResponseData).
    public var tbsResponseData: [UInt8]
    /// The signature algorithm OID.
    public var signatureAlgorithm: ASN1ObjectIdentifier
    /// The signature value.
    public var signature: [UInt8]
    /// The certificates sent along (the responder's).
    public var certificates: [Certificate]

    /// The nonce bytes of the nonce extension, if present.
    public var nonce: [UInt8]? {
        guard let value = extensions.first(where: { $0.oid == PKIObjectIdentifiers.ocspNonce })?.value else { return nil }
        if let octets = try? ASN1OctetString(derEncoded: value) { return Array(octets.bytes) }
        return Array(value)
    }

    /// Whether `certificate`'s key signed the response.
    public func isSigned(by certificate: Certificate) -> Bool {
        guard let algorithm = Certificate.SignatureAlgorithm(knownOID: signatureAlgorithm) else { return false }
        return certificate.publicKey.isValidSignature(signature, for: tbsResponseData, signatureAlgorithm: algorithm)
    }
}

/// A decoded `OCSPResponse`: a status and, when successful, the basic response.
public struct OCSPResponse: Sendable, Hashable {
    /// responseStatus.
    public var status: OCSPResponseStatus
    /// The basic response (successful responses only).
    public var basic: BasicOCSPResponse?

    /// Decodes DER.
    /// - Parameter der: The response.
    public init(derEncoded der: [UInt8]) throws {
        do {
            let root = try DER.parse(der)
            var status = OCSPResponseStatus.internalError
            var basic: BasicOCSPResponse?
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let statusNode = nodes.next() else { throw PKIError.malformed("OCSP response", "no status") }
                let code = try Int(derEncoded: statusNode, withIdentifier: .enumerated)
                guard let decoded = OCSPResponseStatus(rawValue: code) else { throw PKIError.malformed("OCSP response", "unknown status") }
                status = decoded
                basic = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) { node in
                    try DER.sequence(node, identifier: .sequence) { nodes in
                        let type = try ASN1ObjectIdentifier(derEncoded: &nodes)
                        guard type == PKIObjectIdentifiers.ocspBasic else { throw PKIError.malformed("OCSP response", "not a basic response") }
                        let octets = try ASN1OctetString(derEncoded: &nodes)
                        return try Self.decodeBasic(Array(octets.bytes))
                    }
                }
            }
            self.status = status
            self.basic = basic
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.malformed("OCSP response", String(describing: error))
        }
    }

    /// Encodes a response with no body (every status but `successful`).
    /// - Parameter status: The error status.
    /// - Returns: DER bytes.
    public static func errorResponse(_ status: OCSPResponseStatus) -> [UInt8] {
        // SEQUENCE { ENUMERATED status }
        [0x30, 0x03, 0x0A, 0x01, UInt8(status.rawValue)]
    }

    private static func decodeBasic(_ der: [UInt8]) throws -> BasicOCSPResponse {
        try DER.sequence(try DER.parse(der), identifier: .sequence) { nodes in
            guard let tbs = nodes.next() else { throw PKIError.malformed("OCSP response", "no ResponseData") }
            var result = BasicOCSPResponse(responderKeyHash: nil, responderNameDER: nil, producedAt: Date(), responses: [],
                                           extensions: [], tbsResponseData: Array(tbs.encodedBytes),
                                           signatureAlgorithm: [0, 0], signature: [], certificates: [])
            try DER.sequence(tbs, identifier: .sequence) { nodes in
                let version = try DER.decodeDefaultExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific, defaultValue: 0)
                guard version == 0 else { throw PKIError.malformed("OCSP response", "unsupported version") }
                guard let responderID = nodes.next() else { throw PKIError.malformed("OCSP response", "no responderID") }
                if responderID.identifier == ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific) {
                    result.responderKeyHash = try DER.explicitlyTagged(responderID, tagNumber: 2, tagClass: .contextSpecific) {
                        Array(try ASN1OctetString(derEncoded: $0).bytes)
                    }
                } else {
                    result.responderNameDER = try DER.explicitlyTagged(responderID, tagNumber: 1, tagClass: .contextSpecific) {
                        Array($0.encodedBytes)
                    }
                }
                result.producedAt = try DERTime.date(GeneralizedTime(derEncoded: &nodes))
                guard let list = nodes.next() else { throw PKIError.malformed("OCSP response", "no responses") }
                result.responses = try DER.sequence(of: RawSingleResponse.self, identifier: .sequence, rootNode: list).map(\.value)
                result.extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) {
                    try DERHelpers.parseExtensions($0)
                } ?? []
            }
            guard let algorithm = nodes.next() else { throw PKIError.malformed("OCSP response", "no signature algorithm") }
            result.signatureAlgorithm = try DERHelpers.parseAlgorithmIdentifier(algorithm)
            result.signature = Array(try ASN1BitString(derEncoded: &nodes).bytes)
            result.certificates = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try DER.sequence(of: Certificate.self, identifier: .sequence, rootNode: $0)
            } ?? []
            return result
        }
    }

    private struct RawSingleResponse: DERParseable {
        let value: OCSPSingleResponse
        init(derEncoded node: ASN1Node) throws {
            value = try DER.sequence(node, identifier: .sequence) { nodes in
                let certID = try OCSPCertID(derEncoded: &nodes)
                guard let statusNode = nodes.next() else { throw PKIError.malformed("OCSP response", "no certStatus") }
                let status: OCSPCertificateStatus
                switch statusNode.identifier {
                case ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific):
                    status = .good
                case ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific):
                    status = .unknown
                case ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific):
                    status = try DER.sequence(statusNode, identifier: statusNode.identifier) { nodes in
                        let time = try DERTime.date(GeneralizedTime(derEncoded: &nodes))
                        let reason = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                            try Int(derEncoded: $0, withIdentifier: .enumerated)
                        }
                        return .revoked(time: time, reason: reason.flatMap(RevocationReason.init(rawValue:)))
                    }
                default:
                    throw PKIError.malformed("OCSP response", "unknown certStatus")
                }
                let thisUpdate = try DERTime.date(GeneralizedTime(derEncoded: &nodes))
                let nextUpdate = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                    try DERTime.date(GeneralizedTime(derEncoded: $0))
                }
                _ = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) { $0 }
                return OCSPSingleResponse(certID: certID, status: status, thisUpdate: thisUpdate, nextUpdate: nextUpdate)
            }
        }
    }
}
