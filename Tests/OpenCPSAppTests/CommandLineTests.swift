import ArgumentParser
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import Testing

/// The `opencps` commands, run in-process on an SQLite file as a user would run them.
@Suite("Command line", .serialized)
struct CommandLineTests {
    @Test("registry generate then import reports bad rows and exits 2; audit verify passes, then names a tampered entry")
    func importAndAudit() async throws {
        let folder = try ExternalTool.temporaryFolder("cli")
        let database = "sqlite:" + folder.appendingPathComponent("cli.sqlite").path
        let file = folder.appendingPathComponent("extraction.txt").path
        try await OpenCPSCommand.run(["registry", "generate", "--count", "300", "--seed", "3", "--output", file])
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text += "8|10000000008|810000000008|broken row|\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)

        await #expect(throws: ExitCode(2)) {
            try await OpenCPSCommand.run(["registry", "import", file, "--database", database, "--quiet", "--errors", folder.appendingPathComponent("errors.txt").path])
        }
        let errors = try String(contentsOfFile: folder.appendingPathComponent("errors.txt").path, encoding: .utf8)
        #expect(errors.hasPrefix("line 302"), "\(errors)")

        try await OpenCPSCommand.run(["audit", "verify", "--database", database])

        // Tamper with one entry behind the triggers' back, as someone with file access could.
        let sqlite = folder.appendingPathComponent("cli.sqlite").path
        let tamper = try ExternalTool.run("python3", ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("DROP TRIGGER audit_log_no_update")
            db.execute("UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 1")
            db.commit()
            """, sqlite])
        #expect(tamper.status == 0, "\(tamper.output)")
        await #expect(throws: ExitCode(3)) {
            try await OpenCPSCommand.run(["audit", "verify", "--database", database])
        }
    }

    @Test("bad command-line input gets a clear error")
    func badInput() async throws {
        #expect(throws: (any Error).self) { try OpenCPSCommand.parseAsRoot(["registry", "generate", "--count", "-5"]) }
        await #expect(throws: (any Error).self) {
            try await OpenCPSCommand.run(["migrate", "--database", "mysql://nope"])
        }
        await #expect(throws: (any Error).self) {
            try await OpenCPSCommand.run(["registry", "import", "/nonexistent/file.txt", "--database", "sqlite::memory:"])
        }
    }
}

@Suite("Audit log")
struct AuditLogTests {
    @Test("verify names the first entry whose content was altered")
    func tamperedEntry() async throws {
        try await withTestApp { app in
            _ = try await DemoData(clock: FixedWallClockAlias(testNow)).load(into: app.db)
            let before = try await AuditLogProbe.verify(app.db)
            guard case .intact(let entries) = before else {
                Issue.record("the chain should be intact: \(before)")
                return
            }
            #expect(entries == 10, "3 establishments, 6 professionals, 1 import batch")
            try await AuditLogProbe.tamper(app.db, seq: 4)
            #expect(try await AuditLogProbe.verify(app.db) == .broken(seq: 4, reason: "entry 4 was altered: its hash does not match its content"))
        }
    }

    @Test("the log refuses updates and deletes through SQL")
    func appendOnly() async throws {
        try await withTestApp { app in
            _ = try await DemoData(clock: FixedWallClockAlias(testNow)).load(into: app.db)
            await #expect(throws: (any Error).self) { try await AuditLogProbe.rawUpdate(app.db) }
            await #expect(throws: (any Error).self) { try await AuditLogProbe.rawDelete(app.db) }
        }
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test("actor tokens are read from the environment, and the platform cannot be given a token")
    func actorTokens() throws {
        let configuration = try OpenCPSConfiguration.resolve(
            flags: .init(), environment: ["OPENCPS_ACTOR_TOKENS": "helpdesk=helpdesk-token-0123456789,ordre:CNOM=cnom-token-0123456789"])
        #expect(configuration.actorTokens["helpdesk-token-0123456789"] == .helpDesk)
        #expect(configuration.actorTokens["cnom-token-0123456789"] == .ordre(.cnom))
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_ACTOR_TOKENS": "platform=platform-token-0123456789"])
        }
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_ACTOR_TOKENS": "helpdesk=short"])
        }
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(flags: .init(database: "mysql://x"), environment: [:])
        }
    }

    /// A dedicated listener's settings: its port (flag and variable) and its threads.
    struct DedicatedPort: Sendable, CustomTestStringConvertible {
        let portVariable: String
        let threadsVariable: String
        let flags: @Sendable (Int) -> OpenCPSConfiguration.Flags
        let port: @Sendable (OpenCPSConfiguration) -> Int?
        let threads: @Sendable (OpenCPSConfiguration) -> Int
        var testDescription: String { portVariable }

        static let all = [
            DedicatedPort(portVariable: "OPENCPS_OCSP_PORT", threadsVariable: "OPENCPS_OCSP_THREADS",
                          flags: { .init(ocspPort: $0) }, port: \.ocspPort, threads: \.ocspThreads),
            DedicatedPort(portVariable: "OPENCPS_ISSUANCE_PORT", threadsVariable: "OPENCPS_ISSUANCE_THREADS",
                          flags: { .init(issuancePort: $0) }, port: \.issuancePort, threads: \.issuanceThreads),
        ]
    }

    @Test("a dedicated port (OCSP, issuance) is off by default, read from the flag before the environment, and refused when unusable; its threads likewise",
          arguments: DedicatedPort.all)
    func dedicatedPort(_ setting: DedicatedPort) throws {
        #expect(setting.port(try OpenCPSConfiguration.resolve(flags: .init(), environment: [:])) == nil)
        #expect(setting.port(try OpenCPSConfiguration.resolve(flags: .init(), environment: [setting.portVariable: "8081"])) == 8081)
        #expect(setting.port(try OpenCPSConfiguration.resolve(flags: setting.flags(9090), environment: [setting.portVariable: "8081"])) == 9090)
        for bad in ["eighty", "70000", "8080"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try OpenCPSConfiguration.resolve(flags: .init(), environment: [setting.portVariable: bad])
            }
        }
        #expect(setting.threads(try OpenCPSConfiguration.resolve(flags: .init(), environment: [:])) == 1)
        #expect(setting.threads(try OpenCPSConfiguration.resolve(flags: .init(), environment: [setting.threadsVariable: "4"])) == 4)
        for bad in ["0", "many", "100"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try OpenCPSConfiguration.resolve(flags: .init(), environment: [setting.threadsVariable: bad])
            }
        }
    }

    @Test("the issuance port must differ from the OCSP port")
    func issuanceAndOCSPPorts() throws {
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(flags: .init(ocspPort: 8081, issuancePort: 8081), environment: [:])
        }
        let both = try OpenCPSConfiguration.resolve(flags: .init(ocspPort: 8081, issuancePort: 8082), environment: [:])
        #expect(both.ocspPort == 8081 && both.issuancePort == 8082)
    }
}
