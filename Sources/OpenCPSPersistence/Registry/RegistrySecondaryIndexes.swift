import FluentKit
import SQLKit

/// The registry's search indexes (created by M0001), and on PostgreSQL its primary and
/// foreign keys, which a first import into an empty registry builds once, at the end,
/// instead of row by row.
///
/// While they are dropped, searches by name, structure or department still answer, slowly.
/// On PostgreSQL the primary keys are built inside the import's own transaction, before its
/// commit (``createPrimaryKeys(on:)``): no row is ever visible without them, and a duplicate
/// key undoes the whole import. The importer writes each professional, exercise, activity and
/// structure once (a professional seen again is updated, its exercises and activities
/// replaced), so the keys hold by construction; registry writes through the API wait for the
/// import's commit, since both hold the audit log's head. ``restore(on:)`` creates whichever
/// index or key is missing: the importer calls it when it ends, even on failure, and the
/// server at start-up, in case an import was killed.
///
/// Without its keys, PostgreSQL appends the rows of a `COPY` to the tables alone, where
/// otherwise each row goes down four B-trees (measured with `Benchmarks/registry/postgres-floor.sh`:
/// the load of a million rows from 19.0 to 7.1 s, the whole import from 27.9 to 20.0 s).
///
/// PostgreSQL checks a foreign key with a trigger per inserted row that locks the parent
/// row (a write to its page); adding the constraint after the load checks every row in one
/// join instead, as the manual's "Populating a Database" advises. The importer writes an
/// exercise or activity only in the transaction that writes its professional, so the check
/// at the end holds. SQLite's foreign keys cannot be dropped: the first import's connection
/// turns their checks off instead (``RegistryBulkWriter/inFirstImportTransaction(on:writer:_:)``).
public enum RegistrySecondaryIndexes {
    /// Name, table and columns of each index, exactly as M0001 creates them. `activities_id_nat`
    /// serves the replacement of a stored professional's activities, which a first import
    /// needs only for a person whose rows are not together in the file.
    ///
    /// `keptOnSQLite`: whether an SQLite first import keeps the index and fills it row by row.
    /// Rows arrive in idNat order and a hundred departments take every activity, so those two
    /// indexes grow at a few places, which costs the writer less than building them afterwards
    /// on one core (measured: 1 M rows in 27 s instead of 29 to 33 s with all five dropped, and
    /// 28 s with none dropped, where the writer then falls behind on the random name keys).
    ///
    /// `lane`: which of PostgreSQL's two building connections builds it (see ``restore(on:)``).
    static let all: [(name: String, table: String, columns: String, keptOnSQLite: Bool, lane: Int)] = [
        ("professionals_name_key", "professionals", "name_key, id_nat", false, 0),
        ("activities_id_nat", "activities", "id_nat", true, 1),
        ("activities_structure", "activities", "structure_id", false, 1),
        ("activities_department", "activities", "department, profession_code", true, 0),
        ("structures_name_key", "structures", "name_key, id", false, 1),
    ]

    /// Name, table and columns of each primary key, as PostgreSQL names M0001's: dropped by a
    /// first import on PostgreSQL (SQLite's cannot be) and built again before its commit.
    static let primaryKeys: [(name: String, table: String, columns: String)] = [
        ("professionals_pkey", "professionals", "id_nat"),
        ("exercises_pkey", "exercises", "id_nat, profession_code"),
        ("activities_pkey", "activities", "id"),
        ("structures_pkey", "structures", "id"),
    ]

    /// Name, table and definition of each foreign key, as PostgreSQL names M0001's, and the lane that adds it.
    static let foreignKeys: [(name: String, table: String, definition: String, lane: Int)] = [
        ("exercises_id_nat_fkey", "exercises", "FOREIGN KEY (id_nat) REFERENCES professionals (id_nat) ON DELETE CASCADE", 0),
        ("activities_id_nat_fkey", "activities", "FOREIGN KEY (id_nat) REFERENCES professionals (id_nat) ON DELETE CASCADE", 1),
    ]

