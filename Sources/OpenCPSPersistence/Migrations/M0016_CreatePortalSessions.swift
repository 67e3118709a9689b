import FluentKit
import SQLKit

/// Creates the portal's server-side sessions. The cookie carries a random identifier; only
/// its SHA-256 is stored, so that a copy of the database opens no session.
public struct M0016_CreatePortalSessions: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the table.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE portal_sessions (
                id_digest TEXT PRIMARY KEY,
                id_nat TEXT NOT NULL,
                csrf_token TEXT NOT NULL,
                id_token TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_used_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                ended_at TEXT
            )
            """).run()
        try await sql.raw("CREATE INDEX portal_sessions_id_nat ON portal_sessions (id_nat)").run()
    }

    /// Drops the table.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP TABLE portal_sessions").run()
    }
}
