import FluentKit
import SQLKit

/// Creates the registry: professionals, their exercises and activities, and structures.
public struct M0001_CreateRegistry: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the tables and their indexes.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        // Name keys compare byte-wise so that a prefix is a range on the index, whatever the
        // server's locale: PostgreSQL needs the C collation said explicitly.
        let binaryText = SQLEngine(sql) == .postgres ? "TEXT COLLATE \"C\"" : "TEXT"
        try await sql.raw("""
            CREATE TABLE professionals (
                id_nat TEXT PRIMARY KEY,
                id_type TEXT NOT NULL,
                civilite TEXT,
                last_name TEXT NOT NULL,
                first_name TEXT NOT NULL,
                name_key \(unsafeRaw: binaryText) NOT NULL,
                version INTEGER NOT NULL,
                updated_at TEXT NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX professionals_name_key ON professionals (name_key, id_nat)").run()
        try await sql.raw("""
            CREATE TABLE exercises (
                id_nat TEXT NOT NULL REFERENCES professionals (id_nat) ON DELETE CASCADE,
                profession_code TEXT NOT NULL,
                category_code TEXT NOT NULL,
                civilite_exercice TEXT,
                savoir_faire_type TEXT,
                savoir_faire_code TEXT,
                savoir_faire_label TEXT,
                ordre TEXT,
                registered_on TEXT,
                registration_number TEXT,
                PRIMARY KEY (id_nat, profession_code)
            )
            """).run()
        try await sql.raw("""
            CREATE TABLE activities (
                id TEXT PRIMARY KEY,
                id_nat TEXT NOT NULL REFERENCES professionals (id_nat) ON DELETE CASCADE,
                profession_code TEXT NOT NULL,
                mode_code TEXT NOT NULL,
                structure_id TEXT,
                structure_name TEXT,
                sector_code TEXT,
                department TEXT,
                address_line TEXT,
                postal_code TEXT,
                city TEXT
            )
            """).run()
        try await sql.raw("CREATE INDEX activities_id_nat ON activities (id_nat)").run()
        try await sql.raw("CREATE INDEX activities_structure ON activities (structure_id)").run()
        try await sql.raw("CREATE INDEX activities_department ON activities (department, profession_code)").run()
        try await sql.raw("""
            CREATE TABLE structures (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                number TEXT NOT NULL,
                name TEXT NOT NULL,
                name_key \(unsafeRaw: binaryText) NOT NULL,
                sector_code TEXT,
                department TEXT,
                address_line TEXT,
                postal_code TEXT,
                city TEXT,
                legal_entity_finess TEXT,
                updated_at TEXT NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX structures_name_key ON structures (name_key, id)").run()
    }

    /// Drops the tables.
    public func revert(on database: any Database) async throws {
        for table in ["activities", "exercises", "professionals", "structures"] {
            try await database.sql.raw("DROP TABLE IF EXISTS \(unsafeRaw: table)").run()
        }
    }
}
