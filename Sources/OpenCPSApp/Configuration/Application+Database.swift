import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import OpenCPSPersistence
import SQLKit
import Vapor

extension Application {
    /// Registers the database of `location` as the default one, with every migration.
    /// - Parameters:
    ///   - location: where the data lives.
    ///   - postgresSearchPath: for PostgreSQL, the schemas to use (tests give each run its own).
    ///   - postgresConnectionsPerEventLoop: the pool's size on each event loop, for PostgreSQL.
    func useDatabase(_ location: DatabaseLocation, postgresSearchPath: [String]? = nil, postgresConnectionsPerEventLoop: Int = 4) throws {
        switch location {
        case .sqliteMemory, .sqliteFile:
            // SQLite's calls block a thread of the application's pool, and a write waiting for
            // another connection's lock sleeps there (busy_timeout). Vapor's default pool is the
            // process-wide one, one thread per core: two such waits stalled every database call
            // of the process (seen as "Connection request timed out" under load). The
            // application gets a pool of its own, sized past its connections and file I/O.
            threadPool = NIOThreadPool(numberOfThreads: Self.sqliteThreads)
        case .postgres:
            break
        }
        switch location {
        case .sqliteMemory:
            databases.use(.sqlite(.memory, sqlLogLevel: .trace), as: .sqlite)
        case .sqliteFile(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            databases.use(.sqlite(.file(path), sqlLogLevel: .trace), as: .sqlite)
            // Write-ahead logging lets readers go on while an import writes; it is kept in the file.
            lifecycle.use(SQLiteJournalMode())
        case .postgres(let url):
            var configuration = try SQLPostgresConfiguration(url: url)
            configuration.searchPath = postgresSearchPath ?? Self.postgresSearchPath(in: url)
            databases.use(
                .postgres(configuration: configuration, maxConnectionsPerEventLoop: postgresConnectionsPerEventLoop, sqlLogLevel: .trace),
                as: .psql)
        }
        for migration in OpenCPSMigrations.all {
            migrations.add(migration)
        }
    }
}

extension Application {
    /// Threads of an application's blocking pool on SQLite.
    static let sqliteThreads = 8

    /// The schemas named by a PostgreSQL URL's `search_path` parameter (comma-separated), as
    /// libpq's `options=-csearch_path=` would set them: several deployments (or tests) can share
    /// a database, each in its own schema.
    static func postgresSearchPath(in url: URL) -> [String]? {
        guard let value = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?
            .last(where: { $0.name == "search_path" })?.value, !value.isEmpty else { return nil }
        return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// Puts an SQLite file in WAL mode when the application boots.
private struct SQLiteJournalMode: LifecycleHandler {
    func willBootAsync(_ application: Application) async throws {
        if let sql = application.db as? any SQLDatabase {
            try await sql.raw("PRAGMA journal_mode = WAL").run()
        }
    }
}