    /// What each of PostgreSQL's lanes analyses once its builds are done: the columns the
    /// registry's queries filter, join and sort on (keys, name keys, department, profession),
    /// so that the first searches after an import are planned on the new rows. The other
    /// columns (addresses, labels, dates) are left to autovacuum: an ANALYZE of some columns
    /// leaves the table's count of changes since its last analysis as it was, so autovacuum
    /// analyses the whole table soon after, in the background. Measured on a million-row
    /// import: the analyses of all columns took 0.9 and 1.7 s of the two lanes.
    private static let analysedColumns = [
        "professionals (id_nat, name_key), exercises (id_nat, profession_code)",
        "activities (id, id_nat, structure_id, department, profession_code), structures (id, name_key)",
    ]

    /// Drops the indexes (and on PostgreSQL the foreign and primary keys) if the registry is
    /// empty (a first import).
    /// - Returns: whether they were dropped (and must be restored): whether this is a first import.
    public static func dropForFirstImport(on database: any Database) async throws -> Bool {
        let sql = database.sql
        for table in ["professionals", "structures"] {
            if try await sql.raw("SELECT 1 AS one FROM \(ident: table) LIMIT 1").first() != nil { return false }
        }
        let sqlite = SQLEngine(sql) == .sqlite
        for index in all where !(sqlite && index.keptOnSQLite) {
            try await sql.raw("DROP INDEX IF EXISTS \(ident: index.name)").run()
        }
        if SQLEngine(sql) == .postgres {
            // The foreign keys first: they rest on the professionals' primary key.
            for key in foreignKeys {
                try await sql.raw("ALTER TABLE \(ident: key.table) DROP CONSTRAINT IF EXISTS \(ident: key.name)").run()
            }
            for key in primaryKeys {
                try await sql.raw("ALTER TABLE \(ident: key.table) DROP CONSTRAINT IF EXISTS \(ident: key.name)").run()
            }
        }
        return true
    }

    /// Builds the primary keys that are missing (PostgreSQL; nothing is done on SQLite, whose
    /// keys are never dropped), on one connection: a first import calls it in its transaction,
    /// before the commit. PostgreSQL sorts each key with its parallel workers.
    /// - Throws: the database's error when a key does not hold (a duplicate), which undoes the
    ///   transaction it runs in.
    public static func createPrimaryKeys(on database: any Database) async throws {
        let sql = database.sql
        guard SQLEngine(sql) == .postgres else { return }
        let missing = try await missingPrimaryKeys(on: sql)
        guard !missing.isEmpty else { return }
        try await sql.raw("SET LOCAL maintenance_work_mem = '256MB'").run()
        for key in missing {
            try await sql.raw(SQLQueryString(addition(of: key))).run()
        }
    }

    private static func missingPrimaryKeys(on sql: any SQLDatabase) async throws -> [(name: String, table: String, columns: String)] {
        let present = Set(try await sql.raw("""
            SELECT c.conname AS name FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE n.nspname = current_schema() AND c.contype = 'p'
            """).all().map { try $0.decode(column: "name", as: String.self) })
        return primaryKeys.filter { !present.contains($0.name) }
    }

    private static func addition(of key: (name: String, table: String, columns: String)) -> String {
        "ALTER TABLE \(key.table) ADD CONSTRAINT \(key.name) PRIMARY KEY (\(key.columns))"
    }

