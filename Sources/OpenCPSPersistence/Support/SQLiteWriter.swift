// Hand-written on purpose: an SQLite connection of its own in place of SQLiteNIO's (each statement a thread-pool
// round trip, compiled anew), for the directory import, issuance's group commit and a login's two transactions.
// Why: with it (2026-11-27) issuance went 1,242 → 1,602–1,822 certificates/s, then (cd205a5) wrk p99 299 and 145 →
// 42.4 and 38.5 ms; the SQLite import 25,000–26,500 → 34,169 / 30,652 rows/s, with 9214287's kept indexes.
// A login's transactions (OIDCLoginWriter, 2026-12-06): 223 → 424 complete card logins/s (Benchmarks/oidc/run.sh).
// Benchmark: `bash Benchmarks/pki/run.sh --only issuance`, docs/benchmarks.md "Appendix: what made the difference".
// Risk: `VaporCSQLite` (the pooled connections' own SQLite and file locks; SQLiteNIO keeps its handles private) is
// sqlite-nio's internal C target, not a published product: an upgrade can break the build. Then drop this writer and
// its Session users: IssuanceRecorder's, RegistryBulkWriter's and the OIDC login's Fluent paths (taken when `open(for:)` gives nil) remain.

import FluentKit
import Foundation
import NIOPosix
import SQLKit
import SQLiteNIO
import VaporCSQLite

/// A connection of OpenCPS's own to the SQLite file behind a Fluent database, for the writes
/// that move many rows at once: the directory import and issuance's group commit.
///
/// SQLiteNIO runs every statement as its own job on a thread pool and answers on an event
/// loop, and compiles each statement anew; a transaction of a few hundred rows waits on as
/// many round trips. Here a whole transaction is one job on one thread, with statements
/// prepared once and reused, values bound straight from Swift strings.
///
/// Jobs of one writer run one at a time (a lock serialises them); several writers, and the
/// pooled connections, share the file through SQLite's own locking (30 s busy timeout).
public final class SQLiteWriter: @unchecked Sendable {
    // @unchecked: `handle` and `statements` are only touched inside `run`, under `lock`.
    private let lock = NSLock()
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The database file.
    public let path: String

    /// Opens a writer on the file behind `database`.
    /// - Returns: nil when `database` is not SQLite, or is an SQLite database without a file.
    public static func open(for database: any Database) async throws -> SQLiteWriter? {
        guard database is any SQLiteDatabase else { return nil }
        let files = try await database.sql.raw("PRAGMA database_list").all()
        guard let main = files.first(where: { (try? $0.decode(column: "name", as: String.self)) == "main" }),
              let path = try? main.decode(column: "file", as: String.self), !path.isEmpty
        else { return nil }
        return try await NIOThreadPool.singleton.runIfActive { try SQLiteWriter(path: path) }
    }

