import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSPKI

/// What the token endpoint answers (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
public struct OIDCTokenResponse: Sendable, Equatable {
    /// The ID token (a JWS).
    public var idToken: String?
    /// The access token (a JWS whose `jti` is recorded).
    public var accessToken: String
    /// The refresh token (opaque, one use).
    public var refreshToken: String?
    /// Seconds the access token lives.
    public var expiresIn: Int
    /// The granted scopes.
    public var scope: String
}

/// Opens SSO sessions and issues tokens for them: the one place tokens are made, whatever the
/// means of login (card challenge, mutual TLS, e-CPS through CIBA).
public final class OIDCTokenIssuer: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let random: RandomBytes
    private let settings: OIDCSettings
    private let keys: OIDCKeys
    private let claims: OIDCClaims
    private let foundWriter = FoundOnce<OIDCLoginWriter>()

    init(database: ServiceDatabase, clock: any WallClock, random: RandomBytes, settings: OIDCSettings, keys: OIDCKeys, claims: OIDCClaims) {
        self.database = database
        self.clock = clock
        self.random = random
        self.settings = settings
        self.keys = keys
        self.claims = claims
    }

    private var repository: OIDCRepository { OIDCRepository(database: database.current, clock: clock) }

    /// A new random value, base64url (codes, refresh tokens, identifiers).
    func randomValue(_ bytes: Int = 32) -> String { Base64URL.encode(random.bytes(bytes)) }

    /// The SHA-256 (hex) under which a code or refresh token is kept.
    static func digest(_ value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).hexString
    }

    /// Opens an SSO session for an authenticated professional and records the login.
    /// - Parameter client: the client the login was for (audit).
    public func openSession(for subject: AuthenticatedSubject, client: String) async throws -> OIDCSession {
        let session = newSession(for: subject)
        try await database.transaction { _ in
            let repository = self.repository
            try await repository.record([Self.loginAudit(session, client: client)])
            try await repository.insert(session)
        }
        return session
    }

    /// A new SSO session for an authenticated professional, not yet stored.
    func newSession(for subject: AuthenticatedSubject) -> OIDCSession {
        OIDCSession(
            id: randomValue(), subject: subject, lastUsedAt: subject.authenticatedAt,
            expiresAt: subject.authenticatedAt.addingTimeInterval(settings.sessionLifetime))
    }

    /// The audit entry of a successful login.
    static func loginAudit(_ session: OIDCSession, client: String) -> AuditEvent {
        let subject = session.subject
        return AuditEvent(
            actor: subject.idNat.value, action: "oidc.login.success", entityType: "oidc-session", entityID: OIDCRepository.sid(session.id),
            detail: "client=\(client) means=\(subject.means.rawValue)\(subject.cardID.map { " card=\($0)" } ?? "")\(subject.deviceID.map { " device=\($0)" } ?? "")")
    }

    /// The SQLite file's login writer, for a login's transactions outside any open transaction;
    /// nil on PostgreSQL, or inside a transaction (whose connection may hold the write lock).
    func loginWriter() async throws -> OIDCLoginWriter? {
        guard !database.inTransaction else { return nil }
        if let found = foundWriter.value { return found }
        return foundWriter.keepFirst(try await OIDCLoginWriter.open(for: database.independent))
    }

    /// Logs in a professional for a client in one step and issues their tokens: what CIBA
    /// calls once the e-CPS device approved.
    /// - Parameters:
    ///   - subject: who, with what means.
    ///   - client: the client that asked.
    ///   - scope: the granted scopes, space-separated (`openid` among them).
    ///   - nonce: the client's nonce, if any.
    public func issue(for subject: AuthenticatedSubject, client: OIDCClient, scope: String, nonce: String? = nil) async throws -> OIDCTokenResponse {
        let session = try await openSession(for: subject, client: client.id)
        return try await issue(session: session, client: client, scope: scope, nonce: nonce, familyID: randomValue())
    }

    /// Issues an ID token, an access token and a refresh token for a session: ``prepare(session:client:scope:nonce:familyID:withIDToken:)``
    /// then ``record(_:)``.
    func issue(
        session: OIDCSession, client: OIDCClient, scope: String, nonce: String?, familyID: String, withIDToken: Bool = true
    ) async throws -> OIDCTokenResponse {
        let prepared = try await prepare(session: session, client: client, scope: scope, nonce: nonce, familyID: familyID, withIDToken: withIDToken)
        try await record(prepared)
        return prepared.response
    }

    /// Tokens made and signed for a session, not yet recorded.
    struct PreparedTokens: Sendable {
        /// What the token endpoint answers.
        let response: OIDCTokenResponse
        let access: OIDCAccessTokenRecord
        let refresh: OIDCRefreshToken
        let audit: AuditEvent
    }

    /// Makes and signs the tokens of a session, reading the registry for the ID token's claims
    /// and writing nothing: callers sign before their transaction, so that it holds SQLite's
    /// write lock for the writes alone.
    /// - Parameters:
    ///   - familyID: what the tokens descend from (a code's digest), revoked together.
    ///   - withIDToken: whether to include an ID token.
    func prepare(
        session: OIDCSession, client: OIDCClient, scope: String, nonce: String?, familyID: String, withIDToken: Bool = true
    ) async throws -> PreparedTokens {
        let now = clock.now()
        let subject = session.subject
        let sub = OIDCClaims.subject(subject.idNat)
        let jti = randomValue(18)
        let accessExpiry = now.addingTimeInterval(settings.accessTokenLifetime)
        var access: [String: JSONValue] = [
            "iss": .string(settings.issuer), "sub": .string(sub), "aud": .string(client.id), "client_id": .string(client.id),
            "iat": .integer(Int64(now.timeIntervalSince1970)), "exp": .integer(Int64(accessExpiry.timeIntervalSince1970)),
            "jti": .string(jti), "scope": .string(scope), "acr": .string(subject.acr), "amr": .array(subject.means.amr.map { .string($0) }),
        ]
        access["SubjectNameID"] = .string(subject.idNat.value)
        let accessToken = try await keys.sign(access, type: "at+jwt")
        var idToken: String?
        if withIDToken {
            var id = try await claims.claims(for: subject.idNat, scope: scope.contains(OIDCScope.profile) || scope.contains(OIDCScope.all) ? OIDCScope.profile : OIDCScope.openid)
            id["iss"] = .string(settings.issuer)
            id["aud"] = .string(client.id)
            id["azp"] = .string(client.id)
            id["iat"] = .integer(Int64(now.timeIntervalSince1970))
            id["exp"] = .integer(Int64(now.addingTimeInterval(settings.idTokenLifetime).timeIntervalSince1970))
            id["auth_time"] = .integer(Int64(subject.authenticatedAt.timeIntervalSince1970))
            id["acr"] = .string(subject.acr)
            id["amr"] = .array(subject.means.amr.map { .string($0) })
            id["sid"] = .string(OIDCRepository.sid(session.id))
            id["at_hash"] = .string(OIDCKeys.halfHash(accessToken))
            if let nonce { id["nonce"] = .string(nonce) }
            idToken = try await keys.sign(id)
        }
        let refreshToken = randomValue()
        let refreshExpiry = min(now.addingTimeInterval(settings.refreshTokenLifetime), session.expiresAt)
        return PreparedTokens(
            response: OIDCTokenResponse(
                idToken: idToken, accessToken: accessToken, refreshToken: refreshToken, expiresIn: Int(settings.accessTokenLifetime), scope: scope),
            access: OIDCAccessTokenRecord(
                jti: jti, familyID: familyID, sessionID: session.id, clientID: client.id, idNat: subject.idNat.value, scope: scope,
                createdAt: now, expiresAt: accessExpiry),
            refresh: OIDCRefreshToken(
                digest: Self.digest(refreshToken), familyID: familyID, sessionID: session.id, clientID: client.id, scope: scope,
                createdAt: now, expiresAt: refreshExpiry),
            audit: AuditEvent(
                actor: client.id, action: "oidc.token.issue", entityType: "oidc-token", entityID: jti,
                detail: "sub=\(subject.idNat.value) means=\(subject.means.rawValue) scope=\(scope)"))
    }

    /// Records prepared tokens, the audit entry of their issue and the session's last use, in
    /// one transaction (the running one, if any).
    func record(_ prepared: PreparedTokens) async throws {
        try await database.transaction { _ in
            let repository = self.repository
            try await repository.record([prepared.audit])
            try await repository.insert(prepared.access)
            try await repository.insert(prepared.refresh)
            try await repository.touchSession(id: prepared.access.sessionID, at: prepared.access.createdAt)
        }
    }
}
