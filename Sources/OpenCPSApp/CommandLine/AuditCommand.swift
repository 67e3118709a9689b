import ArgumentParser
import OpenCPSDomain
import Fluent
import Foundation
import OpenCPSPersistence

/// `opencps audit ...`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the audit log, sign checkpoints of it, show the audit key.",
        subcommands: [AuditVerifyCommand.self, AuditCheckpointCommand.self, AuditKeyCommand.self])
}

extension OpenCPSConfiguration {
    /// The audit key and checkpoint journal's folder: OPENCPS_AUDIT_DIRECTORY, else `<data>/audit`.
    var auditKeyFolder: AuditKeyFolder {
        let path = ProcessInfo.processInfo.environment["OPENCPS_AUDIT_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 }
        return AuditKeyFolder(directory: path.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? dataDirectory.appendingPathComponent("audit", isDirectory: true))
    }
}

/// `opencps audit verify`: checks the hash chain, then every signed checkpoint against it.
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the audit log's hash chain and its signed checkpoints; exit status 0 when intact, 3 when broken.")

    @OptionGroup var options: DataOptions

    @Option(name: .long, help: "The audit public key to trust (PEM, as `opencps audit key` printed it); default: the one in the audit folder.")
    var publicKey: String?

    @Option(name: .long, help: "A copy of the checkpoint journal to check; default: <audit folder>/checkpoints.log.")
    var checkpoints: String?

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        let folder = configuration.auditKeyFolder
        let (chain, anchored) = try await ApplicationRunner.withDatabase(configuration, migrate: false) { app in
            let chain = try await AuditLog(clock: SystemWallClock()).verify(on: app.db)
            guard case .intact = chain else { return (chain, AuditCheckpointVerification.intact(checkpoints: 0, lastSeq: nil)) }
            let anchored = try await AuditCheckpoints(folder: folder, clock: SystemWallClock()).verify(
                on: app.db, publicKeyFile: publicKey.map { URL(fileURLWithPath: $0) },
                journalFile: checkpoints.map { URL(fileURLWithPath: $0) })
            return (chain, anchored)
        }
        switch (chain, anchored) {
        case (.broken(let seq, let reason), _):
            printError("The audit log is broken at entry \(seq): \(reason).")
            throw ExitCode(3)
        case (_, .broken(_, let reason)):
            printError("The audit log does not match its checkpoints: \(reason).")
            throw ExitCode(3)
        case (.intact(let entries), .intact(let count, let lastSeq)):
            let anchoring = lastSeq.map { "\(count) signed checkpoints hold, the last at entry \($0)" }
                ?? "no signed checkpoint yet (nothing anchors it outside the database)"
            print("The audit log is intact: \(entries) entries, every hash and link checked; \(anchoring).")
        }
    }
}

/// `opencps audit checkpoint`: signs the log's head now (the server also does on a schedule and at shutdown).
struct AuditCheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Sign a checkpoint of the audit log's head now, with the audit key outside the database.")

    @OptionGroup var options: DataOptions

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        let folder = configuration.auditKeyFolder
        let written = try await ApplicationRunner.withDatabase(configuration, migrate: false) { app in
            try await AuditCheckpoints(folder: folder, clock: SystemWallClock()).write(on: app.db)
        }
        if let written {
            print("Checkpoint signed at entry \(written.seq) (\(written.headHash)), appended to \(folder.journalFile.path).")
        } else {
            print("Nothing to sign: the audit log's head is already checkpointed (or the log is empty).")
        }
    }
}

/// `opencps audit key`: prints the audit public key (creating the key pair on first use), to keep away from the server.
struct AuditKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Print the audit public key (PEM) that checks checkpoints, creating the key on first use.")

    @OptionGroup var options: DataOptions

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        print(try configuration.auditKeyFolder.publicKeyPEM())
    }
}
