import FluentKit
import SQLKit

/// Creates e-CPS's tables: enrolled devices, pending enrolments, the holders' contact details
/// for activation codes, login requests waiting for a device's decision, and the counters of
/// failed attempts behind the abuse limits (in the database, so that every node counts alike).
public struct M0011_CreateECPS: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the tables.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE ecps_devices (
                id TEXT PRIMARY KEY,
                id_nat TEXT NOT NULL,
                label TEXT NOT NULL,
                device_key TEXT NOT NULL UNIQUE,
                approval_key TEXT NOT NULL,
                method TEXT NOT NULL,
                created_at TEXT NOT NULL,
                enrolled_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                revoked_at TEXT
            )
            """).run()
        try await sql.raw("CREATE INDEX ecps_devices_id_nat ON ecps_devices (id_nat)").run()
        try await sql.raw("""
            CREATE TABLE ecps_enrolments (
                id TEXT PRIMARY KEY,
                id_nat TEXT NOT NULL,
                method TEXT NOT NULL,
                code_digest TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT,
                failed_attempts INTEGER NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX ecps_enrolments_id_nat ON ecps_enrolments (id_nat, method, created_at)").run()
        try await sql.raw("""
            CREATE TABLE ecps_contacts (
                id_nat TEXT PRIMARY KEY,
                email TEXT,
                phone TEXT,
                updated_at TEXT NOT NULL
            )
            """).run()
        try await sql.raw("""
            CREATE TABLE ecps_login_requests (
                id TEXT PRIMARY KEY,
                id_nat TEXT NOT NULL,
                client_id TEXT NOT NULL,
                client_name TEXT NOT NULL,
                binding_message TEXT NOT NULL,
                scope TEXT NOT NULL,
                server_nonce TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                state TEXT NOT NULL,
                device_id TEXT,
                decided_at TEXT,
                last_polled_at TEXT,
                poll_interval INTEGER NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX ecps_login_requests_pending ON ecps_login_requests (id_nat, state, expires_at)").run()
        try await sql.raw("""
            CREATE TABLE ecps_attempts (
                attempt_key TEXT PRIMARY KEY,
                window_start TEXT NOT NULL,
                failures INTEGER NOT NULL
            )
            """).run()
    }

    /// Drops them.
    public func revert(on database: any Database) async throws {
        let sql = database.sql
        for table in ["ecps_attempts", "ecps_login_requests", "ecps_contacts", "ecps_enrolments", "ecps_devices"] {
            try await sql.raw("DROP TABLE IF EXISTS \(ident: table)").run()
        }
    }
}
