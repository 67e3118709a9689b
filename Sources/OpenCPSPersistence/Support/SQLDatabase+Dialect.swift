import FluentKit
import SQLKit

/// The SQL engines OpenCPS stores its data in.
public enum SQLEngine: String, Sendable {
    /// SQLite, the embedded default.
    case sqlite
    /// PostgreSQL, for production.
    case postgres

    /// The engine behind a SQLKit database.
    public init(_ database: any SQLDatabase) {
        self = database.dialect.name == "postgresql" ? .postgres : .sqlite
    }
}

extension Database {
    /// This Fluent database seen as a SQL database.
    ///
    /// Both drivers OpenCPS uses are SQL drivers, so a failure here is a wiring error.
    var sql: any SQLDatabase {
        guard let sql = self as? any SQLDatabase else {
            preconditionFailure("OpenCPS needs a SQL database driver (SQLite or PostgreSQL)")
        }
        return sql
    }
}

extension SQLEngine {
    /// Gives the current SQLite connection a page cache of 128 MB (or `megabytes`) for a bulk
    /// write (the default 2 MB thrashes on indexes of random keys: UUIDs, serials, tracking
    /// numbers). It is a per-connection setting; nothing is done on PostgreSQL.
    static func enlargeSQLiteCache(_ sql: any SQLDatabase, megabytes: Int = 128) async throws {
        guard SQLEngine(sql) == .sqlite else { return }
        try await sql.raw("PRAGMA cache_size = \(unsafeRaw: String(-megabytes * 1024))").run()
    }
}
