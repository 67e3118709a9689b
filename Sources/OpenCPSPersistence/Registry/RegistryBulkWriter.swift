import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// Writes many professionals and structures at once, for the directory import.
///
/// A batch is one transaction: it upserts the professionals (a professional already stored
/// gets the imported identity, exercises and activities; other data is left alone), their
/// exercises and activities, and the structures they name, then appends one audit entry
/// for the batch whose digest covers every row written. Rows are sent as multi-row
/// statements, which is what makes a million-row import take seconds rather than minutes.
public struct RegistryBulkWriter: Sendable {
    private let database: any Database
    private let audit: AuditLog
    private let clock: any WallClock
    private let sqliteCacheMegabytes: Int
    private let sqliteWriter: SQLiteWriter?

    /// Creates a writer.
    /// - Parameters:
    ///   - database: where to write; the batches share its transaction if it is in one.
    ///   - sqliteWriter: the SQLite file's own writer (``SQLiteWriter/open(for:)``); on SQLite,
    ///     batches go through it (and share its transaction if it is in one) rather than through `database`.
    ///   - clock: the clock for timestamps.
    ///   - sqliteCacheMegabytes: SQLite's page cache for the connection that writes (ignored on PostgreSQL).
    public init(database: any Database, sqliteWriter: SQLiteWriter? = nil, clock: any WallClock, sqliteCacheMegabytes: Int = 128) {
        self.database = database
        self.sqliteWriter = sqliteWriter
        self.clock = clock
        self.audit = AuditLog(clock: clock)
        self.sqliteCacheMegabytes = sqliteCacheMegabytes
    }

    /// Runs a first import's single transaction. On SQLite, the connection's foreign-key
    /// checks are off for it (a look-up of the professional for every exercise and activity):
    /// the importer writes those rows only beside their professional, in the same batch.
    /// The setting cannot change inside a transaction, so it is set around it and restored
    /// whatever happens.
    /// With an ``SQLiteWriter``, the transaction is the writer's, `body`'s batches must go through
    /// it, and the search indexes a first import dropped are built in it, before the commit.
    public static func inFirstImportTransaction(
        on database: any Database, writer: SQLiteWriter? = nil, _ body: @escaping @Sendable (any Database) async throws -> Void
    ) async throws {
        if let writer {
            try await writer.run { session in
                try session.execute("PRAGMA foreign_keys = OFF")
                try session.execute("BEGIN IMMEDIATE")
            }
            do {
                try await body(database)
                try await writer.run { session in
                    try RegistrySecondaryIndexes.create(on: session)
                    try session.execute("COMMIT")
                    try session.execute("PRAGMA foreign_keys = ON")
                }
            } catch {
                try? await writer.run { session in
                    if session.inTransaction { try session.execute("ROLLBACK") }
                    try session.execute("PRAGMA foreign_keys = ON")
                }
                throw error
            }
            return
        }
        guard SQLEngine(database.sql) == .sqlite else {
            try await database.transaction { transaction in
                try await body(transaction)
                // Before the commit, so that no row is ever visible without its key, and a
                // duplicate undoes the import (see RegistrySecondaryIndexes).
                try await RegistrySecondaryIndexes.createPrimaryKeys(on: transaction)
            }
            return
        }
        try await database.withConnection { connection in
            try await connection.sql.raw("PRAGMA foreign_keys = OFF").run()
            do {
                try await connection.transaction(body)
            } catch {
                try? await connection.sql.raw("PRAGMA foreign_keys = ON").run()
                throw error
            }
            try await connection.sql.raw("PRAGMA foreign_keys = ON").run()
        }
    }

    /// A batch made ready for the database: rows built, sorted and encoded for the engine,
    /// and its digest computed. Preparing is pure CPU work, done while the batch before is
    /// being written.
    public struct PreparedBatch: Sendable {
        fileprivate var replacedIDs: [String]
        fileprivate var payloads: [BulkInsert.Payload]
        fileprivate var digest: String
        fileprivate var detail: String
        fileprivate var source: String
        /// Whether the batch writes nothing.
        public var isEmpty: Bool { payloads.isEmpty }
    }

