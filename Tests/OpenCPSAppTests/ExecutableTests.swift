import Foundation
import Testing

/// The `opencps` executable itself, started as an operator starts it (the other suites build
/// the application in the test process). It keeps its data in an SQLite file of its own
/// whatever the suite's database, so it runs on the SQLite leg only.
@Suite("The opencps executable", .disabled(if: TestDatabase.isPostgres, "runs on the SQLite leg: the executable keeps its own SQLite file"), TestTools.needs("curl"))
struct ExecutableTests {
    /// The executable SwiftPM built beside the test runner.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("opencps")
    }

    /// A port nobody listens on now, chosen by the system.
    static func freePort() throws -> Int {
        let result = try ExternalTool.run("python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try #require(Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Runs `opencps serve --demo` on a port of its own, with a dedicated issuance port, without
    /// the test's own `OPENCPS_` settings, waits until both answer, and stops it after `body`.
    func withServer(_ body: (_ base: String, _ issuanceBase: String, _ folder: URL) async throws -> Void) async throws {
        let folder = try ExternalTool.temporaryFolder("executable")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try Self.freePort()
        var issuancePort = try Self.freePort()
        while issuancePort == port { issuancePort = try Self.freePort() }
        let base = "http://127.0.0.1:\(port)"
        let issuanceBase = "http://127.0.0.1:\(issuancePort)"
        let arguments = ["--data", folder.appendingPathComponent("data").path, "--hostname", "127.0.0.1", "--port", String(port),
                         "--issuance-port", String(issuancePort), "--log-level", "warning"]
        try await ServerProcess.withDemo(arguments, folder: folder, isUp: {
            // The listener starts with the server; a GET there is refused with 405 once it listens.
            try ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(base)/health"]).output == "200"
                && ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(issuanceBase)/api/v1/certificates"]).output == "405"
        }) { log in
            try await body(base, issuanceBase, folder)
            let printed = try String(contentsOf: log, encoding: .utf8)
            #expect(printed.contains("issuance alone: \(issuanceBase)/api/v1/certificates"), "\(printed)")
        }
    }

    /// Issues `count` certificates at once through the API with curl; returns their HTTP statuses.
    func issueConcurrently(_ count: Int, base: String, folder: URL, name: String) throws -> [String] {
        let csr = try TestIssuance.csr(in: folder, name: name, newKey: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        let body = TestIssuance.fields(csr: csr)
        let bodyFile = folder.appendingPathComponent("\(name).json")
        try JSONSerialization.data(withJSONObject: body).write(to: bodyFile)
        // One curl, `count` transfers in parallel (a URL range: the query string is ignored).
        let result = try ExternalTool.run("curl", [
            "-s", "--no-progress-meter", "-Z", "--parallel-max", String(count), "-o", "/dev/null", "-w", "%{http_code}\n",
            "-H", "Authorization: Bearer demo-operator-token", "-H", "Content-Type: application/json",
            "--data-binary", "@\(bodyFile.path)", "\(base)/api/v1/certificates?n=[1-\(count)]",
        ])
        return result.output.split(separator: "\n").map(String.init)
    }

    @Test("serve --demo starts on an empty folder, issues concurrently on its main and issuance ports, and leaves an intact audit chain")
    func serveDemo() async throws {
        try await withServer { base, issuanceBase, folder in
            async let onIssuancePort = issueConcurrently(16, base: issuanceBase, folder: folder, name: "dedicated")
            let statuses = try issueConcurrently(16, base: base, folder: folder, name: "main")
            #expect(statuses == Array(repeating: "201", count: 16))
            #expect(try await onIssuancePort == Array(repeating: "201", count: 16))
            let audit = try ExternalTool.run(Self.executable.path, ["audit", "verify", "--data", folder.appendingPathComponent("data").path])
            #expect(audit.status == 0, "\(audit.output)")
            #expect(audit.output.contains("intact"), "\(audit.output)")
        }
    }

    @Test("an unknown command is refused with its usage and a non-zero exit")
    func unknownCommand() throws {
        let result = try ExternalTool.run(Self.executable.path, ["issue-everything"])
        #expect(result.status != 0)
        #expect(result.output.contains("Usage"), "\(result.output)")
    }
}
