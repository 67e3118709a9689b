import FluentKit
import SQLKit

/// On PostgreSQL, the registry's identifier columns compare byte-wise (`COLLATE "C"`).
///
/// Identifiers (idNat, profession and department codes, structure and activity ids) are ASCII
/// codes whose order is their bytes'; nothing is gained by sorting them under the database's
/// locale. Under any other collation than `C` — `C.UTF-8` and `fr_FR.UTF-8` included — every
/// comparison of their B-trees goes through the C library's `strcoll` and PostgreSQL turns off
/// its abbreviated keys, so that inserting into and building these indexes costs far more.
/// Measured on a million-row import (`Benchmarks/registry/postgres-floor.sh`, the server
/// alone, database in `C.UTF-8`): 35.9 s before, 27.9 s after. It also gives both engines the
/// same order (SQLite compares text byte-wise).
///
/// The foreign keys are dropped while the columns change and added back afterwards; the
/// indexes on the columns are rebuilt by the change itself. SQLite: nothing is done.
public struct M0007_BinaryIdentifierCollation: AsyncMigration {
    /// The identifier columns of each registry table.
    static let columns: [(table: String, columns: [String])] = [
        ("professionals", ["id_nat"]),
        ("exercises", ["id_nat", "profession_code"]),
        ("activities", ["id", "id_nat", "profession_code", "structure_id", "department"]),
        ("structures", ["id"]),
    ]

    /// Creates the migration.
    public init() {}

    /// Gives the identifier columns the `C` collation.
    public func prepare(on database: any Database) async throws {
        try await collate(#""C""#, on: database)
    }

    /// Gives them the database's default collation back.
    public func revert(on database: any Database) async throws {
        try await collate(#""default""#, on: database)
    }

    private func collate(_ collation: String, on database: any Database) async throws {
        let sql = database.sql
        guard SQLEngine(sql) == .postgres else { return }
        try await database.transaction { transaction in
            let sql = transaction.sql
            for key in RegistrySecondaryIndexes.foreignKeys {
                try await sql.raw("ALTER TABLE \(ident: key.table) DROP CONSTRAINT IF EXISTS \(ident: key.name)").run()
            }
            for (table, columns) in Self.columns {
                let changes = columns.map { "ALTER COLUMN \($0) TYPE TEXT COLLATE \(collation)" }.joined(separator: ", ")
                try await sql.raw("ALTER TABLE \(ident: table) \(unsafeRaw: changes)").run()
            }
            for key in RegistrySecondaryIndexes.foreignKeys {
                try await sql.raw("ALTER TABLE \(ident: key.table) ADD CONSTRAINT \(ident: key.name) \(unsafeRaw: key.definition)").run()
            }
        }
    }
}
