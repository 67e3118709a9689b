import Foundation

/// The provider's lifetimes and limits (DESIGN.md §4 gives the defaults).
public struct OIDCSettings: Sendable, Equatable {
    /// The issuer (`iss`): the public base URL.
    public var issuer: String
    /// Access tokens live 2 minutes.
    public var accessTokenLifetime: TimeInterval = 120
    /// ID tokens live as long as access tokens.
    public var idTokenLifetime: TimeInterval = 120
    /// Refresh tokens live 30 minutes (each refresh rotates them).
    public var refreshTokenLifetime: TimeInterval = 30 * 60
    /// An SSO session lasts 4 hours at most...
    public var sessionLifetime: TimeInterval = 4 * 3600
    /// ... and ends after 30 minutes without use.
    public var sessionIdleTimeout: TimeInterval = 30 * 60
    /// Authorization codes are spent within 60 seconds.
    public var codeLifetime: TimeInterval = 60
    /// A card login challenge is answered within 2 minutes.
    public var challengeLifetime: TimeInterval = 120
    /// The signing key is replaced after 30 days; the old one stays published until the last
    /// token it signed has expired.
    public var keyRotationInterval: TimeInterval = 30 * 24 * 3600
    /// Failed attempts allowed per key (client, card, address) in one window...
    public var maximumFailures: Int = 10
    /// ... of this length.
    public var failureWindow: TimeInterval = 300

    /// Settings with the defaults.
    public init(issuer: String) {
        self.issuer = issuer
    }
}
