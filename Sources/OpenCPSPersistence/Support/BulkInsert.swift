import FluentKit
import Logging
import NIOCore
import PostgresNIO
import SQLKit
import SQLiteNIO

/// Bulk inserts for imports, through each engine's fastest path, in two steps: ``prepare``
/// encodes the rows for the engine (pure CPU work, which an import does while the batch
/// before is being written) and ``send(_:on:)`` or ``insert(_:on:)`` writes them.
///
/// SQLKit binds each value through `Encodable`, which costs more than the database's own
/// work at a million rows; here values are text or NULL, packed (``PackedRows``). SQLite gets
/// prepared `INSERT`s of 64 rows on an ``SQLiteWriter``; PostgreSQL gets `COPY ... FROM STDIN`
/// (through a temporary table of the same shape when rows may conflict, then one `INSERT ...
/// SELECT ... ON CONFLICT`). Other drivers, and SQLite without a file, take SQLKit's path.
enum BulkInsert {
    /// Which path a database takes.
    enum Engine: Sendable {
        case sqlite, postgres, generic

        init(_ database: any Database) {
            if database is any PostgresDatabase {
                self = .postgres
            } else if database is any SQLiteDatabase {
                self = .sqlite
            } else {
                self = .generic
            }
        }
    }

    /// Rows of one table encoded for one engine.
    struct Payload: Sendable {
        fileprivate enum Encoded: Sendable {
            /// Values, and which columns are integers.
            case rows(PackedRows, integerColumns: [Bool])
            /// COPY's text format.
            case postgres(ByteBuffer)
        }

        fileprivate let table: String
        fileprivate let columns: [String]
        fileprivate let conflict: String?
        /// For rows known to be stored already, on PostgreSQL: the key they are found by and
        /// the `SET` list of the `UPDATE` that writes them (see ``prepareUpdate``).
        fileprivate var update: (key: String, assignments: String)?
        fileprivate let encoded: Encoded
        /// Whether there is no row to write.
        let isEmpty: Bool

        /// The `INSERT` before its `VALUES` tuples, for both insert paths.
        fileprivate var insertHead: String { insertHead(verb: "INSERT") }

        /// The same with another verb (`INSERT OR ROLLBACK`).
        fileprivate func insertHead(verb: String) -> String {
            "\(verb) INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        }
        /// The conflict clause after the tuples, if any.
        fileprivate var conflictTail: String { conflict.map { " ON CONFLICT \($0)" } ?? "" }
    }

    /// Encodes `rows` for `engine`, with an optional `ON CONFLICT` clause: `COPY` text written
    /// straight from the rows for PostgreSQL, packed values for the others.
    static func prepare<Row: BulkRow>(
        _ rows: [Row], into table: String, integerColumns: Set<String> = [], conflict: String?, for engine: Engine
    ) -> Payload {
        let encoded: Payload.Encoded
        switch engine {
        case .postgres:
            encoded = .postgres(Row.copyText(rows).buffer)
        case .sqlite, .generic:
            encoded = .rows(Row.packed(rows), integerColumns: Row.columns.map(integerColumns.contains))
        }
        return Payload(table: table, columns: Row.columns, conflict: conflict, encoded: encoded, isEmpty: rows.isEmpty)
    }

    /// Encodes rows that are all stored already, for PostgreSQL, as an update of the stored
    /// rows found by `key`: `COPY` into a temporary table of the same shape, then one
    /// `UPDATE ... FROM` it. Unlike `ON CONFLICT`, it needs no unique index on `key`, which a
    /// first import has dropped. Each of `copied` takes the row's value; `assignments` adds
    /// the `SET` items computed from the stored row (`version = professionals.version + 1`).
    static func prepareUpdate<Row: BulkRow>(
        _ rows: [Row], into table: String, key: String, copied: [String], assignments: String
    ) -> Payload {
        let staging = stagingTable(of: table)
        let set = (copied.map { "\($0) = \(staging).\($0)" } + [assignments]).joined(separator: ", ")
        var payload = Payload(
            table: table, columns: Row.columns, conflict: nil, encoded: .postgres(Row.copyText(rows).buffer), isEmpty: rows.isEmpty)
        payload.update = (key, set)
        return payload
    }

    /// The temporary table rows are staged in before they are merged into `table`.
    private static func stagingTable(of table: String) -> String { "opencps_bulk_\(table)" }

