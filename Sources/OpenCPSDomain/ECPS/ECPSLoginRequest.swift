import Foundation

/// A login waiting for the holder's decision on their e-CPS device: made by a CIBA client
/// (and later by the browser flow), answered by a device's signed approval or denial.
///
/// ```
/// pending ──approve──▶ approved ──tokens issued──▶ consumed
///    │ └────deny────▶ denied
///    └──(expiresAt passes)──▶ expired (read as such; never stored)
/// ```
public struct ECPSLoginRequest: Hashable, Sendable {
    /// The request's identifier (CIBA's `auth_req_id`).
    public let id: String
    /// Who is asked to log in.
    public var holder: IdNat
    /// The client that asked.
    public var clientID: String
    /// The client's name, shown on the device.
    public var clientName: String
    /// The text the client shows on its own screen, for the holder to compare ("" if none).
    public var bindingMessage: String
    /// The scopes asked for, space-separated.
    public var scope: String
    /// The server's single-use nonce, part of the signed approval.
    public var serverNonce: String
    /// When it was made.
    public var createdAt: Date
    /// When it stops waiting.
    public var expiresAt: Date
    /// Where it stands.
    public var state: ECPSLoginState
    /// The device that decided, once one did.
    public var deviceID: String?
    /// When the holder decided.
    public var decidedAt: Date?
    /// When the client last polled (for `slow_down`).
    public var lastPolledAt: Date?
    /// The least interval between polls, in seconds.
    public var interval: Int

    /// Creates a request.
    public init(
        id: String, holder: IdNat, clientID: String, clientName: String, bindingMessage: String, scope: String, serverNonce: String,
        createdAt: Date, expiresAt: Date, state: ECPSLoginState = .pending, deviceID: String? = nil, decidedAt: Date? = nil,
        lastPolledAt: Date? = nil, interval: Int
    ) {
        self.id = id
        self.holder = holder
        self.clientID = clientID
        self.clientName = clientName
        self.bindingMessage = bindingMessage
        self.scope = scope
        self.serverNonce = serverNonce
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.state = state
        self.deviceID = deviceID
        self.decidedAt = decidedAt
        self.lastPolledAt = lastPolledAt
        self.interval = interval
    }

    /// Whether it still waits for a decision at `now`.
    public func isPending(at now: Date) -> Bool { state == .pending && now < expiresAt }

    /// Records a decision, refusing any but the first and any after expiry.
    /// - Throws: `ecps.request-expired` or `ecps.request-decided`.
    public mutating func decide(_ approve: Bool, device: String, at now: Date) throws {
        guard state == .pending else { throw ECPSRuleError.requestDecided }
        guard now < expiresAt else { throw ECPSRuleError.requestExpired }
        state = approve ? .approved : .denied
        deviceID = device
        decidedAt = now
    }
}

/// Where a login request stands.
public enum ECPSLoginState: String, Sendable, Codable, CaseIterable {
    /// Waiting for the holder.
    case pending
    /// The holder approved; the client may collect its tokens once.
    case approved
    /// The holder refused.
    case denied
    /// The client collected its tokens.
    case consumed
}

/// Refusals of e-CPS's rules, each with a stable code.
public struct ECPSRuleError: DomainError, Equatable {
    /// The stable code.
    public let code: String
    /// A sentence for a person.
    public let reason: String

    /// Creates an error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The device was revoked by its holder.
    public static let deviceRevoked = Self(code: "ecps.device-revoked", reason: "this e-CPS device was revoked")
    /// The device's validity ended.
    public static let deviceExpired = Self(code: "ecps.device-expired", reason: "this e-CPS device has expired: enrol it again to reactivate it")
    /// No device has this identifier (or it is not the caller's).
    public static let deviceUnknown = Self(code: "ecps.device-unknown", reason: "no such e-CPS device")
    /// The enrolment code was used already.
    public static let enrolmentUsed = Self(code: "ecps.enrolment-used", reason: "this enrolment code was used already")
    /// The enrolment code's time is over.
    public static let enrolmentExpired = Self(code: "ecps.enrolment-expired", reason: "this enrolment code has expired: ask for a new one")
    /// The code (or enrolment) does not match.
    public static let wrongCode = Self(code: "ecps.wrong-code", reason: "the enrolment code is wrong")
    /// A device's proof of its key did not verify, or is too old.
    public static let badProof = Self(code: "ecps.bad-proof", reason: "the device's proof does not verify or is out of date")
    /// An approval's signature did not verify with the device's approval key.
    public static let badApproval = Self(code: "ecps.bad-approval", reason: "the approval's signature does not verify with this device's approval key")
    /// No pending login request has this identifier for this holder.
    public static let requestUnknown = Self(code: "ecps.request-unknown", reason: "no such login request")
    /// The login request was decided already.
    public static let requestDecided = Self(code: "ecps.request-decided", reason: "this login request was decided already")
    /// The login request's time is over.
    public static let requestExpired = Self(code: "ecps.request-expired", reason: "this login request has expired")
    /// The holder has no card in service.
    public static let noActiveCard = Self(
        code: "ecps.no-active-card", reason: "the holder has no active card: e-CPS serves only holders of an active CPS, CPF, CPE or CPA")
    /// The holder has no registered contact to send an activation code to.
    public static let noContact = Self(code: "ecps.no-contact", reason: "the holder has no registered e-mail address or phone number")
}

/// Too many failed attempts from one address or on one enrolment: the caller must wait.
public struct ECPSRateLimited: RateLimitedError, Equatable {
    /// Seconds to wait.
    public let retryAfter: Int
    /// A sentence for a person.
    public let reason: String
    /// The stable code.
    public var code: String { "ecps.too-many-attempts" }

    /// Creates the refusal.
    public init(retryAfter: Int, reason: String) {
        self.retryAfter = max(1, retryAfter)
        self.reason = reason
    }
}
