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
    /// Brings the schema up to date. When every migration is already recorded nothing is
    /// written, so that a server running as the application role — which may read the ledger
    /// but create nothing (``ApplicationRole``) — starts on a schema its owner migrated.
    /// - Throws: ``MigrationError`` naming the database's refusal.
    func migrateSchema() async throws {
        let recorded: Set<String>
        do {
            recorded = Set(try await (db as! any SQLDatabase).raw("SELECT name FROM _fluent_migrations").all()
                .map { try $0.decode(column: "name", as: String.self) })
        } catch {
            recorded = []
        }
        guard !OpenCPSMigrations.all.allSatisfy({ recorded.contains($0.name) }) else { return }
        do {
            try await autoMigrate()
        } catch {
            throw MigrationError(reason: String(reflecting: error))
        }
    }

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

/// The schema could not be brought up to date.
struct MigrationError: Error, CustomStringConvertible, LocalizedError {
    /// What the database answered.
    var reason: String

    var description: String {
        "the database schema could not be migrated (\(reason)); on PostgreSQL, run `opencps migrate` as the schema's owner "
            + "and start the server as the role it granted (--grant-to)"
    }

    var errorDescription: String? { description }
}
