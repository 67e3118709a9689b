import FluentKit
import SQLKit

/// One row holding the revocation version: a number raised by every change of a certificate's
/// status (revocation, hold, release, supersession) in the transaction that makes it. An OCSP
/// answer records the version its status was read at, so that a server can tell an answer
/// that may predate a change (``RevocationVersionRepository``).
public struct M0012_RevocationVersion: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the table and its single row, at version 0.
    public func prepare(on database: any Database) async throws {
        try await database.sql.raw("CREATE TABLE revocation_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)").run()
        try await database.sql.raw("INSERT INTO revocation_version (id, version) VALUES (1, 0)").run()
    }

    /// Drops the table.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP TABLE revocation_version").run()
    }
}