    /// Creates every index and foreign key that is missing (nothing is done when none is, as at most starts).
    public static func restore(on database: any Database) async throws {
        let sql = database.sql
        let postgres = SQLEngine(sql) == .postgres
        let present: SQLQueryString = postgres
            ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
            : "SELECT name FROM sqlite_master WHERE type = 'index'"
        let existing = Set(try await sql.raw(present).all().map { try $0.decode(column: "name", as: String.self) })
        let missing = all.filter { !existing.contains($0.name) }
        var missingKeys: [(name: String, table: String, definition: String, lane: Int)] = []
        if postgres {
            let keys = Set(try await sql.raw("""
                SELECT c.conname AS name FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                WHERE n.nspname = current_schema() AND c.contype = 'f'
                """).all().map { try $0.decode(column: "name", as: String.self) })
            missingKeys = foreignKeys.filter { !keys.contains($0.name) }
        }
        // An import killed before its commit leaves empty tables without their primary keys
        // (their drop is not part of its transaction): they come first, the foreign keys rest on them.
        let absentPrimaryKeys = postgres ? try await missingPrimaryKeys(on: sql) : []
        guard !missing.isEmpty || !missingKeys.isEmpty || !absentPrimaryKeys.isEmpty else { return }
        if !absentPrimaryKeys.isEmpty {
            try await database.transaction { transaction in try await createPrimaryKeys(on: transaction) }
        }
        // On PostgreSQL, two connections ("lanes") build at once (a CREATE INDEX lets another run
        // on the same table), so that the server uses both cores; SQLite has one writer. The
        // lanes are balanced by the build times of a million-row import (activities' indexes
        // are the longest), and each ends by analysing its tables' searched columns, as PostgreSQL's
        // manual advises after a bulk load: the planner gets the new tables' statistics before the
        // first search. The tables are not vacuumed here: nothing in them is dead, and the
        // visibility map (for index-only scans, which the registry's queries do not use) is set
        // by autovacuum, which PostgreSQL 13 and later start after many inserts; a VACUUM took a
        // quarter of the end of a million-row import. A lane's ANALYZE or foreign key waits for
        // the other lane's builds on the same tables; neither holds one table while waiting for
        // another, so they cannot deadlock.
        var statements: [[SQLQueryString]] = postgres ? [[], []] : [[]]
        for index in missing {
            statements[postgres ? index.lane : 0].append(SQLQueryString(creation(of: index)))
        }
        for key in missingKeys {
            statements[key.lane].append(
                "ALTER TABLE \(ident: key.table) ADD CONSTRAINT \(ident: key.name) \(unsafeRaw: key.definition)")
        }
        if postgres {
            for (lane, columns) in analysedColumns.enumerated() {
                statements[lane].append("ANALYZE \(unsafeRaw: columns)")
            }
        }
        let parts = statements.filter { !$0.isEmpty }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in parts {
                group.addTask {
                    try await database.withConnection { connection in
                        try await build(part, on: connection.sql, postgres: postgres)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Creates the missing indexes on an SQLite writer's connection, in its transaction if it
    /// is in one: an SQLite first import builds them before its commit, on the connection whose
    /// page cache holds the tables it has just written, and their pages are written once, with
    /// the rows'. The connection's page cache must be large enough to sort in.
    static func create(on session: SQLiteWriter.Session) throws {
        for index in all {
            try session.execute(creation(of: index))
        }
    }

    /// The statement that creates `index` unless it exists (its names are constants of ``all``).
    private static func creation(of index: (name: String, table: String, columns: String, keptOnSQLite: Bool, lane: Int)) -> String {
        "CREATE INDEX IF NOT EXISTS \(index.name) ON \(index.table) (\(index.columns))"
    }

    /// Runs index builds and constraint additions on one connection, with memory to sort in.
    private static func build(_ statements: [SQLQueryString], on sql: any SQLDatabase, postgres: Bool) async throws {
        if postgres {
            // Index builds and the foreign keys' checks sort in memory.
            try await sql.raw("SET maintenance_work_mem = '256MB'").run()
            try await sql.raw("SET work_mem = '256MB'").run()
        } else {
            // Sorted in memory rather than in temporary files.
            try await SQLEngine.enlargeSQLiteCache(sql, megabytes: 256)
        }
        for statement in statements {
            try await sql.raw(statement).run()
        }
        if postgres {
            try await sql.raw("RESET maintenance_work_mem").run()
            try await sql.raw("RESET work_mem").run()
        } else {
            try await sql.raw("PRAGMA cache_size = -2000").run()
        }
    }
}
