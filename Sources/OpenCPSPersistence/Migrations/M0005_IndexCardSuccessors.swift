import FluentKit
import SQLKit

/// Indexes cards by the card they renew, replace or reissue: a mass renewal asks, page after
/// page, which cards already have a successor.
public struct M0005_IndexCardSuccessors: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the index.
    public func prepare(on database: any Database) async throws {
        try await database.sql.raw("CREATE INDEX cards_replaces ON cards (replaces_card_id)").run()
    }

    /// Drops the index.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP INDEX IF EXISTS cards_replaces").run()
    }
}
