// Hand-written on swift-asn1: neither swift-certificates nor swift-crypto has RFC 3161 types.
// The tokens are checked by `openssl ts -verify` and read by `openssl ts -reply -text` in the tests.

import Crypto
import Foundation
import SwiftASN1
import X509

/// An RFC 3161 `TimeStampReq`, as read.
public struct TimeStampRequest: Sendable, Hashable {
    /// The hash algorithm of the imprint.
    public var hashAlgorithm: ASN1ObjectIdentifier
    /// The hash of the data to time-stamp.
    public var hashedMessage: [UInt8]
    /// The policy asked for, if any.
    public var policy: ASN1ObjectIdentifier?
    /// The nonce's integer bytes, if any.
    public var nonce: [UInt8]?
    /// Whether the TSA's certificate must be in the token.
    public var certificateRequested: Bool
    /// Whether the request has extensions (none is supported).
    public var hasExtensions: Bool

    /// Reads a DER `TimeStampReq`.
    /// - Throws: ``PKIError`` `pki.asn1.malformed`.
    public init(derEncoded der: [UInt8]) throws {
        do {
            let fields = try CMSSignedData.children(try DER.parse(der))
            guard fields.count >= 2, try Int(derEncoded: fields[0]) == 1 else {
                throw PKIError.malformed("time-stamp request", "version 1 and a message imprint expected")
            }
            let imprint = try CMSSignedData.children(fields[1])
            guard imprint.count == 2 else { throw PKIError.malformed("time-stamp request", "bad message imprint") }
            hashAlgorithm = try DERHelpers.parseAlgorithmIdentifier(imprint[0])
            hashedMessage = Array(try ASN1OctetString(derEncoded: imprint[1]).bytes)
            policy = nil
            nonce = nil
            certificateRequested = false
            hasExtensions = false
            for field in fields.dropFirst(2) {
                switch field.identifier {
                case .objectIdentifier: policy = try ASN1ObjectIdentifier(derEncoded: field)
                case .integer:
                    guard case .primitive(let bytes) = field.content, !bytes.isEmpty, bytes.count <= 64 else {
                        throw PKIError.malformed("time-stamp request", "bad nonce")
                    }
                    nonce = Array(bytes)
                case .boolean: certificateRequested = try Bool(derEncoded: field)
                case ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific): hasExtensions = true
                default: throw PKIError.malformed("time-stamp request", "unexpected field \(field.identifier)")
                }
            }
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.malformed("time-stamp request", "not a DER TimeStampReq (\(error))")
        }
    }

    /// A request for SHA-256 of `data`, as a relying party or the signing command writes it.
    public static func derEncoded(sha256Of data: [UInt8], nonce: [UInt8]? = nil, certificateRequested: Bool = true) -> [UInt8] {
        var body: [UInt8] = [DERWriter.Tag.integer, 0x01, 0x01]
        var imprint = (try? DERHelpers.encode { try DERHelpers.serializeAlgorithmIdentifier(PKIObjectIdentifiers.sha256, nullParameters: false, into: &$0) }) ?? []
        DERWriter.append(DERWriter.Tag.octetString, Array(SHA256.hash(data: data)), to: &imprint)
        DERWriter.append(DERWriter.Tag.sequence, imprint, to: &body)
        if let nonce {
            // A positive INTEGER: minimal bytes, and a zero first when the high bit is set.
            let minimal = DERHelpers.minimalUnsigned(nonce.isEmpty ? [0] : nonce)
            DERWriter.append(DERWriter.Tag.integer, minimal[0] >= 0x80 ? [0] + minimal : minimal, to: &body)
        }
        if certificateRequested { body += [0x01, 0x01, 0xFF] }
        return DERWriter.element(DERWriter.Tag.sequence, body)
    }
}

