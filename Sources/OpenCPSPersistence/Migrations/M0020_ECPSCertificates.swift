import FluentKit
import SQLKit

/// Short-lived authentication certificates of e-CPS devices (issue 23): which device's key each
/// certifies and which approved login it was asked after (one certificate per login: the
/// primary key refuses a second), so that revoking the device, or blocking the card the
/// certificate names, revokes them.
public struct M0020_ECPSCertificates: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the table.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE ecps_certificates (
                request_id TEXT NOT NULL PRIMARY KEY,
                issuer TEXT NOT NULL,
                serial TEXT NOT NULL,
                device_id TEXT NOT NULL,
                holder TEXT NOT NULL,
                card_serial TEXT NOT NULL,
                not_after TEXT NOT NULL,
                issued_at TEXT NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX ecps_certificates_device ON ecps_certificates (device_id)").run()
        try await sql.raw("CREATE INDEX ecps_certificates_card ON ecps_certificates (card_serial)").run()
        try await sql.raw("CREATE INDEX ecps_certificates_holder ON ecps_certificates (holder)").run()
    }

    /// Drops it.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP TABLE IF EXISTS ecps_certificates").run()
    }
}
