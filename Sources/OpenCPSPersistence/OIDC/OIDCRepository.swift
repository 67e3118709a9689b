import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// Reads and writes the OpenID Connect provider's state. Spending a one-time value (a code,
/// a challenge, a refresh token) is one conditional `UPDATE ... WHERE used_at IS NULL`, so
/// that of two nodes racing for it exactly one wins, on SQLite and PostgreSQL alike.
public struct OIDCRepository: Sendable {
    private let database: any Database
    private let audit: AuditLog

    /// Creates the repository on a database (the service's open transaction, if any).
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.audit = AuditLog(clock: clock)
    }

    private var sql: any SQLDatabase { database.sql }

    private static func text(_ date: Date) -> String { StoredTimestamp.string(date) }
    private static func date(_ row: any SQLRow, _ column: String) throws -> Date {
        let value = try row.decode(column: column, as: String.self)
        guard let date = StoredTimestamp.date(value) else { throw PersistenceError.corrupt("OIDC \(column)", value) }
        return date
    }
    private static func optionalDate(_ row: any SQLRow, _ column: String) throws -> Date? {
        try row.decodeNil(column: column) ? nil : try date(row, column)
    }
    private static func optional(_ row: any SQLRow, _ column: String) throws -> String? {
        try row.decodeNil(column: column) ? nil : try row.decode(column: column, as: String.self)
    }

    /// Appends audit events in the running transaction.
    public func record(_ events: [AuditEvent]) async throws {
        let head = try await AuditLog.lock(sql)
        try await audit.append(events, after: head, on: sql)
    }

    // MARK: Clients

    /// Stores a new client; `oidc.client.exists` if its identifier is taken.
    public func insert(_ client: OIDCClient) async throws {
        if try await self.client(id: client.id) != nil {
            throw OIDCError(.invalidClientMetadata, code: "oidc.client.exists", reason: "a client '\(client.id)' is already registered")
        }
        try await sql.raw("""
            INSERT INTO oidc_clients (id, name, auth_method, secret_digest, secret_salt, jwks, redirect_uris, post_logout_redirect_uris, scopes, userinfo_signed, created_at)
            VALUES (\(bind: client.id), \(bind: client.name), \(bind: client.authMethod.rawValue), \(bind: client.secretDigest), \(bind: client.secretSalt),
            \(bind: client.jwks),
            \(bind: Self.list(client.redirectURIs)), \(bind: Self.list(client.postLogoutRedirectURIs)), \(bind: Self.list(client.scopes)),
            \(bind: client.userinfoSigned ? 1 : 0), \(bind: Self.text(client.createdAt)))
            """).run()
    }

    /// The client with this identifier.
    public func client(id: String) async throws -> OIDCClient? {
        try await sql.raw("SELECT * FROM oidc_clients WHERE id = \(bind: id)").first().map(Self.client)
    }

    /// The client with this identifier, if any, with the failures counted under each of `keys`
    /// in the windows that contain `now` (in the order of `keys`): one statement for what every
    /// authenticated call reads first.
    public func clientWithFailures(
        id: String, keys: [String], at now: Date, window: TimeInterval
    ) async throws -> (client: OIDCClient?, failures: [(count: Int, windowEnds: Date)]) {
        let rows = try await sql.raw("""
            SELECT c.*, a.attempt_key AS a_attempt_key, a.window_start AS a_window_start, a.failures AS a_failures
            FROM (SELECT 1 AS one) base
            LEFT JOIN oidc_clients c ON c.id = \(bind: id)
            LEFT JOIN oidc_attempts a ON a.attempt_key IN (\(binds: keys))
            """).all()
        let client = try rows.first.flatMap { try $0.decodeNil(column: "id") ? nil : try Self.client($0) }
        return (client, try Self.failureCounts(rows, prefix: "a_", keys: keys, at: now, window: window))
    }

    /// Every client, by identifier.
    public func clients() async throws -> [OIDCClient] {
        try await sql.raw("SELECT * FROM oidc_clients ORDER BY id").all().map(Self.client)
    }

    /// Removes a client and revokes what it holds; false if there was none.
    public func removeClient(id: String, at now: Date) async throws -> Bool {
        guard try await client(id: id) != nil else { return false }
        try await sql.raw("DELETE FROM oidc_clients WHERE id = \(bind: id)").run()
        try await sql.raw("UPDATE oidc_refresh_tokens SET revoked_at = \(bind: Self.text(now)) WHERE client_id = \(bind: id) AND revoked_at IS NULL").run()
        try await sql.raw("UPDATE oidc_access_tokens SET revoked_at = \(bind: Self.text(now)) WHERE client_id = \(bind: id) AND revoked_at IS NULL").run()
        return true
    }

    /// Records a client assertion's `jti` until it expires; false if the client presented it
    /// before (on this node or another). Expired identifiers are forgotten on the way.
    public func spendAssertion(clientID: String, jti: String, expiresAt: Date, at now: Date) async throws -> Bool {
        try await sql.raw("DELETE FROM oidc_client_assertions WHERE expires_at < \(bind: Self.text(now))").run()
        return try await sql.raw("""
            INSERT INTO oidc_client_assertions (client_id, jti, expires_at) VALUES (\(bind: clientID), \(bind: jti), \(bind: Self.text(expiresAt)))
            ON CONFLICT DO NOTHING RETURNING jti
            """).first() != nil
    }

    private static func list(_ values: [String]) -> String { values.joined(separator: " ") }
    private static func split(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }

    private static func client(_ row: any SQLRow) throws -> OIDCClient {
        let method = try row.decode(column: "auth_method", as: String.self)
        guard let authMethod = OIDCClientAuthMethod(rawValue: method) else { throw PersistenceError.corrupt("OIDC client", "auth_method \(method)") }
        return OIDCClient(
            id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self), authMethod: authMethod,
            secretDigest: try optional(row, "secret_digest"), secretSalt: try optional(row, "secret_salt"), jwks: try optional(row, "jwks"),
            redirectURIs: split(try row.decode(column: "redirect_uris", as: String.self)),
            postLogoutRedirectURIs: split(try row.decode(column: "post_logout_redirect_uris", as: String.self)),
            scopes: split(try row.decode(column: "scopes", as: String.self)),
            userinfoSigned: try row.decode(column: "userinfo_signed", as: Int.self) != 0, createdAt: try date(row, "created_at"))
    }

    // MARK: Signing keys

    /// A signing key as stored: its private key (PKCS #8 DER, base64) and its life.
    public struct SigningKeyRow: Sendable, Equatable {
        /// The key identifier (`kid`).
        public var kid: String
        /// The private key, PKCS #8 DER in base64.
        public var privateKey: String
        /// When it became the current key.
        public var createdAt: Date
        /// When it stopped signing, if it did.
        public var retiredAt: Date?
        /// Until when JWKS publishes it (the last token it signed has expired by then).
        public var publishedUntil: Date?

        /// Creates the row.
        public init(kid: String, privateKey: String, createdAt: Date, retiredAt: Date? = nil, publishedUntil: Date? = nil) {
            self.kid = kid
            self.privateKey = privateKey
            self.createdAt = createdAt
            self.retiredAt = retiredAt
            self.publishedUntil = publishedUntil
        }
    }

    /// The keys still published at `now`, newest first.
    public func signingKeys(at now: Date) async throws -> [SigningKeyRow] {
        try await sql.raw("""
            SELECT * FROM oidc_keys WHERE published_until IS NULL OR published_until > \(bind: Self.text(now)) ORDER BY created_at DESC, kid
            """).all().map { row in
            SigningKeyRow(
                kid: try row.decode(column: "kid", as: String.self), privateKey: try row.decode(column: "private_key", as: String.self),
                createdAt: try Self.date(row, "created_at"), retiredAt: try Self.optionalDate(row, "retired_at"),
                publishedUntil: try Self.optionalDate(row, "published_until"))
        }
    }

    /// Stores a new current key and retires the others, each published until `publishedUntil`.
    public func rotate(to key: SigningKeyRow, retiredPublishedUntil: Date) async throws {
        try await sql.raw("""
            UPDATE oidc_keys SET retired_at = \(bind: Self.text(key.createdAt)), published_until = \(bind: Self.text(retiredPublishedUntil))
            WHERE retired_at IS NULL
            """).run()
        try await sql.raw("""
            INSERT INTO oidc_keys (kid, private_key, created_at) VALUES (\(bind: key.kid), \(bind: key.privateKey), \(bind: Self.text(key.createdAt)))
            """).run()
    }

    // MARK: Challenges

    /// Records a card login challenge as answered, in the caller's transaction (the login's
    /// own, or its failure's): false if it already was, by this or another node. Challenges are
    /// sealed by the provider and stored only once answered, keyed by their random value, so
    /// that the primary key refuses a second answer and a login costs no commit of its own for
    /// its challenge (docs/benchmarks.md, issue 23).
    public func spendChallenge(_ challenge: OIDCLoginChallenge, at now: Date) async throws -> Bool {
        try await OIDCRow.spentChallenge(challenge, at: now).insert(on: sql).ignoringConflicts(with: "id").returning("id").first() != nil
    }

    /// When the challenge with this random value was answered; nil if it was not.
    public func challengeSpentAt(_ value: String) async throws -> Date? {
        guard let row = try await sql.raw("SELECT used_at FROM oidc_challenges WHERE id = \(bind: value)").first() else { return nil }
        return try Self.optionalDate(row, "used_at") ?? Date.distantPast
    }

    private static func request(_ row: any SQLRow) throws -> OIDCAuthorizationRequest {
        OIDCAuthorizationRequest(
            clientID: try row.decode(column: "client_id", as: String.self), redirectURI: try row.decode(column: "redirect_uri", as: String.self),
            scope: try row.decode(column: "scope", as: String.self), state: try optional(row, "state"), nonce: try optional(row, "nonce"),
            codeChallenge: try row.decode(column: "code_challenge", as: String.self))
    }

    // MARK: Sessions

    /// Stores a new SSO session.
    public func insert(_ session: OIDCSession) async throws {
        try await OIDCRow.session(session).insert(on: sql).run()
    }

    /// The `sid` claim of a session: the SHA-256 (hex) of its identifier, which is a bearer secret (the cookie).
    public static func sid(_ id: String) -> String {
        SHA256.hash(data: Data(id.utf8)).hexString
    }

    /// The session with this identifier.
    public func session(id: String) async throws -> OIDCSession? {
        guard let row = try await sql.raw("SELECT * FROM oidc_sessions WHERE id = \(bind: id)").first() else { return nil }
        return try Self.session(id: id, row: row)
    }

    /// Decodes a session from `row`, whose session columns carry `prefix` (a join names them apart).
    private static func session(id: String, row: any SQLRow, prefix: String = "") throws -> OIDCSession {
        let means = try row.decode(column: prefix + "means", as: String.self)
        guard let parsed = OIDCAuthenticationMeans(rawValue: means) else { throw PersistenceError.corrupt("OIDC session \(id)", "means \(means)") }
        let subject = AuthenticatedSubject(
            idNat: try IdNat(try row.decode(column: prefix + "id_nat", as: String.self)), cardID: try Self.optional(row, prefix + "card_id"),
            deviceID: try Self.optional(row, prefix + "device_id"), means: parsed, authenticatedAt: try Self.date(row, prefix + "created_at"))
        return OIDCSession(
            id: id, subject: subject, lastUsedAt: try Self.date(row, prefix + "last_used_at"), expiresAt: try Self.date(row, prefix + "expires_at"),
            endedAt: try Self.optionalDate(row, prefix + "ended_at"), endReason: try Self.optional(row, prefix + "end_reason"))
    }

    /// Records a use of the session (the idle timeout restarts).
    public func touchSession(id: String, at now: Date) async throws {
        try await sql.raw("UPDATE oidc_sessions SET last_used_at = \(bind: Self.text(now)) WHERE id = \(bind: id) AND ended_at IS NULL").run()
    }

    /// Ends sessions and revokes their refresh and access tokens.
    /// - Returns: the identifiers of the sessions ended now.
    @discardableResult
    public func endSessions(where column: SessionKey, equals value: String, reason: String, at now: Date) async throws -> [String] {
        let name = column.rawValue
        let ids = try await sql.raw("""
            UPDATE oidc_sessions SET ended_at = \(bind: Self.text(now)), end_reason = \(bind: reason)
            WHERE \(ident: name) = \(bind: value) AND ended_at IS NULL RETURNING id
            """).all().map { try $0.decode(column: "id", as: String.self) }
        for id in ids {
            try await sql.raw("UPDATE oidc_refresh_tokens SET revoked_at = \(bind: Self.text(now)) WHERE session_id = \(bind: id) AND revoked_at IS NULL").run()
            try await sql.raw("UPDATE oidc_access_tokens SET revoked_at = \(bind: Self.text(now)) WHERE session_id = \(bind: id) AND revoked_at IS NULL").run()
        }
        return ids
    }

    /// What sessions are ended by.
    public enum SessionKey: String, Sendable {
        /// One session.
        case id
        /// One session, by its `sid`.
        case sid
        /// Every session opened with a card.
        case card = "card_id"
        /// Every session opened with an e-CPS device.
        case device = "device_id"
    }

    // MARK: Codes

    /// Stores an authorization code.
    public func insert(_ code: OIDCAuthorizationCode) async throws {
        try await OIDCRow.code(code).insert(on: sql).run()
    }

    /// The code with this digest.
    public func code(digest: String) async throws -> OIDCAuthorizationCode? {
        guard let row = try await sql.raw("SELECT *, NULL AS state FROM oidc_codes WHERE code_digest = \(bind: digest)").first() else { return nil }
        return OIDCAuthorizationCode(
            digest: digest, sessionID: try row.decode(column: "session_id", as: String.self), request: try Self.request(row),
            createdAt: try Self.date(row, "created_at"), expiresAt: try Self.date(row, "expires_at"), usedAt: try Self.optionalDate(row, "used_at"))
    }

    /// Marks a code redeemed; false if it already was.
    public func spendCode(digest: String, at now: Date) async throws -> Bool {
        try await sql.raw("UPDATE oidc_codes SET used_at = \(bind: Self.text(now)) WHERE code_digest = \(bind: digest) AND used_at IS NULL RETURNING code_digest")
            .first() != nil
    }

    // MARK: Tokens

    /// Stores a refresh token.
    public func insert(_ token: OIDCRefreshToken) async throws {
        try await OIDCRow.refreshToken(token).insert(on: sql).run()
    }

    /// The refresh token with this digest.
    public func refreshToken(digest: String) async throws -> OIDCRefreshToken? {
        guard let row = try await sql.raw("SELECT * FROM oidc_refresh_tokens WHERE token_digest = \(bind: digest)").first() else { return nil }
        return OIDCRefreshToken(
            digest: digest, familyID: try row.decode(column: "family_id", as: String.self), sessionID: try row.decode(column: "session_id", as: String.self),
            clientID: try row.decode(column: "client_id", as: String.self), scope: try row.decode(column: "scope", as: String.self),
            createdAt: try Self.date(row, "created_at"), expiresAt: try Self.date(row, "expires_at"), usedAt: try Self.optionalDate(row, "used_at"),
            revokedAt: try Self.optionalDate(row, "revoked_at"))
    }

    /// Marks a refresh token exchanged; false if it already was or is revoked.
    public func spendRefreshToken(digest: String, at now: Date) async throws -> Bool {
        try await sql.raw("""
            UPDATE oidc_refresh_tokens SET used_at = \(bind: Self.text(now))
            WHERE token_digest = \(bind: digest) AND used_at IS NULL AND revoked_at IS NULL RETURNING token_digest
            """).first() != nil
    }

    /// Revokes every refresh and access token of a family (what one code led to).
    public func revokeFamily(_ familyID: String, at now: Date) async throws {
        try await sql.raw("UPDATE oidc_refresh_tokens SET revoked_at = \(bind: Self.text(now)) WHERE family_id = \(bind: familyID) AND revoked_at IS NULL").run()
        try await sql.raw("UPDATE oidc_access_tokens SET revoked_at = \(bind: Self.text(now)) WHERE family_id = \(bind: familyID) AND revoked_at IS NULL").run()
    }

    /// Records an issued access token's identifier.
    public func insert(_ token: OIDCAccessTokenRecord) async throws {
        try await OIDCRow.accessToken(token).insert(on: sql).run()
    }

    /// The access token with this identifier.
    public func accessToken(jti: String) async throws -> OIDCAccessTokenRecord? {
        guard let row = try await sql.raw("SELECT * FROM oidc_access_tokens WHERE jti = \(bind: jti)").first() else { return nil }
        return try Self.accessToken(jti: jti, row: row)
    }

    /// An access token's record with its session, read in one statement (introspection and
    /// userinfo need both on every call); nil if either is missing.
    public func accessTokenWithSession(jti: String) async throws -> (record: OIDCAccessTokenRecord, session: OIDCSession)? {
        guard let row = try await sql.raw("""
            SELECT t.*, s.id_nat AS s_id_nat, s.card_id AS s_card_id, s.device_id AS s_device_id, s.means AS s_means,
            s.created_at AS s_created_at, s.last_used_at AS s_last_used_at, s.expires_at AS s_expires_at,
            s.ended_at AS s_ended_at, s.end_reason AS s_end_reason
            FROM oidc_access_tokens t JOIN oidc_sessions s ON s.id = t.session_id WHERE t.jti = \(bind: jti)
            """).first() else { return nil }
        let record = try Self.accessToken(jti: jti, row: row)
        return (record, try Self.session(id: record.sessionID, row: row, prefix: "s_"))
    }

    private static func accessToken(jti: String, row: any SQLRow) throws -> OIDCAccessTokenRecord {
        OIDCAccessTokenRecord(
            jti: jti, familyID: try row.decode(column: "family_id", as: String.self), sessionID: try row.decode(column: "session_id", as: String.self),
            clientID: try row.decode(column: "client_id", as: String.self), idNat: try row.decode(column: "id_nat", as: String.self),
            scope: try row.decode(column: "scope", as: String.self), createdAt: try Self.date(row, "created_at"), expiresAt: try Self.date(row, "expires_at"),
            revokedAt: try Self.optionalDate(row, "revoked_at"))
    }

    /// Revokes one access token.
    public func revokeAccessToken(jti: String, at now: Date) async throws {
        try await sql.raw("UPDATE oidc_access_tokens SET revoked_at = \(bind: Self.text(now)) WHERE jti = \(bind: jti) AND revoked_at IS NULL").run()
    }

    // MARK: Attempts

    /// The failures counted under `key` in the window that contains `now`, and when it ends.
    public func failures(key: String, at now: Date, window: TimeInterval) async throws -> (count: Int, windowEnds: Date) {
        guard let row = try await sql.raw("SELECT window_start, failures FROM oidc_attempts WHERE attempt_key = \(bind: key)").first() else {
            return (0, now.addingTimeInterval(window))
        }
        let start = try Self.date(row, "window_start")
        guard now < start.addingTimeInterval(window) else { return (0, now.addingTimeInterval(window)) }
        return (try row.decode(column: "failures", as: Int.self), start.addingTimeInterval(window))
    }

    /// The failures counted under each of `keys` in the windows that contain `now`, read in one
    /// statement, in the order of `keys`.
    public func failures(keys: [String], at now: Date, window: TimeInterval) async throws -> [(count: Int, windowEnds: Date)] {
        let rows = try await sql.raw("""
            SELECT attempt_key, window_start, failures FROM oidc_attempts WHERE attempt_key IN (\(binds: keys))
            """).all()
        return try Self.failureCounts(rows, keys: keys, at: now, window: window)
    }

    /// The failures each of `keys` counts in the window that contains `now`, in the order of
    /// `keys`, from rows of `oidc_attempts` whose columns carry `prefix` (rows without an
    /// attempt, from an outer join, are skipped).
    private static func failureCounts(
        _ rows: [any SQLRow], prefix: String = "", keys: [String], at now: Date, window: TimeInterval
    ) throws -> [(count: Int, windowEnds: Date)] {
        var counted: [String: (count: Int, windowEnds: Date)] = [:]
        for row in rows where try !row.decodeNil(column: prefix + "attempt_key") {
            let ends = try Self.date(row, prefix + "window_start").addingTimeInterval(window)
            if now < ends {
                counted[try row.decode(column: prefix + "attempt_key", as: String.self)] = (try row.decode(column: prefix + "failures", as: Int.self), ends)
            }
        }
        return keys.map { counted[$0] ?? (0, now.addingTimeInterval(window)) }
    }

    /// Counts one more failure under `key` (a new window starts when the last one is over).
    public func recordFailure(key: String, at now: Date, window: TimeInterval) async throws {
        let current = try await failures(key: key, at: now, window: window)
        let start = current.count == 0 ? now : current.windowEnds.addingTimeInterval(-window)
        try await sql.raw("DELETE FROM oidc_attempts WHERE attempt_key = \(bind: key)").run()
        try await sql.raw("""
            INSERT INTO oidc_attempts (attempt_key, window_start, failures) VALUES (\(bind: key), \(bind: Self.text(start)), \(bind: current.count + 1))
            """).run()
    }
}