/// The time-stamping authority (RFC 3161): signs `TSTInfo`s with its own key and certificate
/// (extended key usage timeStamping, critical, issued by our root).
///
/// Serial numbers are time-ordered with 80 random bits (``SerialNumberGenerator/next(at:)``),
/// unique without a database. Accepted imprints: SHA-256, SHA-384, SHA-512.
public struct TimeStampAuthority: Sendable {
    /// The policy OpenCPS's TSA stamps under. PLACEHOLDER under the documentation enterprise arc
    /// 32473 (RFC 5612), like the certificate policies: a real deployment sets its own.
    public static let placeholderPolicyOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 32473, 250, 71, 3, 1]

    /// The TSA's certificate.
    public let authority: AuthorityCertificate
    /// The policy written in every token.
    public let policy: ASN1ObjectIdentifier
    private let key: any PKISigningKey
    private let serials: SerialNumberGenerator

    /// Opens the TSA's key.
    /// - Parameters:
    ///   - authority: the TSA certificate of the hierarchy.
    ///   - keyStore: the store holding its key.
    ///   - policy: the TSA policy.
    ///   - random: the source of serial numbers.
    public init(authority: AuthorityCertificate, keyStore: any KeyStore, policy: ASN1ObjectIdentifier = placeholderPolicyOID,
                random: RandomBytes = .system) throws {
        self.authority = authority
        self.key = try authority.signingKey(in: keyStore)
        self.policy = policy
        self.serials = SerialNumberGenerator(random: random)
    }

    /// Answers a DER `TimeStampReq` with a DER `TimeStampResp`: granted with a token, or
    /// rejected with the RFC 3161 failure bit and a reason.
    public func respond(to request: [UInt8], now: Date) -> [UInt8] {
        let parsed: TimeStampRequest
        do {
            parsed = try TimeStampRequest(derEncoded: request)
        } catch {
            return Self.rejection(failureBit: 5, reason: "the request is not a DER TimeStampReq")
        }
        let lengths: [ASN1ObjectIdentifier: Int] = [PKIObjectIdentifiers.sha256: 32, [2, 16, 840, 1, 101, 3, 4, 2, 2]: 48, [2, 16, 840, 1, 101, 3, 4, 2, 3]: 64]
        guard let length = lengths[parsed.hashAlgorithm] else {
            return Self.rejection(failureBit: 0, reason: "the imprint's hash algorithm is not SHA-256, SHA-384 or SHA-512")
        }
        guard parsed.hashedMessage.count == length else {
            return Self.rejection(failureBit: 5, reason: "the imprint's length does not match its hash algorithm")
        }
        if let asked = parsed.policy, asked != policy {
            return Self.rejection(failureBit: 15, reason: "this authority stamps under policy \(policy) only")
        }
        if parsed.hasExtensions {
            return Self.rejection(failureBit: 16, reason: "no request extension is supported")
        }
        do {
            let token = try timeStampToken(algorithm: parsed.hashAlgorithm, hashedMessage: parsed.hashedMessage, nonce: parsed.nonce,
                                           includeCertificate: parsed.certificateRequested, now: now)
            // PKIStatusInfo { granted (0) }, then the token.
            return DERWriter.element(DERWriter.Tag.sequence, [0x30, 0x03, 0x02, 0x01, 0x00] + token)
        } catch {
            return Self.rejection(failureBit: 25, reason: "the authority could not sign")
        }
    }

    /// A DER time-stamp token (a `ContentInfo`) over `data`'s SHA-256, for the signing command
    /// and the tests that stamp without going through HTTP.
    public func timeStamp(sha256Of data: [UInt8], now: Date) throws -> [UInt8] {
        try timeStampToken(algorithm: PKIObjectIdentifiers.sha256, hashedMessage: Array(SHA256.hash(data: data)), nonce: nil,
                           includeCertificate: true, now: now)
    }

    private func timeStampToken(algorithm: ASN1ObjectIdentifier, hashedMessage: [UInt8], nonce: [UInt8]?, includeCertificate: Bool,
                                now: Date) throws -> [UInt8] {
        let time = DERTime.truncated(now)
        var info: [UInt8] = [DERWriter.Tag.integer, 0x01, 0x01]
        info += try DERHelpers.encode(policy)
        var imprint = try DERHelpers.encode { try DERHelpers.serializeAlgorithmIdentifier(algorithm, nullParameters: false, into: &$0) }
        DERWriter.append(DERWriter.Tag.octetString, hashedMessage, to: &imprint)
        DERWriter.append(DERWriter.Tag.sequence, imprint, to: &info)
        DERWriter.append(DERWriter.Tag.integer, serials.next(at: time).bytes, to: &info)
        info += try DERHelpers.encode(try DERTime.generalizedTime(time))
        // accuracy { seconds 1 }: genTime is truncated to the second.
        info += [0x30, 0x03, 0x02, 0x01, 0x01]
        if let nonce { DERWriter.append(DERWriter.Tag.integer, nonce, to: &info) }
        let tstInfo = DERWriter.element(DERWriter.Tag.sequence, info)
        let builder = try CAdESSignatureBuilder(
            contentType: CMSObjectIdentifiers.tstInfo, content: tstInfo, digest: Array(SHA256.hash(data: tstInfo)),
            signer: authority.certificate, chain: [], signingTime: time, includesSigner: includeCertificate)
        return try builder.signedData(signature: try key.sign(builder.signedAttributes))
    }

    /// `TimeStampResp { PKIStatusInfo { rejection (2), statusString, failInfo } }`.
    static func rejection(failureBit: Int, reason: String) -> [UInt8] {
        var text: [UInt8] = []
        DERWriter.append(DERWriter.Tag.utf8String, text: reason, to: &text)
        let byteCount = failureBit / 8 + 1
        var bits = [UInt8](repeating: 0, count: byteCount)
        bits[failureBit / 8] = 0x80 >> UInt8(failureBit % 8)
        let unused = UInt8(7 - failureBit % 8)
        var status: [UInt8] = [DERWriter.Tag.integer, 0x01, 0x02]
        DERWriter.append(DERWriter.Tag.sequence, text, to: &status)
        DERWriter.append(DERWriter.Tag.bitString, [unused] + bits, to: &status)
        return DERWriter.element(DERWriter.Tag.sequence, DERWriter.element(DERWriter.Tag.sequence, status))
    }
}
