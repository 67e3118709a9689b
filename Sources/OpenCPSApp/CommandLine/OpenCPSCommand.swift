import ArgumentParser
import Foundation
import OpenCPSDomain

/// `opencps`: the one executable, with a subcommand per task.
public struct OpenCPSCommand: AsyncParsableCommand {
    /// The command's description.
    public static let configuration = CommandConfiguration(
        commandName: "opencps",
        abstract: "OpenCPS: the French health-professional card system (registry, cards, PKI, OCSP/CRL).",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, PKICommand.self, RegistryCommand.self, CardCommand.self, CardsCommand.self, SignatureCommand.self, AuditCommand.self, ECPSCommand.self, ClientCommand.self, StaffCommand.self, BenchCommand.self,
        ])

    /// Creates the command (ArgumentParser).
    public init() {}
}

/// The options every command that touches the data shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data folder (env OPENCPS_DATA; default ./data).")
    var data: String?

    @Option(name: .long, help: "sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (env OPENCPS_DATABASE_URL; default sqlite:<data>/opencps.sqlite).")
    var database: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (env OPENCPS_LOG_LEVEL; default info).")
    var logLevel: String?

    /// The configuration these options and the environment give.
    func configuration(
        hostname: String? = nil, port: Int? = nil, ocspPort: Int? = nil, issuancePort: Int? = nil, publicURL: String? = nil, demo: Bool = false,
        defaultLogLevel: String? = nil, pkcs11Module: String? = nil, pkcs11Token: String? = nil, cardPKCS11Module: String? = nil
    ) throws -> OpenCPSConfiguration {
        do {
            return try OpenCPSConfiguration.resolve(
                flags: .init(
                    data: data, database: database, hostname: hostname, port: port, ocspPort: ocspPort, issuancePort: issuancePort,
                    publicURL: publicURL,
                    logLevel: logLevel ?? (ProcessInfo.processInfo.environment["OPENCPS_LOG_LEVEL"] == nil ? defaultLogLevel : nil),
                    demo: demo, pkcs11Module: pkcs11Module, pkcs11Token: pkcs11Token, cardPKCS11Module: cardPKCS11Module),
                environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

extension OpenCPSCommand {
    /// Parses `arguments` (the process's when nil), runs the chosen command and exits with
    /// its status: the entry point of the `opencps` executable.
    public static func runAndExit(_ arguments: [String]? = nil) async -> Never {
        do {
            try await run(arguments)
            Self.exit()
        } catch let error as any DomainError {
            // Domain errors carry a sentence for a person; show it, not the type's dump.
            printError("opencps: \(error.reason) [\(error.code)]")
            Self.exit(withError: ExitCode.failure)
        } catch {
            Self.exit(withError: error)
        }
    }

    /// Parses and runs a command, throwing what it throws (an `ExitCode` for a non-zero status).
    public static func run(_ arguments: [String]?) async throws {
        var command = try parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }
}
