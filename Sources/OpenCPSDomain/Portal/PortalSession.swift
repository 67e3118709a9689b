import Foundation

/// A professional's session in the web portal, kept on the server. The browser holds only
/// the random identifier (in a cookie); the row is found by the identifier's SHA-256.
public struct PortalSession: Sendable, Equatable {
    /// The SHA-256 (hex) of the cookie's identifier.
    public var idDigest: String
    /// The logged-in professional.
    public var idNat: IdNat
    /// The token every form of the session carries and every POST must return.
    public var csrfToken: String
    /// The provider's ID token, kept for the end-session request at logout.
    public var idToken: String
    /// When the session was opened.
    public var createdAt: Date
    /// When it was last used (the idle timeout runs from here).
    public var lastUsedAt: Date
    /// When it ends whatever the use.
    public var expiresAt: Date
    /// When it was ended (logout), if it was.
    public var endedAt: Date?

    /// Creates a session value.
    public init(idDigest: String, idNat: IdNat, csrfToken: String, idToken: String, createdAt: Date, lastUsedAt: Date, expiresAt: Date, endedAt: Date? = nil) {
        self.idDigest = idDigest
        self.idNat = idNat
        self.csrfToken = csrfToken
        self.idToken = idToken
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.endedAt = endedAt
    }

    /// Whether the session still serves at `now`: not ended, not expired, not idle too long.
    public func isActive(at now: Date, idleTimeout: TimeInterval) -> Bool {
        endedAt == nil && now < expiresAt && now.timeIntervalSince(lastUsedAt) < idleTimeout
    }
}
