import Crypto
import Foundation
import OpenCPSDomain
import SwiftASN1
import X509

/// Where the certificate of a signer stands, as the platform's revocation data says
/// (the same data OCSP answers and CRLs are made from).
public enum SignerCertificateStatus: Sendable, Hashable {
    /// This PKI has no record of issuing it.
    case notIssued
    /// Issued, never revoked.
    case good
    /// Revoked or held at some time (a released hold carries its release).
    case revoked(RevocationRecord)
}

/// Verifies CMS / CAdES detached signatures of documents (DESIGN.md §5): integrity, the
/// signature time-stamp, the chain to our root at the signing time, revocation at the signing
/// time and now, and the signing policy of ``SigningPolicy``.
///
/// The signing time the checks use is the time-stamp's when the signature carries a valid one
/// from our time-stamping authority; otherwise the signer's claim is reported but the
/// certificate must be valid and unrevoked now.
public struct CAdESVerifier: Sendable {
    /// Looks a signer's certificate up by issuing CA slug and serial.
    public typealias StatusLookup = @Sendable (_ issuer: String, _ serial: Certificate.SerialNumber) async throws -> SignerCertificateStatus

    private let hierarchy: PKIHierarchy
    private let timeStampAuthorities: [Certificate]
    private let status: StatusLookup?

    /// Creates a verifier.
    /// - Parameters:
    ///   - hierarchy: our root and issuing CAs, the only trust anchors.
    ///   - timeStampAuthorities: the TSA certificates whose tokens are trusted.
    ///   - status: the revocation data; nil leaves both revocation verdicts not checked.
    public init(hierarchy: PKIHierarchy, timeStampAuthorities: [Certificate], status: StatusLookup?) {
        self.hierarchy = hierarchy
        self.timeStampAuthorities = timeStampAuthorities
        self.status = status
    }

    /// Verifies `signature` (DER or PEM CMS) over `document`, as a document of `type`.
    /// - Parameter now: the time of the verification.
    public func verify(document: some DataProtocol, signature: [UInt8], as type: SignedDocumentType, now: Date) async -> SignatureVerification {
        let skipped = SignatureVerdict.notChecked("not checked: the signature's integrity failed")
        var result = SignatureVerification(
            signer: nil, signerCertificate: nil, issuerSlug: nil, signingTime: nil, signingTimeSource: .claimed, claimedSigningTime: nil,
            documentType: type, integrity: skipped, timeStamp: nil, chain: skipped, revocationAtSigningTime: skipped,
            revocationNow: skipped, policy: skipped)
        let signedData: CMSSignedData
        do {
            signedData = try CMSSignedData(derEncoded: signature)
        } catch {
            result.integrity = .failed("signature.integrity.malformed", "the signature is not a CMS signed data: \((error as? PKIError)?.reason ?? "\(error)")")
            return result
        }
        guard signedData.contentType == CMSObjectIdentifiers.data, signedData.signerInfos.count == 1, let info = signedData.signerInfos.first else {
            result.integrity = .failed("signature.integrity.malformed", "a document signature has one signer and signs id-data content")
            return result
        }
        guard let certificate = SignerInfoCheck.signerCertificate(info, in: signedData.certificates) else {
            result.integrity = .failed("signature.integrity.signer-certificate-missing", "the signature does not carry its signer's certificate")
            return result
        }
        result.signerCertificate = certificate
        result.signer = try? CardCertificateReader.holder(of: certificate)
        result.claimedSigningTime = SignerInfoCheck.signingTime(info)
        let digest = Array(SHA256.hash(data: signedData.content.map { Array($0) } ?? Array(document)))
        result.integrity = Self.integrity(info, digest: digest, certificate: certificate)
        guard result.integrity.status == .passed else { return result }

        // The time the checks use.
        var validationTime = now
        result.signingTime = result.claimedSigningTime
        if let token = info.unsignedAttributes.first(where: { $0.type == CMSObjectIdentifiers.signatureTimeStampToken })?.values.first {
            do {
                let stamped = try TimeStampToken(derEncoded: token).verify(over: info.signature, authorities: timeStampAuthorities)
                result.timeStamp = .passed("signature.time-stamp.valid", "time-stamped at \(Self.text(stamped.time)) by \(Self.commonName(stamped.authority))")
                result.signingTime = stamped.time
                result.signingTimeSource = .timeStamped
                validationTime = stamped.time
            } catch let failure as TimeStampFailure {
                result.timeStamp = .failed(failure.code, failure.reason)
            } catch {
                result.timeStamp = .failed("signature.time-stamp.malformed", "the time-stamp token is unreadable: \((error as? PKIError)?.reason ?? "\(error)")")
            }
        }
        result.chain = chain(certificate, at: validationTime, source: result.signingTimeSource, slug: &result.issuerSlug)
        result.policy = Self.policy(result.signer, type: type)
        if result.chain.status == .passed, let slug = result.issuerSlug {
            (result.revocationAtSigningTime, result.revocationNow) = await revocation(
                certificate, issuer: slug, signingTime: result.signingTime ?? now, source: result.signingTimeSource, now: now)
        } else if result.chain.status != .passed {
            let reason = SignatureVerdict.notChecked("not checked: the certificate does not chain to an OpenCPS CA")
            (result.revocationAtSigningTime, result.revocationNow) = (reason, reason)
        }
        return result
    }

