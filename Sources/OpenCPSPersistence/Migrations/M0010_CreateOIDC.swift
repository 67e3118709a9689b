import FluentKit
import SQLKit

/// Creates the OpenID Connect provider's tables: registered clients, signing keys, card login
/// challenges, SSO sessions, authorization codes, refresh tokens, the identifiers of access
/// tokens (so that introspection can say a token is inactive once its session ended) and the
/// counters of failed attempts. All state lives here so that any node answers any request.
public struct M0010_CreateOIDC: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the tables.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE oidc_clients (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                auth_method TEXT NOT NULL,
                secret_digest TEXT,
                secret_salt TEXT,
                redirect_uris TEXT NOT NULL,
                post_logout_redirect_uris TEXT NOT NULL,
                scopes TEXT NOT NULL,
                userinfo_signed INTEGER NOT NULL,
                created_at TEXT NOT NULL
            )
            """).run()
        try await sql.raw("""
            CREATE TABLE oidc_keys (
                kid TEXT PRIMARY KEY,
                private_key TEXT NOT NULL,
                created_at TEXT NOT NULL,
                retired_at TEXT,
                published_until TEXT
            )
            """).run()
        try await sql.raw("""
            CREATE TABLE oidc_challenges (
                id TEXT PRIMARY KEY,
                challenge TEXT NOT NULL,
                client_id TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                scope TEXT NOT NULL,
                state TEXT,
                nonce TEXT,
                code_challenge TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT
            )
            """).run()
        try await sql.raw("""
            CREATE TABLE oidc_sessions (
                id TEXT PRIMARY KEY,
                sid TEXT NOT NULL,
                id_nat TEXT NOT NULL,
                card_id TEXT,
                device_id TEXT,
                means TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_used_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                ended_at TEXT,
                end_reason TEXT
            )
            """).run()
        try await sql.raw("CREATE INDEX oidc_sessions_card ON oidc_sessions (card_id)").run()
        try await sql.raw("CREATE INDEX oidc_sessions_sid ON oidc_sessions (sid)").run()
        try await sql.raw("CREATE INDEX oidc_sessions_device ON oidc_sessions (device_id)").run()
        try await sql.raw("""
            CREATE TABLE oidc_codes (
                code_digest TEXT PRIMARY KEY,
                session_id TEXT NOT NULL,
                client_id TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                scope TEXT NOT NULL,
                nonce TEXT,
                code_challenge TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT
            )
            """).run()
        try await sql.raw("""
            CREATE TABLE oidc_refresh_tokens (
                token_digest TEXT PRIMARY KEY,
                family_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                client_id TEXT NOT NULL,
                scope TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT,
                revoked_at TEXT
            )
            """).run()
        try await sql.raw("CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (family_id)").run()
        try await sql.raw("""
            CREATE TABLE oidc_access_tokens (
                jti TEXT PRIMARY KEY,
                family_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                client_id TEXT NOT NULL,
                id_nat TEXT NOT NULL,
                scope TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                revoked_at TEXT
            )
            """).run()
        try await sql.raw("CREATE INDEX oidc_access_tokens_family ON oidc_access_tokens (family_id)").run()
        try await sql.raw("""
            CREATE TABLE oidc_attempts (
                attempt_key TEXT PRIMARY KEY,
                window_start TEXT NOT NULL,
                failures INTEGER NOT NULL
            )
            """).run()
    }

    /// Drops them.
    public func revert(on database: any Database) async throws {
        let sql = database.sql
        for table in [
            "oidc_attempts", "oidc_access_tokens", "oidc_refresh_tokens", "oidc_codes", "oidc_sessions", "oidc_challenges", "oidc_keys", "oidc_clients",
        ] {
            try await sql.raw("DROP TABLE IF EXISTS \(ident: table)").run()
        }
    }
}