    /// Builds, sorts and encodes one batch's rows.
    /// - Parameters:
    ///   - professionals: each professional with every exercise and activity of the batch;
    ///     a professional appears at most once.
    ///   - structures: the structures the activities name; an existing structure is kept as is.
    ///   - alreadyStored: nil when any professional may be stored already; otherwise, in a
    ///     first import into an empty registry, the idNats of the batch that earlier batches
    ///     wrote (the others, and the structures, are new: they skip the replacement and
    ///     conflict handling).
    ///   - source: what the batch is, for the audit log (file and line range).
    public func prepare(
        professionals: [Professional], structures: [Structure], alreadyStored: Set<String>? = nil, source: String
    ) -> PreparedBatch {
        let engine: BulkInsert.Engine = BulkInsert.Engine(database)
        let now = StoredTimestamp.string(clock.now())
        var professionalRows: [ProfessionalRow] = []
        var exerciseRows: [ExerciseRow] = []
        var activityRows: [ActivityRow] = []
        professionalRows.reserveCapacity(professionals.count)
        for professional in professionals {
            professionalRows.append(ProfessionalRow(professional, version: 1, updatedAt: now))
            RegistryRows.append(professional, exercises: &exerciseRows, activities: &activityRows)
        }
        var structureRows = structures.map { StructureRow($0, updatedAt: now) }
        // The digest covers the rows in the batch's own order, whichever order they are written in.
        // Each row's line is gathered with the others and hashed 64 KiB at a time: an update
        // of the hash per string took 2.5 % of a million-row import.
        var hasher = SHA256()
        var lines: [UInt8] = []
        lines.reserveCapacity(1 << 16 + 256)
        func hash(_ key: String, _ value: String) {
            lines.append(contentsOf: key.utf8)
            lines.append(UInt8(ascii: "|"))
            lines.append(contentsOf: value.utf8)
            lines.append(UInt8(ascii: "\n"))
            if lines.count >= 1 << 16 {
                hasher.update(data: lines)
                lines.removeAll(keepingCapacity: true)
            }
        }
        for row in professionalRows { hash(row.id_nat, row.name_key) }
        for row in activityRows { hash(row.id, row.structure_id ?? "") }
        for row in structureRows { hash(row.id, row.name_key) }
        hasher.update(data: lines)
        // Rows in key order land next to each other in the B-trees, which halves the page work.
        // A first import on PostgreSQL writes into tables without any index (they are built at
        // the end), where the order does not matter: sorting would only cost time.
        if !(engine == .postgres && alreadyStored != nil) {
            professionalRows.sort { $0.id_nat < $1.id_nat }
            exerciseRows.sort { ($0.id_nat, $0.profession_code) < ($1.id_nat, $1.profession_code) }
            activityRows.sort { $0.id < $1.id }
            structureRows.sort { $0.id < $1.id }
        }

        let upsert = "(id_nat) DO UPDATE SET civilite = excluded.civilite, last_name = excluded.last_name, first_name = excluded.first_name, name_key = excluded.name_key, flags = excluded.flags, version = professionals.version + 1, updated_at = excluded.updated_at"
        // New professionals go straight in; PostgreSQL would otherwise stage them for the upsert.
        // Those that may be stored are upserted, and their exercises and activities replaced.
        var newRows: [ProfessionalRow] = []
        var storedRows = professionalRows
        if alreadyStored?.isEmpty == true {
            swap(&newRows, &storedRows)
        } else if let alreadyStored {
            newRows = professionalRows.filter { !alreadyStored.contains($0.id_nat) }
            storedRows = professionalRows.filter { alreadyStored.contains($0.id_nat) }
        }
        func payload<Row: BulkRow>(
            _ rows: [Row], into table: String, integerColumns: Set<String> = [], conflict: String?
        ) -> BulkInsert.Payload {
            BulkInsert.prepare(rows, into: table, integerColumns: integerColumns, conflict: conflict, for: engine)
        }
        let stored: BulkInsert.Payload
        if engine == .postgres, alreadyStored != nil {
            // A first import on PostgreSQL has dropped the primary keys that `ON CONFLICT`
            // needs; the professionals it meets again are those it wrote itself.
            stored = BulkInsert.prepareUpdate(
                storedRows, into: "professionals", key: "id_nat",
                copied: ["civilite", "last_name", "first_name", "name_key", "updated_at", "flags"],
                assignments: "version = professionals.version + 1")
        } else {
            stored = payload(storedRows, into: "professionals", integerColumns: ["version"], conflict: upsert)
        }
        let payloads = [
            payload(newRows, into: "professionals", integerColumns: ["version"], conflict: nil),
            stored,
            payload(exerciseRows, into: "exercises", conflict: nil),
            payload(activityRows, into: "activities", conflict: nil),
            // The importer writes each structure once; into an empty registry, none is stored.
            payload(structureRows, into: "structures", conflict: alreadyStored == nil ? "(id) DO NOTHING" : nil),
        ]
        return PreparedBatch(
            replacedIDs: storedRows.map(\.id_nat), payloads: payloads.filter { !$0.isEmpty }, digest: hasher.finalize().hexString,
            detail: "\(professionalRows.count) professionals, \(activityRows.count) activities, \(structureRows.count) structures",
            source: source)
    }

