import FluentKit
import Logging
import NIOCore
import PostgresNIO
import SQLKit
import SQLiteNIO

/// Multi-row `INSERT` statements for imports, sent through the driver's own binding types.
///
/// SQLKit binds each value through `Encodable`, which costs more than the database's own
/// work at a million rows; here values are `String?` and go straight to SQLiteNIO's
/// `SQLiteData` or PostgresNIO's `PostgresBindings`. Other drivers take the SQLKit path.
enum BulkInsert {
    /// Inserts `rows` (each a value per column, nil for NULL) with an optional `ON CONFLICT` clause.
    static func run(
        _ rows: [[String?]], into table: String, columns: [String], integerColumns: Set<String> = [],
        conflict: String?, on database: any Database
    ) async throws {
        guard !rows.isEmpty else { return }
        // SQLite allows 32,766 parameters and PostgreSQL 65,535 in one statement.
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
            } else if let postgres = database as? any PostgresDatabase {
                var bindings = PostgresBindings(capacity: chunk.count * columns.count)
                var text = head
                var number = 0
                for (rowIndex, row) in chunk.enumerated() {
                    text += rowIndex == 0 ? "(" : ", ("
                    for (index, value) in row.enumerated() {
                        number += 1
                        text += index == 0 ? "$\(number)" : ", $\(number)"
                        if let value {
                            if integerIndexes.contains(index) {
                                bindings.append(Int64(value) ?? 0)
                            } else {
                                bindings.append(value)
                            }
                        } else {
                            bindings.appendNull()
                        }
                    }
                    text += ")"
                }
                text += tail
                let query = PostgresQuery(unsafeSQL: text, binds: bindings)
                let logger = database.logger
                try await postgres.withConnection { connection in
                    connection.eventLoop.makeFutureWithTask { try await connection.query(query, logger: logger) }.map { _ in }
                }.get()
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
}
