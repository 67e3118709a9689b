import Foundation

/// A phone (or the command-line stand-in) enrolled as a holder's e-CPS authenticator.
///
/// It holds two public keys: the *device key* proves which device asks for its pending
/// requests, the *approval key* (sealed under the device PIN on the device) signs each
/// decision. A device serves until it expires (``ECPSSettings/deviceValidityMonths``) or its
/// holder revokes it; a new enrolment of the same device key reactivates an expired one.
public struct ECPSDevice: Hashable, Sendable {
    /// The server's identifier of the device.
    public let id: String
    /// Whose device it is.
    public var holder: IdNat
    /// A name the holder gave it ("Pixel de travail").
    public var label: String
    /// The device key, SubjectPublicKeyInfo DER in base64url.
    public var deviceKey: String
    /// The approval key, SubjectPublicKeyInfo DER in base64url.
    public var approvalKey: String
    /// How it was enrolled.
    public var method: ECPSEnrolmentMethod
    /// When it was first enrolled.
    public var createdAt: Date
    /// When it was last enrolled (created or reactivated).
    public var enrolledAt: Date
    /// When it stops serving, unless reactivated.
    public var expiresAt: Date
    /// When its holder revoked it; nil while not revoked.
    public var revokedAt: Date?

    /// Creates a device.
    public init(
        id: String, holder: IdNat, label: String, deviceKey: String, approvalKey: String, method: ECPSEnrolmentMethod,
        createdAt: Date, enrolledAt: Date, expiresAt: Date, revokedAt: Date? = nil
    ) {
        self.id = id
        self.holder = holder
        self.label = label
        self.deviceKey = deviceKey
        self.approvalKey = approvalKey
        self.method = method
        self.createdAt = createdAt
        self.enrolledAt = enrolledAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Its status at an instant.
    public func status(at now: Date) -> ECPSDeviceStatus {
        if revokedAt != nil { return .revoked }
        return now < expiresAt ? .active : .expired
    }

    /// Throws unless the device may approve a login at `now`.
    /// - Throws: `ecps.device-revoked` or `ecps.device-expired`.
    public func checkUsable(at now: Date) throws {
        switch status(at: now) {
        case .active: return
        case .revoked: throw ECPSRuleError.deviceRevoked
        case .expired: throw ECPSRuleError.deviceExpired
        }
    }
}

/// Whether a device serves.
public enum ECPSDeviceStatus: String, Sendable, Codable, CaseIterable {
    /// It approves logins.
    case active
    /// Its validity ended: a new enrolment reactivates it.
    case expired
    /// Its holder revoked it: it never serves again (a new enrolment makes a new device).
    case revoked
}

/// How a device was enrolled.
public enum ECPSEnrolmentMethod: String, Sendable, Codable, CaseIterable {
    /// With a one-time code shown as a QR code to a card-authenticated holder (valid 90 s).
    case card
    /// With an activation code sent to the holder's registered e-mail address or phone.
    case activation
}
