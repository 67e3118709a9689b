import Fluent
import Foundation
import Logging
import SQLKit
import Vapor

/// Makes Vapor applications for the commands, bootstrapping logging once per process.
enum ApplicationRunner {
    private static let bootstrapLock = NSLock()
    // Guarded by bootstrapLock.
    nonisolated(unsafe) private static var bootstrapped = false

    /// Sends logs to standard error, one line per event with its metadata (the request id
    /// among them), at the configured level. The logging system can be set up once per process.
    private static func bootstrapLogging(_ level: Logger.Level) {
        bootstrapLock.withLock {
            guard !bootstrapped else { return }
            bootstrapped = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    /// An application on the configured database, migrated, for a command that does not serve.
    static func withDatabase<T>(
        _ configuration: OpenCPSConfiguration, migrate: Bool = true, freshPostgresSchema: String? = nil,
        _ body: (Application) async throws -> T
    ) async throws -> T {
        bootstrapLogging(configuration.logLevel)
        let app = try await Application.make(Environment(name: "production", arguments: ["opencps"]))
        do {
            try app.useDatabase(configuration.database, postgresSearchPath: freshPostgresSchema.map { [$0] })
            app.logger.logLevel = configuration.logLevel
            if let freshPostgresSchema, let sql = app.db as? any SQLDatabase {
                try await sql.raw("CREATE SCHEMA \(ident: freshPostgresSchema)").run()
            }
            if migrate { try await app.migrateSchema() }
            let result = try await body(app)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// An application configured to serve, not yet started.
    static func makeServer(_ configuration: OpenCPSConfiguration) async throws -> Application {
        bootstrapLogging(configuration.logLevel)
        let app = try await Application.make(
            Environment(name: "production", arguments: ["opencps", "serve"]))
        do {
            try await configure(app, configuration: configuration)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        return app
    }
}
