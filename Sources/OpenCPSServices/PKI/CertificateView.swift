import Foundation
import OpenCPSPKI
import OpenCPSPersistence

/// Where a certificate stands: in service, revoked for good, or on hold (a suspension).
public enum CertificateStatus: String, Sendable, Hashable {
    /// Not revoked, or a hold was released.
    case good
    /// Revoked, with a reason other than a hold.
    case revoked
    /// Held (`certificateHold`): a suspended card's certificate, which can be released.
    case onHold = "on-hold"
}

/// A certificate the PKI issued, as operators read it: what it is and where it stands.
public struct CertificateView: Sendable, Hashable {
    /// The issuing CA's slug.
    public var issuer: String
    /// The serial, hex.
    public var serial: String
    /// `authentication` or `signature`.
    public var profile: String
    /// The subject, as text.
    public var subject: String
    /// Start of validity.
    public var notBefore: Date
    /// End of validity.
    public var notAfter: Date
    /// The certificate, DER.
    public var der: [UInt8]
    /// Its status now.
    public var status: CertificateStatus
    /// When it was revoked or held, unless it is good.
    public var revokedAt: Date?
    /// Why, unless it is good.
    public var reason: RevocationReason?

    /// The view of a stored certificate: a released hold is good again.
    init(_ stored: StoredCertificate) {
        let revoked = stored.revokedAt != nil && stored.releasedAt == nil
        issuer = stored.issuer
        serial = stored.serial
        profile = stored.profile
        subject = stored.subject
        notBefore = stored.notBeforeDate
        notAfter = stored.notAfterDate
        der = stored.derBytes
        status = !revoked ? .good : (stored.reason == CertificateRepository.holdReason ? .onHold : .revoked)
        revokedAt = revoked ? stored.revokedDate : nil
        reason = revoked ? stored.reason.flatMap(RevocationReason.init(rawValue:)) : nil
    }

    /// The certificate in PEM.
    public var pem: String {
        "-----BEGIN CERTIFICATE-----\n" + Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            + "\n-----END CERTIFICATE-----\n"
    }
}
