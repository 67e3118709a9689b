import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// What userinfo answers: JSON, or a signed JWT for a client that registered for it.
public enum OIDCUserinfo: Sendable, Equatable {
    /// Plain JSON claims.
    case json([String: JSONValue])
    /// A JWS over the claims (`application/jwt`).
    case jwt(String)
}

/// The token endpoint's grants (authorization code with PKCE, refresh token with rotation and
/// reuse detection), introspection (RFC 7662), revocation (RFC 7009), userinfo and
/// end-session. A token is active only while its SSO session is: ending the session (logout,
/// a blocked card) makes every token of it inactive on the next call, on every node.
public final class OIDCTokens: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let settings: OIDCSettings
    private let keys: OIDCKeys
    private let claims: OIDCClaims
    private let issuer: OIDCTokenIssuer
    private let limits: OIDCLimits

    init(
        database: ServiceDatabase, clock: any WallClock, settings: OIDCSettings, keys: OIDCKeys, claims: OIDCClaims, issuer: OIDCTokenIssuer,
        limits: OIDCLimits
    ) {
        self.database = database
        self.clock = clock
        self.settings = settings
        self.keys = keys
        self.claims = claims
        self.issuer = issuer
        self.limits = limits
    }

    private var repository: OIDCRepository { OIDCRepository(database: database.current, clock: clock) }

    private func revokeFamily(_ family: String, reason: String, client: String) async throws {
        let now = clock.now()
        try await database.transaction { _ in
            let repository = self.repository
            try await repository.record([AuditEvent(actor: client, action: "oidc.token.revoke-family", entityType: "oidc-family", entityID: family, detail: reason)])
            try await repository.revokeFamily(family, at: now)
        }
    }

    /// `grant_type=authorization_code`: the code, its redirect URI and the PKCE verifier.
    /// The caller authenticated `client` just before, which checked the limits of these keys.
    public func exchange(code: String?, redirectURI: String?, verifier: String?, client: OIDCClient, address: String) async throws -> OIDCTokenResponse {
        let failureKeys = ["client:\(client.id)", "address:\(address)"]
        guard let code, let stored = try await repository.code(digest: OIDCTokenIssuer.digest(code)) else {
            try await limits.fail(failureKeys)
            throw OIDCError(.invalidGrant, code: "oidc.code.unknown", reason: "unknown authorization code")
        }
        guard stored.request.clientID == client.id else {
            try await limits.fail(failureKeys)
            throw OIDCError(.invalidGrant, code: "oidc.code.other-client", reason: "the code was issued to another client")
        }
        if stored.usedAt != nil {
            // RFC 6749 §4.1.2: a code used twice revokes what it issued.
            try await revokeFamily(stored.digest, reason: "code reused", client: client.id)
            throw OIDCError(.invalidGrant, code: "oidc.code.reused", reason: "the code was already redeemed; what it issued is revoked")
        }
        guard clock.now() < stored.expiresAt else {
            throw OIDCError(.invalidGrant, code: "oidc.code.expired", reason: "the code has expired")
        }
        guard redirectURI == stored.request.redirectURI else {
            throw OIDCError(.invalidGrant, code: "oidc.redirect-uri.mismatch", reason: "redirect_uri differs from the authorization request's")
        }
        guard let verifier, PKCE.isWellFormedVerifier(verifier) else {
            try await limits.fail(failureKeys)
            throw OIDCError(.invalidGrant, code: "oidc.pkce.verifier-missing", reason: "code_verifier is required (43 to 128 characters)")
        }
        guard PKCE.s256(verifier) == stored.request.codeChallenge else {
            try await limits.fail(failureKeys)
            throw OIDCError(.invalidGrant, code: "oidc.pkce.verifier-mismatch", reason: "code_verifier does not match the code_challenge")
        }
        // The tokens are signed first, then the code's spending and the tokens go in one commit
        // (SQLite commits one at a time: docs/benchmarks.md, issue 23), which reads the session
        // again under the write lock, so that a card blocked meanwhile issues nothing. A code
        // found spent revokes what it issued in a commit of its own, after this one rolled back.
        let prepared = try await issuer.prepare(
            session: try await activeSession(stored.sessionID), client: client, scope: stored.request.scope, nonce: stored.request.nonce,
            familyID: stored.digest)
        if let writer = try await issuer.loginWriter() {
            switch try await writer.redeem(
                codeDigest: stored.digest, access: prepared.access, refresh: prepared.refresh, audit: [prepared.audit],
                idleTimeout: settings.sessionIdleTimeout, at: prepared.access.createdAt) {
            case .recorded: return prepared.response
            case .sessionEnded: throw Self.sessionEnded
            case .codeSpent:
                try await revokeFamily(stored.digest, reason: "code reused", client: client.id)
                throw OIDCError(.invalidGrant, code: "oidc.code.reused", reason: "the code was already redeemed; what it issued is revoked")
            }
        }
        let issued: OIDCTokenResponse? = try await database.transaction { _ in
            guard try await self.repository.spendCode(digest: stored.digest, at: self.clock.now()) else { return nil }
            _ = try await self.activeSession(stored.sessionID)
            try await self.issuer.record(prepared)
            return prepared.response
        }
        guard let issued else {
            try await revokeFamily(stored.digest, reason: "code reused", client: client.id)
            throw OIDCError(.invalidGrant, code: "oidc.code.reused", reason: "the code was already redeemed; what it issued is revoked")
        }
        return issued
    }

    /// `grant_type=refresh_token`: a new refresh token replaces the one presented; a token
    /// presented a second time revokes its whole family.
    public func refresh(token: String?, client: OIDCClient) async throws -> OIDCTokenResponse {
        guard let token, let stored = try await repository.refreshToken(digest: OIDCTokenIssuer.digest(token)), stored.clientID == client.id else {
            throw OIDCError(.invalidGrant, code: "oidc.refresh.unknown", reason: "unknown refresh token")
        }
        if stored.revokedAt != nil {
            throw OIDCError(.invalidGrant, code: "oidc.refresh.revoked", reason: "the refresh token is revoked")
        }
        if stored.usedAt != nil {
            try await revokeFamily(stored.familyID, reason: "refresh token reused", client: client.id)
            throw OIDCError(.invalidGrant, code: "oidc.refresh.reused", reason: "the refresh token was already used; its family is revoked")
        }
        guard clock.now() < stored.expiresAt else {
            throw OIDCError(.invalidGrant, code: "oidc.refresh.expired", reason: "the refresh token has expired")
        }
        let session = try await activeSession(stored.sessionID)
        guard try await repository.spendRefreshToken(digest: stored.digest, at: clock.now()) else {
            try await revokeFamily(stored.familyID, reason: "refresh token reused", client: client.id)
            throw OIDCError(.invalidGrant, code: "oidc.refresh.reused", reason: "the refresh token was already used; its family is revoked")
        }
        return try await issuer.issue(session: session, client: client, scope: stored.scope, nonce: nil, familyID: stored.familyID)
    }

    private func activeSession(_ id: String) async throws -> OIDCSession {
        guard let session = try await repository.session(id: id), session.isActive(at: clock.now(), idleTimeout: settings.sessionIdleTimeout) else {
            throw Self.sessionEnded
        }
        return session
    }

    private static let sessionEnded = OIDCError(
        .invalidGrant, code: "oidc.session.ended", reason: "the login session has ended (logout, expiry, or the card was blocked)")

    /// The record and claims of an access token that is active now; nil otherwise.
    private func activeAccessToken(_ token: String) async throws -> (record: OIDCAccessTokenRecord, claims: [String: JSONValue], session: OIDCSession)? {
        guard let claims = try await keys.verify(token), let jti = claims["jti"]?.string, let exp = claims["exp"]?.integer,
              clock.now().timeIntervalSince1970 < Double(exp),
              let (record, session) = try await repository.accessTokenWithSession(jti: jti), record.revokedAt == nil, clock.now() < record.expiresAt,
              session.isActive(at: clock.now(), idleTimeout: settings.sessionIdleTimeout)
        else { return nil }
        return (record, claims, session)
    }

    /// RFC 7662: whether a token is active, and what it is.
    public func introspect(_ token: String?, client: OIDCClient) async throws -> [String: JSONValue] {
        guard let token, !token.isEmpty else {
            throw OIDCError(.invalidRequest, code: "oidc.introspection.token-missing", reason: "token is required")
        }
        if token.contains("."), let active = try await activeAccessToken(token) {
            var answer: [String: JSONValue] = [
                "active": .bool(true), "token_type": .string("Bearer"), "client_id": .string(active.record.clientID),
                "scope": .string(active.record.scope), "sub": active.claims["sub"] ?? .null, "iss": .string(settings.issuer),
                "aud": .string(active.record.clientID), "jti": .string(active.record.jti),
                "exp": .integer(Int64(active.record.expiresAt.timeIntervalSince1970)), "iat": .integer(Int64(active.record.createdAt.timeIntervalSince1970)),
                "acr": .string(active.session.subject.acr), "amr": .array(active.session.subject.means.amr.map { .string($0) }),
            ]
            answer["SubjectNameID"] = .string(active.record.idNat)
            return answer
        }
        if !token.contains("."), let stored = try await repository.refreshToken(digest: OIDCTokenIssuer.digest(token)), stored.revokedAt == nil,
           stored.usedAt == nil, clock.now() < stored.expiresAt,
           let session = try await repository.session(id: stored.sessionID), session.isActive(at: clock.now(), idleTimeout: settings.sessionIdleTimeout) {
            return [
                "active": .bool(true), "token_type": .string("refresh_token"), "client_id": .string(stored.clientID), "scope": .string(stored.scope),
                "sub": .string(OIDCClaims.subject(session.subject.idNat)), "exp": .integer(Int64(stored.expiresAt.timeIntervalSince1970)),
            ]
        }
        return ["active": .bool(false)]
    }

    /// RFC 7009: revokes an access or refresh token of the calling client (a refresh token
    /// takes its family with it); an unknown token is not an error.
    public func revoke(_ token: String?, client: OIDCClient) async throws {
        guard let token, !token.isEmpty else {
            throw OIDCError(.invalidRequest, code: "oidc.revocation.token-missing", reason: "token is required")
        }
        if token.contains(".") {
            guard let claims = try await keys.verify(token), let jti = claims["jti"]?.string,
                  let record = try await repository.accessToken(jti: jti), record.clientID == client.id else { return }
            let now = clock.now()
            try await database.transaction { _ in
                let repository = self.repository
                try await repository.record([AuditEvent(actor: client.id, action: "oidc.token.revoke", entityType: "oidc-token", entityID: jti)])
                try await repository.revokeAccessToken(jti: jti, at: now)
            }
        } else if let stored = try await repository.refreshToken(digest: OIDCTokenIssuer.digest(token)), stored.clientID == client.id {
            try await revokeFamily(stored.familyID, reason: "revoked by the client", client: client.id)
        }
    }

    /// The claims the access token's scopes grant, as JSON or as a JWT for the client.
    /// - Parameter clientOf: finds the token's client (for its userinfo preference).
    public func userinfo(accessToken: String?, clientOf: @Sendable (String) async throws -> OIDCClient) async throws -> OIDCUserinfo {
        guard let accessToken, let active = try await activeAccessToken(accessToken) else {
            throw OIDCError(.invalidToken, code: "oidc.userinfo.invalid-token", reason: "the access token is not active")
        }
        let values = try await claims.claims(for: active.session.subject.idNat, scope: active.record.scope)
        let client = try await clientOf(active.record.clientID)
        guard client.userinfoSigned else { return .json(values) }
        var signed = values
        signed["iss"] = .string(settings.issuer)
        signed["aud"] = .string(client.id)
        signed["iat"] = .integer(Int64(clock.now().timeIntervalSince1970))
        return .jwt(try await keys.sign(signed))
    }

    /// RP-initiated logout: ends the session named by the ID token hint (or the cookie) and
    /// returns where to send the user agent (a registered post-logout URI, or nil).
    public func endSession(
        idTokenHint: String?, postLogoutRedirectURI: String?, state: String?, sessionID: String?, clientOf: @Sendable (String) async throws -> OIDCClient
    ) async throws -> String? {
        var sid: String?
        var clientID: String?
        if let idTokenHint {
            // An expired ID token still names its session: only the signature is required.
            guard let claims = try await keys.verify(idTokenHint) else {
                throw OIDCError(.invalidRequest, code: "oidc.logout.bad-hint", reason: "id_token_hint is not an ID token of this provider")
            }
            sid = claims["sid"]?.string
            clientID = claims["aud"]?.string
        }
        var redirect: String?
        if let postLogoutRedirectURI {
            guard let clientID, try await clientOf(clientID).postLogoutRedirectURIs.contains(postLogoutRedirectURI) else {
                throw OIDCError(.invalidRequest, code: "oidc.logout.redirect-not-registered", reason: "post_logout_redirect_uri is not registered for the client")
            }
            var components = URLComponents(string: postLogoutRedirectURI)
            if let state {
                let items = components?.queryItems ?? []
                components?.queryItems = items + [URLQueryItem(name: "state", value: state)]
            }
            redirect = components?.string ?? postLogoutRedirectURI
        }
        let now = clock.now()
        let (sessionSID, logoutClient) = (sid, clientID)
        try await database.transaction { _ in
            let repository = self.repository
            if let sessionID {
                try await repository.endSessions(where: .id, equals: sessionID, reason: "logout", at: now)
            }
            if let sessionSID {
                try await repository.endSessions(where: .sid, equals: sessionSID, reason: "logout", at: now)
            }
            try await repository.record([AuditEvent(
                actor: logoutClient ?? "user-agent", action: "oidc.logout", entityType: "oidc-session", entityID: sessionSID ?? "cookie")])
        }
        return redirect
    }
}