    /// Writes a prepared batch in one transaction (or in the one the writer's database is in)
    /// with its audit entry.
    /// - Parameters:
    ///   - batch: from ``prepare(professionals:structures:alreadyStored:source:)``.
    ///   - actor: who runs the import, for the audit log.
    public func write(_ batch: PreparedBatch, actor: String) async throws {
        guard !batch.isEmpty else { return }
        let event = AuditEvent(
            actor: actor, action: "registry.import", entityType: "import", entityID: batch.source,
            afterDigest: batch.digest, detail: batch.detail)
        if let sqliteWriter {
            let recordedAt = StoredTimestamp.string(clock.now())
            let cachePages = -sqliteCacheMegabytes * 1024
            try await sqliteWriter.run { session in
                try session.execute("PRAGMA cache_size = \(cachePages)")
                try session.transaction {
                    let head = try AuditLog.lock(session)
                    // An imported professional's exercises and activities are replaced by the file's.
                    for table in ["activities", "exercises"] {
                        let delete = try session.statement("DELETE FROM \(table) WHERE id_nat = ?")
                        for idNat in batch.replacedIDs {
                            try delete.bind(1, idNat)
                            try delete.runToEnd()
                        }
                    }
                    for payload in batch.payloads {
                        try BulkInsert.insert(payload, on: session)
                    }
                    try AuditLog.append([event], after: head, recordedAt: recordedAt, on: session)
                }
            }
            return
        }
        try await database.transaction { db in
            let sql = db.sql
            try await SQLEngine.enlargeSQLiteCache(sql, megabytes: sqliteCacheMegabytes)
            if SQLEngine(sql) == .postgres {
                // The tables grow faster than their statistics during an import: left to itself,
                // the planner keeps the sequential scans it chose on empty tables for the
                // per-batch deletes by idNat, and each batch reads every row imported so far.
                try await sql.raw("SET LOCAL enable_seqscan = off").run()
            }
            let head = try await AuditLog.lock(sql)
            // An imported professional's exercises and activities are replaced by the file's.
            for chunk in batch.replacedIDs.chunked(by: 500) {
                try await sql.delete(from: "activities").where("id_nat", .in, Array(chunk)).run()
                try await sql.delete(from: "exercises").where("id_nat", .in, Array(chunk)).run()
            }
            for payload in batch.payloads {
                try await BulkInsert.send(payload, on: db)
            }
            try await audit.append([event], after: head, on: sql)
        }
    }
}
