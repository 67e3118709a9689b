import ArgumentParser
import Fluent
import Foundation

/// `opencps migrate`: brings the database schema up to date.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Create or update the database schema.")

    @OptionGroup var options: DataOptions

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "notice")
        try await ApplicationRunner.withDatabase(configuration) { _ in }
        print("The database \(configuration.database) is up to date.")
    }
}
