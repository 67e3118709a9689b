import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import OpenCPSPersistence
import Vapor

extension Application {
    /// Registers the database of `location` as the default one, with every migration.
    /// - Parameters:
    ///   - location: where the data lives.
    ///   - postgresSearchPath: for PostgreSQL, the schemas to use (tests give each run its own).
    func useDatabase(_ location: DatabaseLocation, postgresSearchPath: [String]? = nil) throws {
        switch location {
        case .sqliteMemory:
            databases.use(.sqlite(.memory, sqlLogLevel: .trace), as: .sqlite)
        case .sqliteFile(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            databases.use(.sqlite(.file(path), sqlLogLevel: .trace), as: .sqlite)
        case .postgres(let url):
            var configuration = try SQLPostgresConfiguration(url: url)
            configuration.searchPath = postgresSearchPath
            databases.use(
                .postgres(configuration: configuration, maxConnectionsPerEventLoop: 4, sqlLogLevel: .trace), as: .psql)
        }
        for migration in OpenCPSMigrations.all {
            migrations.add(migration)
        }
    }
}
