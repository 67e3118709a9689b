import FluentKit
import SQLKit

/// Indexes for mass renewals: cards by the card they renew, replace or reissue (which cards
/// already have a successor), and cards in order of expiry (pages of expiring cards). The
/// expiry index replaces M0004's (state, expires_on), which made each page sort every
/// remaining card.
public struct M0005_IndexCardSuccessors: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the indexes.
    public func prepare(on database: any Database) async throws {
        try await database.sql.raw("CREATE INDEX cards_replaces ON cards (replaces_card_id)").run()
        try await database.sql.raw("CREATE INDEX cards_expiry_order ON cards (expires_on, id)").run()
        try await database.sql.raw("DROP INDEX IF EXISTS cards_expiry").run()
    }

    /// Drops the indexes.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("CREATE INDEX IF NOT EXISTS cards_expiry ON cards (state, expires_on)").run()
        try await database.sql.raw("DROP INDEX IF EXISTS cards_expiry_order").run()
        try await database.sql.raw("DROP INDEX IF EXISTS cards_replaces").run()
    }
}
