import Foundation

/// A pending enrolment: a one-time code waiting for a device's keys.
///
/// Only the code's SHA-256 is stored. A code serves once; wrong codes are counted and the
/// enrolment is void after ``ECPSSettings/maximumCodeAttempts`` of them.
public struct ECPSEnrolment: Hashable, Sendable {
    /// The enrolment's identifier (in the QR payload).
    public let id: String
    /// Whose device will be enrolled.
    public var holder: IdNat
    /// Card (QR) or activation code.
    public var method: ECPSEnrolmentMethod
    /// The code's SHA-256, lower-case hex.
    public var codeDigest: String
    /// When it was asked for.
    public var createdAt: Date
    /// When the code stops being accepted.
    public var expiresAt: Date
    /// When a device used it; nil while unused.
    public var usedAt: Date?
    /// Wrong codes given for it so far.
    public var failedAttempts: Int

    /// Creates an enrolment.
    public init(
        id: String, holder: IdNat, method: ECPSEnrolmentMethod, codeDigest: String, createdAt: Date, expiresAt: Date,
        usedAt: Date? = nil, failedAttempts: Int = 0
    ) {
        self.id = id
        self.holder = holder
        self.method = method
        self.codeDigest = codeDigest
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.failedAttempts = failedAttempts
    }

    /// Throws unless a code may still be tried against this enrolment at `now`.
    /// - Throws: `ecps.enrolment-used`, `ecps.enrolment-expired`, or `ecps.too-many-attempts`
    ///   (until the code would have expired) once `maximumAttempts` wrong codes were given.
    public func checkOpen(at now: Date, maximumAttempts: Int) throws {
        if usedAt != nil { throw ECPSRuleError.enrolmentUsed }
        if now >= expiresAt { throw ECPSRuleError.enrolmentExpired }
        if failedAttempts >= maximumAttempts {
            throw ECPSRateLimited(
                retryAfter: Int(expiresAt.timeIntervalSince(now).rounded(.up)),
                reason: "too many wrong codes: this enrolment is void, ask for a new code")
        }
    }
}

/// The settings of e-CPS, with OpenCPS's defaults.
public struct ECPSSettings: Sendable, Equatable {
    /// How long a QR enrolment code is valid: 90 seconds (the national e-CPS's figure).
    public var qrCodeLifetime: TimeInterval = 90
    /// How long an activation code sent to the holder is valid: 15 minutes (OpenCPS's choice:
    /// a mail or a text may take a minute or two to arrive).
    public var activationCodeLifetime: TimeInterval = 15 * 60
    /// Wrong codes after which an enrolment is void: 5.
    public var maximumCodeAttempts: Int = 5
    /// Wrong codes from one address within ``addressWindow`` after which it must wait: 20.
    public var maximumAddressFailures: Int = 20
    /// The window of the per-address limit: 10 minutes.
    public var addressWindow: TimeInterval = 10 * 60
    /// How long an enrolled device serves before it must be reactivated: 12 months (OpenCPS's
    /// choice; the national app asks for a renewal about yearly).
    public var deviceValidityMonths: Int = 12
    /// How long a login request waits for the holder: 120 seconds.
    public var loginRequestLifetime: TimeInterval = 120
    /// The least interval, in seconds, between a CIBA client's polls: 5 (RFC-style default).
    public var pollInterval: Int = 5
    /// How far a device's clock may be from the server's in its proofs and approvals: 120 s.
    public var clockSkew: TimeInterval = 120
    /// How long a device's authentication certificate (from the *Élémentaire Personnes* CA)
    /// is valid: 24 hours, OpenCPS's default (no official figure): long enough for a working
    /// day, short enough that a lost phone's certificate ends on its own.
    public var deviceCertificateLifetime: TimeInterval = 24 * 3600
    /// How long after a login's approval its device may ask for a certificate: 10 minutes.
    public var certificateRequestWindow: TimeInterval = 10 * 60
    /// Where activation messages are written, since OpenCPS has no mail or SMS gateway; nil:
    /// `<data>/outbox/ecps`.
    public var outbox: URL?

    /// The defaults.
    public init() {}

    /// The expiry of a device enrolled at `date`.
    public func deviceExpiry(enrolledAt date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: .month, value: deviceValidityMonths, to: date) ?? date.addingTimeInterval(365 * 86_400)
    }
}
