import FluentKit
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import SQLKit
import Vapor
import Testing

/// On PostgreSQL a first import drops the registry's primary keys and builds them again in
/// its own transaction; identifier columns compare byte-wise (M0007).
@Suite("Registry keys on PostgreSQL")
struct RegistryKeysTests {
    static let primaryKeys = ["activities_pkey", "exercises_pkey", "professionals_pkey", "structures_pkey"]
    static let foreignKeys = ["activities_id_nat_fkey", "exercises_id_nat_fkey"]

    /// The registry's columns that identify, join or sort rows: byte-wise collated (M0007) and
    /// analysed at the end of a first import.
    static let searchedColumns = [
        "activities.department", "activities.id", "activities.id_nat", "activities.profession_code", "activities.structure_id",
        "exercises.id_nat", "exercises.profession_code", "professionals.id_nat", "professionals.name_key",
        "structures.id", "structures.name_key",
    ]

    /// `table.column` for each row of a catalogue query.
    static func qualifiedColumns(_ rows: [any SQLRow], table: String, column: String) throws -> [String] {
        try rows.map { "\(try $0.decode(column: table, as: String.self)).\(try $0.decode(column: column, as: String.self))" }
    }

    /// Imports 120 generated rows into the empty registry of `app` (a first import, seven
    /// professionals a batch) and returns its database.
    func firstImport(into app: Application, seed: UInt64) async throws -> any SQLDatabase {
        let report = try await DirectoryImporter(database: app.db, clock: FixedWallClock(testNow), professionalsPerBatch: 7)
            .run(reader: ExtractionLineReader(bytes: ExtractionGenerator(seed: seed).bytes(rows: 120)), source: "seed \(seed)", actor: "test")
        #expect(report.rowsImported == 120)
        return try #require(app.db as? any SQLDatabase)
    }

    /// The names of the current schema's constraints of a kind (`p` primary, `f` foreign).
    func constraints(_ kind: String, on sql: any SQLDatabase) async throws -> [String] {
        try await sql.raw("""
            SELECT c.conname AS name FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            JOIN pg_class t ON t.oid = c.conrelid
            WHERE n.nspname = current_schema() AND c.contype = \(bind: kind)
              AND t.relname IN ('professionals', 'exercises', 'activities', 'structures')
            ORDER BY c.conname
            """).all().map { try $0.decode(column: "name", as: String.self) }
    }

    @Test("identifier columns have the C collation, name keys too, and other text the database's", .enabled(if: TestDatabase.isPostgres))
    func collation() async throws {
        try await withTestApp { app in
            let sql = try #require(app.db as? any SQLDatabase)
            let rows = try await sql.raw("""
                SELECT table_name, column_name, collation_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name IN ('professionals', 'exercises', 'activities', 'structures')
                  AND collation_name = 'C'
                ORDER BY table_name, column_name
                """).all()
            let binary = try Self.qualifiedColumns(rows, table: "table_name", column: "column_name")
            #expect(binary == Self.searchedColumns)
        }
    }

    @Test("a first import leaves planner statistics on the searched columns only (autovacuum analyses the rest)", .enabled(if: TestDatabase.isPostgres))
    func statisticsAfterFirstImport() async throws {
        try await withTestApp { app in
            let sql = try await firstImport(into: app, seed: 6)
            let rows = try await sql.raw("""
                SELECT tablename, attname FROM pg_stats
                WHERE schemaname = current_schema() AND tablename IN ('professionals', 'exercises', 'activities', 'structures')
                ORDER BY tablename, attname
                """).all()
            let analysed = try Self.qualifiedColumns(rows, table: "tablename", column: "attname")
            #expect(analysed == Self.searchedColumns)
        }
    }

    @Test("a first import ends with every primary and foreign key in place", .enabled(if: TestDatabase.isPostgres))
    func keysAfterFirstImport() async throws {
        try await withTestApp { app in
            let sql = try await firstImport(into: app, seed: 5)
            #expect(try await constraints("p", on: sql) == Self.primaryKeys)
            #expect(try await constraints("f", on: sql) == Self.foreignKeys)
            // The keys hold: a second professional with a stored idNat is refused.
            let idNat = try #require(try await sql.raw("SELECT id_nat FROM professionals LIMIT 1").first()?.decode(column: "id_nat", as: String.self))
            await #expect(throws: (any Error).self) {
                try await sql.raw("""
                    INSERT INTO professionals (id_nat, id_type, last_name, first_name, name_key, version, updated_at)
                    VALUES (\(bind: idNat), '8', 'X', 'Y', 'X Y', 1, '2026-01-01T00:00:00Z')
                    """).run()
            }
        }
    }

    @Test("a duplicate key undoes the first import's transaction; restoring builds the keys on what is left", .enabled(if: TestDatabase.isPostgres))
    func duplicateUndoesTheImport() async throws {
        try await withTestApp { app in
            let sql = try #require(app.db as? any SQLDatabase)
            #expect(try await RegistrySecondaryIndexes.dropForFirstImport(on: app.db))
            #expect(try await constraints("p", on: sql).isEmpty)
            await #expect(throws: (any Error).self) {
                try await RegistryBulkWriter.inFirstImportTransaction(on: app.db) { db in
                    for _ in 0..<2 {
                        try await (db as! any SQLDatabase).raw("""
                            INSERT INTO professionals (id_nat, id_type, last_name, first_name, name_key, version, updated_at)
                            VALUES ('810100271385', '8', 'MARTIN', 'PAUL', 'MARTIN PAUL', 1, '2026-01-01T00:00:00Z')
                            """).run()
                    }
                }
            }
            let count = try await sql.raw("SELECT COUNT(*) AS n FROM professionals").first()?.decode(column: "n", as: Int.self)
            #expect(count == 0)
            // What an import killed before its commit leaves (empty tables without keys) is mended at start-up.
            try await RegistrySecondaryIndexes.restore(on: app.db)
            #expect(try await constraints("p", on: sql) == Self.primaryKeys)
            #expect(try await constraints("f", on: sql) == Self.foreignKeys)
        }
    }
}
