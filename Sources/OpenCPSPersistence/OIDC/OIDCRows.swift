import Foundation
import OpenCPSDomain
import SQLKit

/// A row of the provider's state as it is stored: its table, its columns and their values
/// (text, or nil for NULL). Written once for the two ways the rows reach the database: SQLKit
/// (``OIDCRepository``, on PostgreSQL and SQLite) and a login's jobs on an SQLite file
/// (``OIDCLoginWriter``).
struct OIDCRow {
    let table: String
    let columns: [String]
    let values: [String?]

    private static func text(_ date: Date) -> String { StoredTimestamp.string(date) }

    /// An SSO session.
    static func session(_ session: OIDCSession) -> OIDCRow {
        let subject = session.subject
        return OIDCRow(
            table: "oidc_sessions",
            columns: ["id", "sid", "id_nat", "card_id", "device_id", "means", "created_at", "last_used_at", "expires_at"],
            values: [
                session.id, OIDCRepository.sid(session.id), subject.idNat.value, subject.cardID, subject.deviceID, subject.means.rawValue,
                text(subject.authenticatedAt), text(session.lastUsedAt), text(session.expiresAt),
            ])
    }

    /// An authorization code, by its digest.
    static func code(_ code: OIDCAuthorizationCode) -> OIDCRow {
        let request = code.request
        return OIDCRow(
            table: "oidc_codes",
            columns: ["code_digest", "session_id", "client_id", "redirect_uri", "scope", "nonce", "code_challenge", "created_at", "expires_at"],
            values: [
                code.digest, code.sessionID, request.clientID, request.redirectURI, request.scope, request.nonce, request.codeChallenge,
                text(code.createdAt), text(code.expiresAt),
            ])
    }

    /// An answered login challenge, keyed by its random value.
    static func spentChallenge(_ challenge: OIDCLoginChallenge, at now: Date) -> OIDCRow {
        let request = challenge.request
        return OIDCRow(
            table: "oidc_challenges",
            columns: ["id", "challenge", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "created_at", "expires_at", "used_at"],
            values: [
                challenge.challenge, challenge.challenge, request.clientID, request.redirectURI, request.scope, request.state, request.nonce,
                request.codeChallenge, text(challenge.createdAt), text(challenge.expiresAt), text(now),
            ])
    }

    /// An access token's record.
    static func accessToken(_ token: OIDCAccessTokenRecord) -> OIDCRow {
        OIDCRow(
            table: "oidc_access_tokens",
            columns: ["jti", "family_id", "session_id", "client_id", "id_nat", "scope", "created_at", "expires_at"],
            values: [token.jti, token.familyID, token.sessionID, token.clientID, token.idNat, token.scope, text(token.createdAt), text(token.expiresAt)])
    }

    /// A refresh token, by its digest.
    static func refreshToken(_ token: OIDCRefreshToken) -> OIDCRow {
        OIDCRow(
            table: "oidc_refresh_tokens",
            columns: ["token_digest", "family_id", "session_id", "client_id", "scope", "created_at", "expires_at"],
            values: [token.digest, token.familyID, token.sessionID, token.clientID, token.scope, text(token.createdAt), text(token.expiresAt)])
    }

    /// The row as an SQLKit insert.
    func insert(on sql: any SQLDatabase) -> SQLInsertBuilder {
        sql.insert(into: table).columns(columns).values(values.map { SQLBind($0) })
    }

    /// The row's `INSERT` with one `?` per column, for a prepared statement.
    var insertSQL: String {
        "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
    }
}
