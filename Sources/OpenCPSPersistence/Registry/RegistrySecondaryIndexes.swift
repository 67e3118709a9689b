import FluentKit
import SQLKit

/// The registry's search indexes (created by M0001), which a first import into an empty
/// registry builds once, sorted, at the end instead of row by row.
///
/// While they are dropped, searches by name, structure or department still answer, slowly.
/// ``restore(on:)`` creates whichever is missing: the importer calls it when it ends, even
/// on failure, and the server at start-up, in case an import was killed.
public enum RegistrySecondaryIndexes {
    /// Name, table and columns of each index, exactly as M0001 creates them.
    static let all: [(name: String, table: String, columns: String)] = [
        ("professionals_name_key", "professionals", "name_key, id_nat"),
        ("activities_structure", "activities", "structure_id"),
        ("activities_department", "activities", "department, profession_code"),
        ("structures_name_key", "structures", "name_key, id"),
    ]

    /// Drops the indexes if the registry is empty (a first import).
    /// - Returns: whether they were dropped (and must be restored).
    public static func dropForFirstImport(on database: any Database) async throws -> Bool {
        let sql = database.sql
        for table in ["professionals", "structures"] {
            if try await sql.raw("SELECT 1 AS one FROM \(ident: table) LIMIT 1").first() != nil { return false }
        }
        for index in all {
            try await sql.raw("DROP INDEX IF EXISTS \(ident: index.name)").run()
        }
        return true
    }

    /// Creates every index that is missing (nothing is done when none is, as at most starts).
    public static func restore(on database: any Database) async throws {
        let sql = database.sql
        let present: SQLQueryString = SQLEngine(sql) == .postgres
            ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
            : "SELECT name FROM sqlite_master WHERE type = 'index'"
        let existing = Set(try await sql.raw(present).all().map { try $0.decode(column: "name", as: String.self) })
        let missing = all.filter { !existing.contains($0.name) }
        guard !missing.isEmpty else { return }
        for index in missing {
            try await sql.raw("CREATE INDEX IF NOT EXISTS \(ident: index.name) ON \(ident: index.table) (\(unsafeRaw: index.columns))").run()
        }
        if SQLEngine(sql) == .postgres {
            // Fresh statistics for the planner after a bulk load, as PostgreSQL's manual advises.
            try await sql.raw("ANALYZE professionals, activities, structures").run()
        }
    }
}
