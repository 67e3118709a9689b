import FluentKit
import SQLKit

/// `private_key_jwt` clients (issue 23): the JWK Set a client registers (`oidc_clients.jwks`), and
/// the identifiers (`jti`) of the client assertions already presented, each kept until the
/// assertion expires so that an assertion authenticates once, on any node.
public struct M0017_OIDCClientKeys: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Adds the column and the table.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("ALTER TABLE oidc_clients ADD COLUMN jwks TEXT").run()
        try await sql.raw("""
            CREATE TABLE oidc_client_assertions (
                client_id TEXT NOT NULL,
                jti TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                PRIMARY KEY (client_id, jti)
            )
            """).run()
        try await sql.raw("CREATE INDEX oidc_client_assertions_expiry ON oidc_client_assertions (expires_at)").run()
    }

    /// Removes them.
    public func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP TABLE IF EXISTS oidc_client_assertions").run()
        try await sql.raw("ALTER TABLE oidc_clients DROP COLUMN jwks").run()
    }
}
