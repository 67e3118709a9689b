import FluentKit
import SQLKit

/// Stores the audit log's signed checkpoints (``AuditCheckpoint``), append-only like the log,
/// and on PostgreSQL refuses `TRUNCATE` of the log, which row triggers do not see.
public struct M0015_AuditCheckpoints: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the table, its append-only triggers and PostgreSQL's truncate triggers.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE audit_checkpoints (
                seq BIGINT PRIMARY KEY,
                head_hash TEXT NOT NULL,
                recorded_at TEXT NOT NULL,
                signature TEXT NOT NULL
            )
            """).run()
        switch SQLEngine(sql) {
        case .sqlite:
            try await sql.raw("""
                CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
                BEGIN SELECT RAISE(ABORT, 'the audit checkpoints are append-only'); END
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
                BEGIN SELECT RAISE(ABORT, 'the audit checkpoints are append-only'); END
                """).run()
        case .postgres:
            // audit_log_refuse_change() comes from M0002.
            try await sql.raw("""
                CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
                FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
                """).run()
            for table in ["audit_log", "audit_checkpoints"] {
                try await sql.raw("""
                    CREATE TRIGGER \(unsafeRaw: table)_no_truncate BEFORE TRUNCATE ON \(unsafeRaw: table)
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
                    """).run()
            }
        }
    }

    /// Drops the table and the truncate trigger of the log.
    public func revert(on database: any Database) async throws {
        let sql = database.sql
        if SQLEngine(sql) == .postgres {
            try await sql.raw("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log").run()
        }
        try await sql.raw("DROP TABLE IF EXISTS audit_checkpoints").run()
    }
}
