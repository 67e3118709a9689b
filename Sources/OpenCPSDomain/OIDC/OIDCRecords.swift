import Foundation

/// What an authorization request asked for, kept with its card login challenge or code.
public struct OIDCAuthorizationRequest: Sendable, Equatable {
    /// The client.
    public var clientID: String
    /// The redirect URI, one of the client's, exactly.
    public var redirectURI: String
    /// The scopes granted, space-separated.
    public var scope: String
    /// The client's `state`, returned untouched.
    public var state: String?
    /// The client's `nonce`, put into the ID token.
    public var nonce: String?
    /// The PKCE S256 challenge.
    public var codeChallenge: String

    /// Creates the request.
    public init(clientID: String, redirectURI: String, scope: String, state: String?, nonce: String?, codeChallenge: String) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scope = scope
        self.state = state
        self.nonce = nonce
        self.codeChallenge = codeChallenge
    }
}

/// A card login transaction: random bytes the card signs, for one authorization request.
public struct OIDCLoginChallenge: Sendable, Equatable {
    /// Its identifier, given to the user agent.
    public var id: String
    /// The bytes to sign, base64url.
    public var challenge: String
    /// The authorization request it answers.
    public var request: OIDCAuthorizationRequest
    /// When it was made.
    public var createdAt: Date
    /// When it can no longer be answered.
    public var expiresAt: Date
    /// When it was answered (once only).
    public var usedAt: Date?

    /// Creates a challenge.
    public init(id: String, challenge: String, request: OIDCAuthorizationRequest, createdAt: Date, expiresAt: Date, usedAt: Date? = nil) {
        self.id = id
        self.challenge = challenge
        self.request = request
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }

    /// The bytes the card signs: a fixed label, the challenge and the client, so that a
    /// signature made for one purpose cannot be replayed for another.
    public var signedMessage: [UInt8] {
        Array("OpenCPS card login\n\(challenge)\n\(request.clientID)".utf8)
    }
}

/// An SSO session: one login, shared by every client the professional uses until it ends.
public struct OIDCSession: Sendable, Equatable {
    /// Its identifier (also the browser cookie's value).
    public var id: String
    /// Who logged in, with what and when.
    public var subject: AuthenticatedSubject
    /// Last use (the idle timeout counts from it).
    public var lastUsedAt: Date
    /// The absolute end.
    public var expiresAt: Date
    /// When it was ended (logout, card blocked), if it was.
    public var endedAt: Date?
    /// Why it was ended.
    public var endReason: String?

    /// Creates a session.
    public init(id: String, subject: AuthenticatedSubject, lastUsedAt: Date, expiresAt: Date, endedAt: Date? = nil, endReason: String? = nil) {
        self.id = id
        self.subject = subject
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.endedAt = endedAt
        self.endReason = endReason
    }

    /// Whether it still logs the professional in at `now`.
    public func isActive(at now: Date, idleTimeout: TimeInterval) -> Bool {
        Self.isActive(endedAt: endedAt, expiresAt: expiresAt, lastUsedAt: lastUsedAt, at: now, idleTimeout: idleTimeout)
    }

    /// Whether a session with these dates is active at `now`: not ended, not expired, not idle
    /// longer than `idleTimeout` (for a reader that has the dates without the whole session).
    public static func isActive(endedAt: Date?, expiresAt: Date, lastUsedAt: Date, at now: Date, idleTimeout: TimeInterval) -> Bool {
        endedAt == nil && now < expiresAt && now < lastUsedAt.addingTimeInterval(idleTimeout)
    }
}

/// An authorization code, kept by its digest only.
public struct OIDCAuthorizationCode: Sendable, Equatable {
    /// SHA-256 (hex) of the code.
    public var digest: String
    /// The session it was issued in.
    public var sessionID: String
    /// The request it answers.
    public var request: OIDCAuthorizationRequest
    /// When it was issued.
    public var createdAt: Date
    /// When it can no longer be redeemed.
    public var expiresAt: Date
    /// When it was redeemed (a second redemption revokes what the first issued).
    public var usedAt: Date?

    /// Creates a code record.
    public init(digest: String, sessionID: String, request: OIDCAuthorizationRequest, createdAt: Date, expiresAt: Date, usedAt: Date? = nil) {
        self.digest = digest
        self.sessionID = sessionID
        self.request = request
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// A refresh token, kept by its digest. Each use rotates it; the tokens that descend from
/// one code form a family, revoked whole when a used token comes back (reuse detection).
public struct OIDCRefreshToken: Sendable, Equatable {
    /// SHA-256 (hex) of the token.
    public var digest: String
    /// The family: the digest of the code it descends from.
    public var familyID: String
    /// The session.
    public var sessionID: String
    /// The client.
    public var clientID: String
    /// The scopes.
    public var scope: String
    /// Issue time.
    public var createdAt: Date
    /// End of life.
    public var expiresAt: Date
    /// When it was exchanged for a new one.
    public var usedAt: Date?
    /// When it was revoked.
    public var revokedAt: Date?

    /// Creates a refresh token record.
    public init(
        digest: String, familyID: String, sessionID: String, clientID: String, scope: String, createdAt: Date, expiresAt: Date,
        usedAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.digest = digest
        self.familyID = familyID
        self.sessionID = sessionID
        self.clientID = clientID
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.revokedAt = revokedAt
    }
}

/// An issued access token's identifier (`jti`) and what introspection answers about it.
public struct OIDCAccessTokenRecord: Sendable, Equatable {
    /// The `jti`.
    public var jti: String
    /// The family (the code it descends from).
    public var familyID: String
    /// The session.
    public var sessionID: String
    /// The client.
    public var clientID: String
    /// The subject's idNat.
    public var idNat: String
    /// The scopes.
    public var scope: String
    /// Issue time.
    public var createdAt: Date
    /// End of life.
    public var expiresAt: Date
    /// When it was revoked.
    public var revokedAt: Date?

    /// Creates the record.
    public init(
        jti: String, familyID: String, sessionID: String, clientID: String, idNat: String, scope: String, createdAt: Date, expiresAt: Date,
        revokedAt: Date? = nil
    ) {
        self.jti = jti
        self.familyID = familyID
        self.sessionID = sessionID
        self.clientID = clientID
        self.idNat = idNat
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}