    /// Writes a payload made by ``prepare`` for this database's engine.
    static func send(_ payload: Payload, on database: any Database) async throws {
        guard !payload.isEmpty else { return }
        switch payload.encoded {
        case .postgres(let text):
            guard let postgres = database as? any PostgresDatabase else {
                preconditionFailure("a payload prepared for PostgreSQL is sent to another engine")
            }
            try await copy(text, of: payload, on: postgres, logger: database.logger)
        case .rows(let rows, let integerColumns):
            try await sendThroughSQLKit(rows.strings, payload: payload, integerColumns: integerColumns, on: database)
        }
    }

    /// Rows per prepared `INSERT` on SQLite (see ``SQLiteWriter``'s `insert`).
    static let sqliteRowsPerStatement = 64

    /// Writes a payload made by ``prepare`` for SQLite inside an ``SQLiteWriter``'s job.
    static func insert(_ payload: Payload, on session: SQLiteWriter.Session) throws {
        guard !payload.isEmpty else { return }
        guard case .rows(let rows, let integerColumns) = payload.encoded, payload.update == nil else {
            preconditionFailure("a payload prepared for PostgreSQL is sent to SQLite")
        }
        let tuple = "(" + Array(repeating: "?", count: payload.columns.count).joined(separator: ", ") + ")"
        // A statement of many rows that may stop half-way on a broken constraint keeps a
        // statement journal (a copy of every page it changes) to undo its own part; with
        // `OR ROLLBACK` a failure undoes the whole transaction instead, which is what a batch
        // does anyway, and SQLite keeps no such journal.
        let head = payload.insertHead(verb: "INSERT OR ROLLBACK")
        try session.insert(rows, rowsPerStatement: sqliteRowsPerStatement, sql: { count in
            head + Array(repeating: tuple, count: count).joined(separator: ", ") + payload.conflictTail
        }, integerColumns: integerColumns)
    }

    /// Writes rows with SQLKit's binds.
    private static func sendThroughSQLKit(_ rows: [[String?]], payload: Payload, integerColumns: [Bool], on database: any Database) async throws {
        // SQLite allows 32,766 parameters in one statement, PostgreSQL 65,535.
        let rowsPerStatement = max(1, 30_000 / payload.columns.count)
        let head = payload.insertHead
        let tail = payload.conflictTail
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let chunk = rows[start..<min(rows.count, start + rowsPerStatement)]
            var query = SQLQueryString(head)
            for (rowIndex, row) in chunk.enumerated() {
                query.appendInterpolation(unsafeRaw: rowIndex == 0 ? "(" : ", (")
                for (index, value) in row.enumerated() {
                    if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
                    if integerColumns[index], let value, let number = Int(value) {
                        query.appendInterpolation(bind: number)
                    } else {
                        query.appendInterpolation(bind: value)
                    }
                }
                query.appendInterpolation(unsafeRaw: ")")
            }
            query.appendInterpolation(unsafeRaw: tail)
            try await database.sql.raw(query).run()
        }
    }

    /// Sends rows with `COPY ... FROM STDIN` in text format, straight into the table or, with a
    /// conflict clause or as an update, into a temporary table emptied at commit and then merged.
    private static func copy(_ data: ByteBuffer, of payload: Payload, on postgres: any PostgresDatabase, logger: Logger) async throws {
        let table = payload.table
        let columnList = payload.columns.joined(separator: ", ")
        let staging = stagingTable(of: table)
        let merge: String?
        if let update = payload.update {
            merge = "UPDATE \(table) SET \(update.assignments) FROM \(staging) WHERE \(table).\(update.key) = \(staging).\(update.key)"
        } else {
            merge = payload.conflict.map { "INSERT INTO \(table) (\(columnList)) SELECT \(columnList) FROM \(staging) ON CONFLICT \($0)" }
        }
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                if merge != nil {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        CREATE TEMPORARY TABLE IF NOT EXISTS \(staging) (LIKE \(table) INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                        """), logger: logger)
                }
                try await connection.copyFrom(table: merge == nil ? table : staging, columns: payload.columns, logger: logger) { writer in
                    try await writer.write(data)
                }
                if let merge {
                    try await connection.query(PostgresQuery(unsafeSQL: merge), logger: logger)
                    // Emptied now too: a second chunk in the same transaction must not merge the first again.
                    try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(staging)"), logger: logger)
                }
            }
        }.get()
    }
}
