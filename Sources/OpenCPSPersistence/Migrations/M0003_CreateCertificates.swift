import FluentKit
import SQLKit

/// Creates the certificates every issuing CA has issued, with their revocation state, and
/// the CRL numbering of each CA.
public struct M0003_CreateCertificates: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the tables.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE certificates (
                issuer TEXT NOT NULL,
                serial TEXT NOT NULL,
                profile TEXT NOT NULL,
                subject TEXT NOT NULL,
                id_nat TEXT,
                card_serial TEXT,
                not_before TEXT NOT NULL,
                not_after TEXT NOT NULL,
                issued_at TEXT NOT NULL,
                der TEXT NOT NULL,
                revoked_at TEXT,
                reason INTEGER,
                released_at TEXT,
                PRIMARY KEY (issuer, serial)
            )
            """).run()
        try await sql.raw("CREATE INDEX certificates_id_nat ON certificates (id_nat)").run()
        try await sql.raw("CREATE INDEX certificates_revoked ON certificates (issuer, revoked_at)").run()
        try await sql.raw("""
            CREATE TABLE crl_numbers (
                issuer TEXT PRIMARY KEY,
                last_number BIGINT NOT NULL
            )
            """).run()
    }

    /// Drops the tables.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP TABLE IF EXISTS certificates").run()
        try await database.sql.raw("DROP TABLE IF EXISTS crl_numbers").run()
    }
}
