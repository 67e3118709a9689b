import Foundation
import SwiftASN1
import X509

/// What the responder produced, with what an HTTP layer needs for caching (RFC 5019).
public struct OCSPResponderResult: Sendable, Hashable {
    /// The DER response to send (`application/ocsp-response`).
    public let der: [UInt8]
    /// Its status.
    public let status: OCSPResponseStatus
    /// thisUpdate / producedAt of a successful response.
    public let thisUpdate: Date?
    /// nextUpdate of a successful response (an HTTP `Expires`).
    public let nextUpdate: Date?
    /// Whether the request had a nonce: such a response is specific to its request and must not be cached.
    public let hasNonce: Bool
    /// The serial numbers answered, in order.
    public let serialNumbers: [Certificate.SerialNumber]
}

/// A delegated OCSP responder (RFC 6960) for one issuing CA.
///
/// Pure: it takes request bytes, the time and a status look-up, and returns response bytes.
/// Issuer hashes (SHA-1 and SHA-256), the ResponderID and the certificate list are computed
/// once at creation; a response costs one DER encoding and one signature.
///
/// Rules: undecodable request, empty list, more than `maxRequestsPerMessage` CertIDs or a nonce
/// longer than 32 bytes → `malformedRequest`; any CertID whose issuer hashes are not this CA's
/// (or an unsupported hash) → `unauthorized`; a look-up that throws → `internalError`. The
/// request nonce extension is echoed verbatim.
public struct OCSPResponder: Sendable {
    /// The CA whose certificates this responder answers for.
    public let issuer: AuthorityCertificate
    /// The delegated responder certificate (issued by `issuer`, id-kp-OCSPSigning, ocsp-nocheck).
    public let responder: AuthorityCertificate
    /// How long a response is valid (nextUpdate − thisUpdate).
    public let validity: TimeInterval
    /// The most CertIDs accepted in one request.
    public let maxRequestsPerMessage: Int
    private let responderKey: any PKISigningKey
    private let responderIDDER: [UInt8]
    private let certsDER: [UInt8]
    private let signatureAlgorithmDER: [UInt8]

