import FluentKit
import SQLKit

/// Creates the append-only, hash-chained audit log and the row that holds its head.
public struct M0002_CreateAuditLog: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the tables and the triggers that refuse updates and deletes of entries.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE audit_log (
                seq BIGINT PRIMARY KEY,
                recorded_at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                before_digest TEXT,
                after_digest TEXT,
                detail TEXT,
                previous_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, seq)").run()
        // One row that every writer updates first: it serialises appends (a row lock on
        // PostgreSQL, the write lock on SQLite) and records the tip, so a truncated log shows.
        try await sql.raw("""
            CREATE TABLE audit_head (
                id INTEGER PRIMARY KEY,
                seq BIGINT NOT NULL,
                hash TEXT NOT NULL
            )
            """).run()
        try await sql.raw("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, \(bind: AuditChain.genesisHash))").run()
        switch SQLEngine(sql) {
        case .sqlite:
            try await sql.raw("""
                CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """).run()
        case .postgres:
            try await sql.raw("""
                CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
                """).run()
        }
    }

    /// Drops the tables.
    public func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP TABLE IF EXISTS audit_log").run()
        try await sql.raw("DROP TABLE IF EXISTS audit_head").run()
        if SQLEngine(sql) == .postgres {
            try await sql.raw("DROP FUNCTION IF EXISTS audit_log_refuse_change()").run()
        }
    }
}
