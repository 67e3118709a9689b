import FluentKit
import SQLKit

/// Creates the portal's staff table: which person (idNat) acts for which instance or desk
/// (an order, a regional agency, the help desk), written as the audit log names the actor.
/// What a person may do on the staff pages comes from here (and, for establishment managers,
/// from their CDE/CDA cards), never from the browser.
public struct M0019_CreatePortalStaff: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the table.
    public func prepare(on database: any Database) async throws {
        try await database.sql.raw("""
            CREATE TABLE portal_staff (
                id_nat TEXT NOT NULL,
                role TEXT NOT NULL,
                added_at TEXT NOT NULL,
                PRIMARY KEY (id_nat, role)
            )
            """).run()
    }

    /// Drops the table.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP TABLE portal_staff").run()
    }
}