    private init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite_nio_sqlite3_close_v2(handle)
            throw SQLiteWriterError(status: status, message: message, statement: "open \(path)")
        }
        self.handle = handle
        // Waits, asleep, while another connection writes (SQLiteNIO's pooled connections retry at once).
        sqlite_nio_sqlite3_busy_timeout(handle, 30_000)
        try Session(writer: self).execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        sqlite_nio_sqlite3_close_v2(handle)
    }

    /// Runs `body` on a thread of the shared NIO thread pool, alone on this connection.
    func run<Result: Sendable>(_ body: @escaping @Sendable (Session) throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive {
            self.lock.lock()
            defer { self.lock.unlock() }
            return try body(Session(writer: self))
        }
    }

    /// Starts `body` on a thread of the shared NIO thread pool, alone on this connection, and
    /// returns at once; `body` gets nil if the pool no longer runs jobs.
    func submit(_ body: @escaping @Sendable (Session?) -> Void) {
        NIOThreadPool.singleton.submit { state in
            guard case .active = state else { return body(nil) }
            self.lock.lock()
            defer { self.lock.unlock() }
            body(Session(writer: self))
        }
    }

    /// The connection, for the duration of one job.
    struct Session {
        fileprivate let writer: SQLiteWriter

        private var handle: OpaquePointer? { writer.handle }

        /// Runs statements that take no value and return no row.
        func execute(_ sql: String) throws {
            var message: UnsafeMutablePointer<CChar>?
            let status = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, &message)
            defer { sqlite_nio_sqlite3_free(message) }
            guard status == SQLITE_OK else {
                throw SQLiteWriter.error(status, message.map { String(cString: $0) } ?? "", sql: sql)
            }
        }

        /// Whether a transaction is open on this connection.
        var inTransaction: Bool { sqlite_nio_sqlite3_get_autocommit(handle) == 0 }

        /// Runs `body` in a transaction that takes the write lock at once, unless one is open
        /// already (then `body` joins it, and whoever opened it commits).
        func transaction<Result>(_ body: () throws -> Result) throws -> Result {
            if inTransaction { return try body() }
            try execute("BEGIN IMMEDIATE")
            do {
                let result = try body()
                try execute("COMMIT")
                return result
            } catch {
                if inTransaction { try? execute("ROLLBACK") }
                throw error
            }
        }

        /// The statement for `sql`, compiled on first use and kept for the connection's life.
        func statement(_ sql: String) throws -> Statement {
            if let cached = writer.statements[sql] { return Statement(raw: cached, handle: handle, sql: sql) }
            var raw: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v2(handle, sql, -1, &raw, nil)
            guard status == SQLITE_OK, let raw else {
                throw SQLiteWriter.error(status, String(cString: sqlite_nio_sqlite3_errmsg(handle)), sql: sql)
            }
            writer.statements[sql] = raw
            return Statement(raw: raw, handle: handle, sql: sql)
        }

        /// Inserts rows with one prepared statement of one row, run once per row.
        /// - Parameters:
        ///   - rows: each a value per column (nil for NULL).
        ///   - sql: an `INSERT` with one `?` per column.
        ///   - integerColumns: which columns are bound as integers rather than text.
        func insert(_ rows: [[String?]], sql: String, integerColumns: [Bool] = []) throws {
            guard let first = rows.first else { return }
            try insert(PackedRows(rows, columns: first.count), rowsPerStatement: 1, sql: { _ in sql }, integerColumns: integerColumns)
        }

        /// Inserts packed rows with prepared statements of many rows, and one of a single row
        /// for the rest; the values are bound where they lie in `rows`' buffer, without a copy.
        ///
        /// A statement opens its cursors on the table and on each of its indexes when it starts
        /// and closes them when it ends: run once per row, that costs more than the rows' own
        /// B-tree work. A statement of many rows opens them once for all.
        /// - Parameters:
        ///   - rows: the rows.
        ///   - rowsPerStatement: how many rows the larger statement inserts.
        ///   - sql: an `INSERT` of `n` rows, with one `?` per value, for n = `rowsPerStatement` and n = 1.
        ///   - integerColumns: which columns are bound as integers rather than text.
        func insert(
            _ rows: PackedRows, rowsPerStatement: Int, sql: (Int) -> String, integerColumns: [Bool] = []
        ) throws {
            // One size of large statement only: each size is compiled once and kept.
            let largest = max(1, min(rowsPerStatement, 32_766 / max(1, rows.columns)))
            let perStatement = rows.count >= largest ? largest : 1
            let inLargeStatements = rows.count / perStatement * perStatement
            let large = try statement(sql(perStatement))
            let single = perStatement == 1 ? large : try statement(sql(1))
            // The bindings point into `rows`' buffer: none may outlive it.
            defer {
                sqlite_nio_sqlite3_clear_bindings(large.raw)
                sqlite_nio_sqlite3_clear_bindings(single.raw)
            }
            var row = 0
            try rows.forEachRow { cursor in
                let (target, first) = row < inLargeStatements ? (large, (row % perStatement) * rows.columns) : (single, 0)
                for index in 0..<rows.columns {
                    let value = cursor.next()
                    if let value, index < integerColumns.count, integerColumns[index], let number = Self.integer(value) {
                        try target.bind(first + index + 1, number)
                    } else {
                        try target.bind(first + index + 1, borrowing: value)
                    }
                }
                row += 1
                if row > inLargeStatements || row % perStatement == 0 { try target.runToEnd() }
            }
        }

        /// The decimal integer spelled by `text`, if it is one.
        private static func integer(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
            Int64(String(decoding: text, as: UTF8.self))
        }
    }

    /// A prepared statement; ``runToEnd()`` and ``firstRow()`` leave it reset for the next use.
    struct Statement {
        let raw: OpaquePointer
        let handle: OpaquePointer?
        let sql: String

        /// Binds text (or NULL) to the parameter at `index` (from 1).
        func bind(_ index: Int, _ value: String?) throws {
            let status: Int32
            if var value {
                status = value.withUTF8 { bytes in
                    // An empty buffer may have no address, which SQLite would bind as NULL.
                    guard let start = bytes.baseAddress, !bytes.isEmpty else {
                        return sqlite_nio_sqlite3_bind_text64(raw, Int32(index), "", 0, SQLiteWriter.transient, UInt8(SQLITE_UTF8))
                    }
                    return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                        sqlite_nio_sqlite3_bind_text64(raw, Int32(index), $0, UInt64(bytes.count), SQLiteWriter.transient, UInt8(SQLITE_UTF8))
                    }
                }
            } else {
                status = sqlite_nio_sqlite3_bind_null(raw, Int32(index))
            }
            guard status == SQLITE_OK else { throw failure(status) }
        }

        /// Binds UTF-8 text (or NULL) to the parameter at `index` (from 1) without copying it:
        /// the bytes must stay where they are until the statement is rebound or cleared.
        func bind(_ index: Int, borrowing value: UnsafeBufferPointer<UInt8>?) throws {
            let status: Int32
            if let value {
                // An empty buffer may have no address, which SQLite would bind as NULL.
                if let start = value.baseAddress, !value.isEmpty {
                    status = start.withMemoryRebound(to: CChar.self, capacity: value.count) {
                        sqlite_nio_sqlite3_bind_text64(raw, Int32(index), $0, UInt64(value.count), nil, UInt8(SQLITE_UTF8))  // nil: SQLITE_STATIC
                    }
                } else {
                    status = sqlite_nio_sqlite3_bind_text64(raw, Int32(index), "", 0, SQLiteWriter.transient, UInt8(SQLITE_UTF8))
                }
            } else {
                status = sqlite_nio_sqlite3_bind_null(raw, Int32(index))
            }
            guard status == SQLITE_OK else { throw failure(status) }
        }

        /// Binds an integer to the parameter at `index` (from 1).
        func bind(_ index: Int, _ value: Int64) throws {
            let status = sqlite_nio_sqlite3_bind_int64(raw, Int32(index), value)
            guard status == SQLITE_OK else { throw failure(status) }
        }

        /// Runs the statement to its end, ignoring any row it returns.
        func runToEnd() throws {
            defer { sqlite_nio_sqlite3_reset(raw) }
            while true {
                let status = sqlite_nio_sqlite3_step(raw)
                if status == SQLITE_DONE { return }
                guard status == SQLITE_ROW else { throw failure(status) }
            }
        }

        /// Runs the statement and reads its first row's columns as text (nil for NULL), or nil when it returns none.
        func firstRow() throws -> [String?]? {
            defer { sqlite_nio_sqlite3_reset(raw) }
            let status = sqlite_nio_sqlite3_step(raw)
            if status == SQLITE_DONE { return nil }
            guard status == SQLITE_ROW else { throw failure(status) }
            let row = (0..<sqlite_nio_sqlite3_column_count(raw)).map { column -> String? in
                sqlite_nio_sqlite3_column_text(raw, column).map { String(cString: $0) }
            }
            while true {
                let next = sqlite_nio_sqlite3_step(raw)
                if next == SQLITE_DONE { return row }
                guard next == SQLITE_ROW else { throw failure(next) }
            }
        }

        private func failure(_ status: Int32) -> any Error {
            SQLiteWriter.error(status, String(cString: sqlite_nio_sqlite3_errmsg(handle)), sql: sql)
        }
    }

    /// SQLite's `SQLITE_TRANSIENT`: it copies the bytes before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// A failure of SQLite: a broken uniqueness is `registry.duplicate`; anything else is an
    /// ``SQLiteWriterError``, which the edge answers as an internal error without its text.
    private static func error(_ status: Int32, _ message: String, sql: String) -> any Error {
        // SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE (macros Swift does not import).
        if status == SQLITE_CONSTRAINT | (6 << 8) || status == SQLITE_CONSTRAINT | (8 << 8) {
            return PersistenceError(code: "registry.duplicate", reason: "a row with the same key already exists (\(message))")
        }
        return SQLiteWriterError(status: status, message: message, statement: sql.count > 80 ? String(sql.prefix(80)) + "…" : sql)
    }
}

/// SQLite refused a statement of an ``SQLiteWriter`` (other than for a duplicate key).
public struct SQLiteWriterError: Error, CustomStringConvertible {
    /// SQLite's extended result code.
    public let status: Int32
    /// SQLite's message.
    public let message: String
    /// The statement, cut at 80 characters.
    public let statement: String

    /// The code, the message and the statement, for the logs.
    public var description: String { "SQLite error \(status): \(message) (in \(statement))" }
}