    /// Creates a responder.
    /// - Parameters:
    ///   - issuer: The issuing CA.
    ///   - responder: Its delegated responder certificate.
    ///   - responderKey: The responder's key.
    ///   - validity: Response validity, one hour by default.
    ///   - maxRequestsPerMessage: Limit of CertIDs per request, 20 by default.
    public init(issuer: AuthorityCertificate, responder: AuthorityCertificate, responderKey: any PKISigningKey,
                validity: TimeInterval = 3600, maxRequestsPerMessage: Int = 20) throws {
        guard responderKey.publicKey == responder.certificate.publicKey else {
            throw PKIError.invalidConfiguration("The responder key does not match the responder certificate '\(responder.slug)'.")
        }
        guard responder.certificate.issuer == issuer.certificate.subject else {
            throw PKIError.invalidConfiguration("The responder '\(responder.slug)' is not issued by '\(issuer.slug)'.")
        }
        self.issuer = issuer
        self.responder = responder
        self.responderKey = responderKey
        self.validity = validity
        self.maxRequestsPerMessage = maxRequestsPerMessage
        self.responderIDDER = try DERHelpers.encode { coder in
            try coder.serialize(explicitlyTaggedWithTagNumber: 2, tagClass: .contextSpecific) { coder in
                try coder.serialize(ASN1OctetString(contentBytes: responder.keyHashSHA1[...]))
            }
        }
        self.certsDER = DERHelpers.encode { coder in
            coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                coder.appendConstructedNode(identifier: .sequence) { coder in coder.serializeRawBytes(responder.certificateDER) }
            }
        }
        let isRSA = responderKey.algorithm.isRSA
        self.signatureAlgorithmDER = try DERHelpers.encode { coder in
            try DERHelpers.serializeAlgorithmIdentifier(isRSA ? PKIObjectIdentifiers.sha256WithRSAEncryption : PKIObjectIdentifiers.ecdsaWithSHA256,
                                                        nullParameters: isRSA, into: &coder)
        }
    }

    /// Convenience: the responder of an issuing CA of the hierarchy.
    /// - Parameters:
    ///   - authority: The issuing CA.
    ///   - keyStore: Where the responder key is.
    ///   - validity: Response validity.
    public init(authority: IssuingAuthority, keyStore: any KeyStore, validity: TimeInterval = 3600) throws {
        try self.init(issuer: authority.ca, responder: authority.ocspResponder,
                      responderKey: try authority.ocspResponder.signingKey(in: keyStore), validity: validity)
    }

    /// Whether a CertID names this responder's CA.
    public func serves(_ certID: OCSPCertID) -> Bool {
        switch certID.hashAlgorithm {
        case .sha1: return certID.issuerNameHash == issuer.nameHashSHA1 && certID.issuerKeyHash == issuer.keyHashSHA1
        case .sha256: return certID.issuerNameHash == issuer.nameHashSHA256 && certID.issuerKeyHash == issuer.keyHashSHA256
        case nil: return false
        }
    }

    /// Answers a DER request.
    /// - Parameters:
    ///   - requestDER: The request body (POST) or decoded GET path.
    ///   - now: The current time (producedAt and thisUpdate).
    ///   - status: Looks up one serial number of this CA; throwing makes the answer `internalError`.
    /// - Returns: The response and its caching facts.
    public func respond(to requestDER: [UInt8], now: Date,
                        status: (Certificate.SerialNumber) async throws -> OCSPCertificateStatus) async -> OCSPResponderResult {
        let request: OCSPRequest
        switch check(requestDER) {
        case .failure(let failure): return failure
        case .success(let decoded): request = decoded
        }
        var statuses: [OCSPCertificateStatus] = []
        do {
            for single in request.requests { statuses.append(try await status(single.certID.serialNumber)) }
        } catch {
            return Self.failure(.internalError)
        }
        return sign(request, statuses: statuses, now: now)
    }

    /// Synchronous variant of `respond(to:now:status:)` for look-ups that do not suspend (caches, tests).
    public func respondSynchronously(to requestDER: [UInt8], now: Date,
                                     status: (Certificate.SerialNumber) throws -> OCSPCertificateStatus) -> OCSPResponderResult {
        let request: OCSPRequest
        switch check(requestDER) {
        case .failure(let failure): return failure
        case .success(let decoded): request = decoded
        }
        var statuses: [OCSPCertificateStatus] = []
        do {
            for single in request.requests { statuses.append(try status(single.certID.serialNumber)) }
        } catch {
            return Self.failure(.internalError)
        }
        return sign(request, statuses: statuses, now: now)
    }

    /// Signs a successful response for given CertIDs and statuses: what `respond` does after the
    /// look-up, exposed so a cache can pre-sign answers without nonce (RFC 5019).
    /// - Parameters:
    ///   - responses: The CertIDs (as the client sent them) and their statuses.
    ///   - nonceExtension: The request's nonce extension to echo, if any.
    ///   - now: producedAt and thisUpdate.
    /// - Returns: DER bytes.
    public func signedResponse(for responses: [(certID: OCSPCertID, status: OCSPCertificateStatus)],
                               nonceExtension: Certificate.Extension?, now: Date) throws -> [UInt8] {
        let thisUpdate = DERTime.truncated(now)
        let nextUpdate = thisUpdate.addingTimeInterval(validity)
        let thisUpdateTime = try DERTime.generalizedTime(thisUpdate)
        let nextUpdateTime = try DERTime.generalizedTime(nextUpdate)
        let tbs = try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(responderIDDER)
                try coder.serialize(thisUpdateTime) // producedAt
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    for (certID, status) in responses {
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.serialize(certID)
                            switch status {
                            case .good:
                                coder.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { _ in }
                            case .unknown:
                                coder.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)) { _ in }
                            case .revoked(let time, let reason):
                                try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)) { coder in
                                    try coder.serialize(DERTime.generalizedTime(DERTime.truncated(time)))
                                    if let reason, reason != .unspecified {
                                        try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                                            try reason.rawValue.serialize(into: &coder, withIdentifier: .enumerated)
                                        }
                                    }
                                }
                            }
                            try coder.serialize(thisUpdateTime)
                            try coder.serialize(nextUpdateTime, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
                        }
                    }
                }
                if let nonceExtension {
                    try coder.serialize(explicitlyTaggedWithTagNumber: 1, tagClass: .contextSpecific) { coder in
                        try DERHelpers.serializeExtensions([nonceExtension], into: &coder)
                    }
                }
            }
        }
        let signature = try responderKey.sign(tbs)
        let basic = try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbs)
                coder.serializeRawBytes(signatureAlgorithmDER)
                try coder.serialize(ASN1BitString(bytes: signature[...]))
                coder.serializeRawBytes(certsDER)
            }
        }
        return try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try OCSPResponseStatus.successful.rawValue.serialize(into: &coder, withIdentifier: .enumerated)
                try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serialize(PKIObjectIdentifiers.ocspBasic)
                        try coder.serialize(ASN1OctetString(contentBytes: basic[...]))
                    }
                }
            }
        }
    }

    private enum Checked {
        case success(OCSPRequest)
        case failure(OCSPResponderResult)
    }

    private func check(_ requestDER: [UInt8]) -> Checked {
        guard let request = try? OCSPRequest(derEncoded: requestDER),
              request.requests.count <= maxRequestsPerMessage else {
            return .failure(Self.failure(.malformedRequest))
        }
        if let nonce = request.nonce, !(1...32).contains(nonce.count) {
            return .failure(Self.failure(.malformedRequest))
        }
        guard request.requests.allSatisfy({ serves($0.certID) }) else {
            return .failure(Self.failure(.unauthorized))
        }
        return .success(request)
    }

    private func sign(_ request: OCSPRequest, statuses: [OCSPCertificateStatus], now: Date) -> OCSPResponderResult {
        let pairs = zip(request.requests, statuses).map { (certID: $0.certID, status: $1) }
        do {
            let der = try signedResponse(for: pairs, nonceExtension: request.nonceExtension, now: now)
            let thisUpdate = DERTime.truncated(now)
            return OCSPResponderResult(der: der, status: .successful, thisUpdate: thisUpdate,
                                       nextUpdate: thisUpdate.addingTimeInterval(validity), hasNonce: request.nonceExtension != nil,
                                       serialNumbers: request.requests.map(\.certID.serialNumber))
        } catch {
            return Self.failure(.internalError)
        }
    }

    private static func failure(_ status: OCSPResponseStatus) -> OCSPResponderResult {
        OCSPResponderResult(der: OCSPResponse.errorResponse(status), status: status, thisUpdate: nil, nextUpdate: nil,
                            hasNonce: false, serialNumbers: [])
    }
}