    private static func integrity(_ info: CMSSignerInfo, digest: [UInt8], certificate: Certificate) -> SignatureVerdict {
        do {
            try SignerInfoCheck.check(info, contentDigest: digest, certificate: certificate)
            return .passed("signature.integrity.valid", "the document is the one signed and the signature is the certificate key's")
        } catch {
            switch error {
            case .contentAltered:
                return .failed("signature.integrity.document-altered", "the document's SHA-256 is not the signed message digest: the document was altered")
            case .signatureInvalid:
                return .failed("signature.integrity.signature-invalid",
                               "the signature does not verify over the signed attributes with the certificate's key: the attributes were altered or another key signed")
            case .signingCertificateMismatch:
                return .failed("signature.integrity.signing-certificate-mismatch", "the signing-certificate-v2 attribute names another certificate")
            case .noSignedAttributes:
                return .failed("signature.integrity.no-signed-attributes", "the signature has no signed attributes (CAdES requires them)")
            case .unsupportedAlgorithm(let what):
                return .failed("signature.integrity.unsupported-algorithm", "unsupported algorithm: \(what) (SHA-256 with RSA or ECDSA P-256 only)")
            case .signerCertificateMissing:
                return .failed("signature.integrity.signer-certificate-missing", "the signature does not carry its signer's certificate")
            }
        }
    }

    private func chain(_ certificate: Certificate, at time: Date, source: SigningTimeSource, slug: inout String?) -> SignatureVerdict {
        let when = source == .timeStamped ? "at the time-stamped signing time" : "now (the signing time is only claimed)"
        guard let authority = hierarchy.issuingAuthorities.first(where: { authority in
            authority.ca.certificate.subject == certificate.issuer
                && authority.ca.certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        }) else {
            return .failed("signature.chain.untrusted", "the signer's certificate was not issued by an OpenCPS CA: its key was never certified here")
        }
        slug = authority.slug
        if time > certificate.notValidAfter {
            return .failed("signature.chain.certificate-expired", "the signer's certificate expired on \(Self.text(certificate.notValidAfter)), before \(when)")
        }
        if time < certificate.notValidBefore {
            return .failed("signature.chain.certificate-not-yet-valid", "the signer's certificate is valid from \(Self.text(certificate.notValidBefore)), after \(when)")
        }
        guard let usage = try? certificate.extensions.keyUsage, usage.nonRepudiation else {
            return .failed("signature.chain.not-a-signature-certificate", "the signer's certificate is not a signature certificate (no nonRepudiation key usage)")
        }
        // The CA certificates are ours and were checked against the root when the hierarchy was
        // loaded: the chain is the signer's certificate, its CA, the root, each valid at the time.
        for link in [authority.ca.certificate, hierarchy.root.certificate] where !(link.notValidBefore...link.notValidAfter).contains(time) {
            return .failed("signature.chain.invalid", "\(Self.commonName(link)) was not valid \(when)")
        }
        return .passed("signature.chain.valid", "issued by \(Self.commonName(authority.ca.certificate)) under the OpenCPS root, valid \(when)")
    }

    private func revocation(
        _ certificate: Certificate, issuer: String, signingTime: Date, source: SigningTimeSource, now: Date
    ) async -> (atSigningTime: SignatureVerdict, now: SignatureVerdict) {
        guard let status else {
            let reason = SignatureVerdict.notChecked("not checked: no revocation data was given to this verifier")
            return (reason, reason)
        }
        let state: SignerCertificateStatus
        do {
            state = try await status(issuer, certificate.serialNumber)
        } catch {
            let reason = SignatureVerdict.notChecked("not checked: the revocation data could not be read")
            return (reason, reason)
        }
        switch state {
        case .notIssued:
            let failed = SignatureVerdict.failed("signature.revocation.unknown-certificate", "the CA has no record of issuing this certificate")
            return (failed, failed)
        case .good:
            return (.passed("signature.revocation.good", "not revoked at the signing time"), .passed("signature.revocation.good", "not revoked"))
        case .revoked(let record):
            let what = record.reason == .certificateHold ? "put on hold" : "revoked (\(record.reason))"
            let atSigning: SignatureVerdict = record.isRevoked(at: signingTime)
                ? .failed("signature.revocation.revoked-before-signing", "the certificate was \(what) on \(Self.text(record.revokedAt)), before the signing time")
                : .passed("signature.revocation.good", "not revoked at the signing time")
            let current: SignatureVerdict
            if !record.isRevoked(at: now) {
                current = .passed("signature.revocation.good", "not revoked")
            } else if source == .timeStamped, !record.isRevoked(at: signingTime) {
                current = .passed("signature.revocation.revoked-after-time-stamp",
                                  "\(what) on \(Self.text(record.revokedAt)), after the time-stamped signing time: the signature stays valid")
            } else {
                current = .failed("signature.revocation.revoked", "the certificate is \(what) since \(Self.text(record.revokedAt)) and no time-stamp shows the signature predates it")
            }
            return (atSigning, current)
        }
    }

    private static func policy(_ signer: CardCertificateHolder?, type: SignedDocumentType) -> SignatureVerdict {
        guard let qualification = signer?.qualification else {
            return .failed("signature.policy.not-a-card", "the signer's certificate has no card type: it is not a card's")
        }
        do {
            try SigningPolicy.check(qualification, maySign: type)
            return .passed("signature.policy.allowed", "a \(qualification.cardType.code) of \(qualification.profession?.label ?? "no profession") may sign a \(type.code)")
        } catch {
            return .failed(error.code, error.reason)
        }
    }

    private static func commonName(_ certificate: Certificate) -> String {
        for rdn in certificate.subject { for attribute in rdn where attribute.type == .RDNAttributeType.commonName { return String(attribute.value) ?? "" } }
        return "\(certificate.subject)"
    }

    static func text(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
