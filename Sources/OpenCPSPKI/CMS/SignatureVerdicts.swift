import Foundation
import OpenCPSDomain
import X509

/// One named verdict of a signature verification: passed, failed or not checked, with a stable
/// code and a reason for people.
public struct SignatureVerdict: Sendable, Hashable, Codable {
    /// The outcome.
    public enum Status: String, Sendable, Hashable, Codable {
        /// The check passed.
        case passed
        /// The check failed: the signature is not valid.
        case failed
        /// The check could not be made (an earlier check failed, or no source was given).
        case notChecked = "not-checked"
    }

    /// The outcome.
    public var status: Status
    /// A stable code, such as `signature.integrity.document-altered`.
    public var code: String
    /// Why, for people.
    public var reason: String

    /// Creates a verdict.
    public init(_ status: Status, code: String, reason: String) {
        self.status = status
        self.code = code
        self.reason = reason
    }

    /// A passed check.
    static func passed(_ code: String, _ reason: String) -> SignatureVerdict { .init(.passed, code: code, reason: reason) }
    /// A failed check.
    static func failed(_ code: String, _ reason: String) -> SignatureVerdict { .init(.failed, code: code, reason: reason) }
    /// A check not made.
    static func notChecked(_ reason: String) -> SignatureVerdict { .init(.notChecked, code: "signature.not-checked", reason: reason) }
}

/// Where the signing time the checks use comes from.
public enum SigningTimeSource: String, Sendable, Hashable, Codable {
    /// The signer's own signing-time attribute: not proof of anything, so the certificate must
    /// be valid and unrevoked now.
    case claimed
    /// A time-stamp token of a trusted time-stamping authority over the signature.
    case timeStamped = "time-stamped"
}

/// What a verification found: who signed, when, and one verdict per check.
public struct SignatureVerification: Sendable, Hashable {
    /// The signer as the signature certificate names them, when it was found.
    public var signer: CardCertificateHolder?
    /// The signature certificate, when it was found.
    public var signerCertificate: Certificate?
    /// The slug of the CA that issued it, when it is one of ours.
    public var issuerSlug: String?
    /// The signing time the checks use.
    public var signingTime: Date?
    /// Where it comes from.
    public var signingTimeSource: SigningTimeSource
    /// The time the signer claims (signing-time attribute), when present.
    public var claimedSigningTime: Date?
    /// The document type judged by the policy.
    public var documentType: SignedDocumentType
    /// The document is the one signed, and the signature is the signer's over its attributes.
    public var integrity: SignatureVerdict
    /// The signature time-stamp, when there is one: over this signature, by our TSA.
    public var timeStamp: SignatureVerdict?
    /// The certificate chains to our root and was valid at the signing time.
    public var chain: SignatureVerdict
    /// The certificate was not revoked (nor on hold) at the signing time.
    public var revocationAtSigningTime: SignatureVerdict
    /// The certificate's status now (a revocation after a time-stamped signature does not fail it).
    public var revocationNow: SignatureVerdict
    /// The signer may sign this document type.
    public var policy: SignatureVerdict

    /// Whether every check passed. A revocation after a time-stamped signing time passes
    /// `revocationNow` (with its own code); after a merely claimed one it fails it.
    public var isValid: Bool {
        let required = [integrity, chain, revocationAtSigningTime, revocationNow, policy] + (timeStamp.map { [$0] } ?? [])
        return required.allSatisfy { $0.status == .passed }
    }
}
