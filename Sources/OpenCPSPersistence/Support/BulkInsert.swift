import FluentKit
import Logging
import NIOCore
import PostgresNIO
import SQLKit
import SQLiteNIO

/// Bulk inserts for imports, through each driver's fastest path.
///
/// SQLKit binds each value through `Encodable`, which costs more than the database's own
/// work at a million rows; here values are `String?`. SQLite gets multi-row `INSERT`s bound
/// with SQLiteNIO's `SQLiteData`; PostgreSQL gets `COPY ... FROM STDIN` (through a temporary
/// table of the same shape when rows may conflict, then one `INSERT ... SELECT ... ON
/// CONFLICT`). Other drivers take the SQLKit path.
enum BulkInsert {
    /// Inserts `rows` (each a value per column, nil for NULL) with an optional `ON CONFLICT` clause.
    static func run(
        _ rows: [[String?]], into table: String, columns: [String], integerColumns: Set<String> = [],
        conflict: String?, on database: any Database
    ) async throws {
        guard !rows.isEmpty else { return }
        if let postgres = database as? any PostgresDatabase {
            try await copy(rows, into: table, columns: columns, conflict: conflict, on: postgres, logger: database.logger)
            return
        }
        // SQLite allows 32,766 parameters in one statement (PostgreSQL 65,535, for the generic path).
        let rowsPerStatement = max(1, 30_000 / columns.count)
        let integerIndexes = Set(columns.indices.filter { integerColumns.contains(columns[$0]) })
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        let tail = conflict.map { " ON CONFLICT \($0)" } ?? ""
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let chunk = rows[start..<min(rows.count, start + rowsPerStatement)]
            if let sqlite = database as? any SQLiteDatabase {
                var binds: [SQLiteData] = []
                binds.reserveCapacity(chunk.count * columns.count)
                let placeholders = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                for row in chunk {
                    for (index, value) in row.enumerated() {
                        if let value {
                            binds.append(integerIndexes.contains(index) ? .integer(Int(value) ?? 0) : .text(value))
                        } else {
                            binds.append(.null)
                        }
                    }
                }
                let text = head + Array(repeating: placeholders, count: chunk.count).joined(separator: ", ") + tail
                _ = try await sqlite.query(text, binds).get()
            } else {
                var query = SQLQueryString(head)
                for (rowIndex, row) in chunk.enumerated() {
                    query.appendInterpolation(unsafeRaw: rowIndex == 0 ? "(" : ", (")
                    for (index, value) in row.enumerated() {
                        if index > 0 { query.appendInterpolation(unsafeRaw: ", ") }
                        if integerIndexes.contains(index), let value, let number = Int(value) {
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
    }

    /// Sends rows with `COPY ... FROM STDIN` in text format, straight into the table or, with a
    /// conflict clause, into a temporary table emptied at commit and then merged.
    private static func copy(
        _ rows: [[String?]], into table: String, columns: [String], conflict: String?,
        on postgres: any PostgresDatabase, logger: Logger
    ) async throws {
        var buffer = ByteBufferAllocator().buffer(capacity: rows.count * columns.count * 16)
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                if let value { writeCopyText(value, to: &buffer) } else { buffer.writeStaticString("\\N") }
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        let columnList = columns.joined(separator: ", ")
        let staging = "opencps_bulk_\(table)"
        let data = buffer
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                if conflict != nil {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        CREATE TEMPORARY TABLE IF NOT EXISTS \(staging) (LIKE \(table) INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                        """), logger: logger)
                }
                try await connection.copyFrom(table: conflict == nil ? table : staging, columns: columns, logger: logger) { writer in
                    try await writer.write(data)
                }
                if let conflict {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        INSERT INTO \(table) (\(columnList)) SELECT \(columnList) FROM \(staging) ON CONFLICT \(conflict)
                        """), logger: logger)
                    // Emptied now too: a second chunk in the same transaction must not merge the first again.
                    try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(staging)"), logger: logger)
                }
            }
        }.get()
    }

    /// Writes a value in COPY's text format: backslash, tab, newline and carriage return escaped.
    private static func writeCopyText(_ value: String, to buffer: inout ByteBuffer) {
        let special: (UInt8) -> Bool = { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        guard value.utf8.contains(where: special) else {
            buffer.writeString(value)
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }
}
