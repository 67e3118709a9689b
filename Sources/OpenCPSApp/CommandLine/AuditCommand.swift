import ArgumentParser
import OpenCPSDomain
import Fluent
import Foundation
import OpenCPSPersistence

/// `opencps audit ...`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the audit log.", subcommands: [AuditVerifyCommand.self])
}

/// `opencps audit verify`: checks the hash chain and names the first broken entry.
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the audit log's hash chain; exit status 0 when intact, 3 when broken.")

    @OptionGroup var options: DataOptions

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        let result = try await ApplicationRunner.withDatabase(configuration, migrate: false) { app in
            try await AuditLog(clock: SystemWallClock()).verify(on: app.db)
        }
        switch result {
        case .intact(let entries):
            print("The audit log is intact: \(entries) entries, every hash and link checked.")
        case .broken(let seq, let reason):
            printError("The audit log is broken at entry \(seq): \(reason).")
            throw ExitCode(3)
        }
    }
}
