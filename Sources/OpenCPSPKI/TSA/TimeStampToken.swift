import Crypto
import Foundation
import SwiftASN1
import X509

/// The `TSTInfo` of an RFC 3161 time-stamp token (§2.4.2): what the authority attests.
public struct TSTInfo: Sendable, Hashable {
    /// The TSA policy under which the token was made.
    public var policy: ASN1ObjectIdentifier
    /// The hash algorithm of the message imprint.
    public var hashAlgorithm: ASN1ObjectIdentifier
    /// The hash of the time-stamped data.
    public var hashedMessage: [UInt8]
    /// The token's serial number (the integer's bytes).
    public var serialNumber: [UInt8]
    /// The time attested.
    public var genTime: Date
    /// The requester's nonce, echoed.
    public var nonce: [UInt8]?

    /// Reads a DER `TSTInfo`.
    /// - Throws: ``PKIError`` `pki.asn1.malformed`.
    public init(derEncoded der: [UInt8]) throws {
        do {
            let fields = try CMSSignedData.children(try DER.parse(der))
            guard fields.count >= 5, try Int(derEncoded: fields[0]) == 1 else {
                throw PKIError.malformed("time-stamp", "TSTInfo version 1 with five fields expected")
            }
            policy = try ASN1ObjectIdentifier(derEncoded: fields[1])
            let imprint = try CMSSignedData.children(fields[2])
            guard imprint.count == 2 else { throw PKIError.malformed("time-stamp", "bad message imprint") }
            hashAlgorithm = try DERHelpers.parseAlgorithmIdentifier(imprint[0])
            hashedMessage = Array(try ASN1OctetString(derEncoded: imprint[1]).bytes)
            guard case .primitive(let serial) = fields[3].content else { throw PKIError.malformed("time-stamp", "bad serial number") }
            serialNumber = Array(serial)
            genTime = try DERTime.date(GeneralizedTime(derEncoded: fields[4]))
            nonce = nil
            for field in fields.dropFirst(5) where field.identifier == .integer {
                if case .primitive(let bytes) = field.content { nonce = Array(bytes) }
            }
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.malformed("time-stamp", "not a DER TSTInfo (\(error))")
        }
    }
}

/// Why a time-stamp token does not attest what it should.
public struct TimeStampFailure: Error, Sendable, Hashable {
    /// A stable code, such as `signature.time-stamp.other-data`.
    public var code: String
    /// Why.
    public var reason: String
}

/// An RFC 3161 time-stamp token: a CMS signed data whose content is a ``TSTInfo``.
public struct TimeStampToken: Sendable, Hashable {
    /// The token as signed data.
    public var signedData: CMSSignedData
    /// What it attests.
    public var info: TSTInfo

    /// Reads a DER `TimeStampToken` (a `ContentInfo`).
    public init(derEncoded der: [UInt8]) throws {
        signedData = try CMSSignedData(derEncoded: der)
        guard signedData.contentType == CMSObjectIdentifiers.tstInfo, let content = signedData.content else {
            throw PKIError.malformed("time-stamp", "the token's content is not a TSTInfo")
        }
        info = try TSTInfo(derEncoded: content)
    }

    /// Checks that the token is over `data`, signed by one of `authorities` (a TSA certificate
    /// with the critical timeStamping extended key usage, valid at the token's time).
    /// - Returns: the authority's certificate and the attested time.
    public func verify(over data: [UInt8], authorities: [Certificate]) throws(TimeStampFailure) -> (authority: Certificate, time: Date) {
        guard info.hashAlgorithm == PKIObjectIdentifiers.sha256 else {
            throw TimeStampFailure(code: "signature.time-stamp.unsupported", reason: "the token's imprint is not SHA-256")
        }
        guard info.hashedMessage == Array(SHA256.hash(data: data)) else {
            throw TimeStampFailure(code: "signature.time-stamp.other-data", reason: "the time-stamp token is over other data than this signature")
        }
        guard signedData.signerInfos.count == 1, let signer = signedData.signerInfos.first else {
            throw TimeStampFailure(code: "signature.time-stamp.malformed", reason: "a time-stamp token has one signer")
        }
        let known = signedData.certificates + authorities
        guard let certificate = SignerInfoCheck.signerCertificate(signer, in: known),
              let authority = authorities.first(where: { $0 == certificate }) else {
            throw TimeStampFailure(code: "signature.time-stamp.untrusted", reason: "the time-stamp token is not signed by an OpenCPS time-stamping authority")
        }
        do {
            try SignerInfoCheck.check(signer, contentDigest: Array(SHA256.hash(data: signedData.content ?? [])), certificate: authority)
        } catch {
            throw TimeStampFailure(code: "signature.time-stamp.invalid", reason: "the time-stamp token's own signature does not verify (\(error))")
        }
        guard authority.notValidBefore <= info.genTime, info.genTime <= authority.notValidAfter else {
            throw TimeStampFailure(code: "signature.time-stamp.authority-expired", reason: "the time-stamping authority's certificate was not valid at the token's time")
        }
        return (authority, info.genTime)
    }
}

/// An RFC 3161 `TimeStampResp`, as a client reads it.
public struct TimeStampResponse: Sendable, Hashable {
    /// `PKIStatus`: 0 granted, 1 granted with modifications, 2 rejection, ...
    public var status: Int
    /// The status text, when the authority gave one.
    public var statusText: String?
    /// The DER time-stamp token, when granted.
    public var token: [UInt8]?

    /// Reads a DER `TimeStampResp`.
    /// - Throws: ``PKIError`` `pki.asn1.malformed`.
    public init(derEncoded der: [UInt8]) throws {
        do {
            let fields = try CMSSignedData.children(try DER.parse(der))
            guard let info = fields.first else { throw PKIError.malformed("time-stamp reply", "no status") }
            let statusFields = try CMSSignedData.children(info)
            guard let first = statusFields.first else { throw PKIError.malformed("time-stamp reply", "no status") }
            status = try Int(derEncoded: first)
            statusText = nil
            if statusFields.count > 1, statusFields[1].identifier == .sequence {
                statusText = try CMSSignedData.children(statusFields[1]).compactMap { try? String(ASN1UTF8String(derEncoded: $0)) }.joined(separator: " ")
            }
            token = fields.count > 1 ? Array(fields[1].encodedBytes) : nil
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.malformed("time-stamp reply", "not a DER TimeStampResp (\(error))")
        }
    }
}
