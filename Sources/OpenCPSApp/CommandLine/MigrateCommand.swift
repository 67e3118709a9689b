import ArgumentParser
import Fluent
import Foundation
import OpenCPSPersistence

/// `opencps migrate`: brings the database schema up to date, and on PostgreSQL gives the role
/// the server runs as its rights (``ApplicationRole``).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Create or update the database schema.",
        discussion: """
            On PostgreSQL, run it as the role that owns the schema and name the role the server \
            runs as with --grant-to: that role may then read and write the tables but only read \
            and append to the audit log and its checkpoints, and cannot alter, truncate or drop \
            anything or disable a trigger. Run it again after each upgrade.
            """)

    @OptionGroup var options: DataOptions

    @Option(name: .customLong("grant-to"), help: "PostgreSQL: the role `opencps serve` runs as, given the application's rights.")
    var applicationRole: String?

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "notice")
        do {
            try await ApplicationRunner.withDatabase(configuration) { app in
                if let applicationRole {
                    try await ApplicationRole.grant(to: applicationRole, on: app.db)
                }
            }
        } catch let error as PersistenceError {
            throw ValidationError("\(error.reason) [\(error.code)]")
        }
        print("The database \(configuration.database) is up to date.")
        if let applicationRole {
            print("\(applicationRole) may read and write it, and only read and append to the audit log.")
        }
    }
}
