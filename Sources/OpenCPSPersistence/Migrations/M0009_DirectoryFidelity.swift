import FluentKit
import SQLKit

/// Keeps what the directory file says (issue 26): a professional's flagged fields, each
/// activity's function, genre and pharmacists' section, and a structure's kind of entity
/// (site or legal entity), technical identifier, SIREN, former identifier and trade name.
///
/// Columns are added, nullable, so that every stored row stays as it was; a structure
/// stored before reads as a site (`entity` NULL).
public struct M0009_DirectoryFidelity: AsyncMigration {
    static let additions: [(table: String, column: String)] = [
        ("professionals", "flags"),
        ("activities", "fonction_code"),
        ("activities", "genre_code"),
        ("activities", "section_code"),
        ("structures", "entity"),
        ("structures", "technical_id"),
        ("structures", "siren"),
        ("structures", "former_id"),
        ("structures", "trade_name"),
    ]

    /// Creates the migration.
    public init() {}

    /// Adds the columns, and the indexes that the directory's `partof` and SIREN searches read.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        for (table, column) in Self.additions {
            try await sql.raw("ALTER TABLE \(ident: table) ADD COLUMN \(ident: column) TEXT").run()
        }
        try await sql.raw("CREATE INDEX structures_legal_entity ON structures (legal_entity_finess)").run()
        try await sql.raw("CREATE INDEX structures_siren ON structures (siren)").run()
    }

    /// Drops them.
    public func revert(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("DROP INDEX IF EXISTS structures_legal_entity").run()
        try await sql.raw("DROP INDEX IF EXISTS structures_siren").run()
        for (table, column) in Self.additions.reversed() {
            try await sql.raw("ALTER TABLE \(ident: table) DROP COLUMN \(ident: column)").run()
        }
    }
}
