import Foundation
import Testing

/// Several `opencps serve` processes on one PostgreSQL database, each in a schema of its own
/// per test (the URL's `search_path`), sharing one data folder: a deployment of N nodes.
struct ServerNodes {
    /// One running node.
    struct Node {
        /// The main port's base URL.
        let base: String
        /// The dedicated OCSP port's base URL.
        let ocspBase: String
        /// Where its output goes.
        let log: URL
        let process: Process
    }

    /// The PostgreSQL URL the nodes use, with their schema as `search_path`.
    let databaseURL: String
    /// The schema, dropped at the end.
    let schema: String
    /// The shared data folder.
    let data: URL
    /// The test's folder (logs, files).
    let folder: URL
    private(set) var nodes: [Node] = []

    /// Creates the schema on the test database (`OPENCPS_TEST_DATABASE_URL`).
    init(testDatabaseURL: String, folder: URL) throws {
        schema = "nodes_\(UUID().uuidString.prefix(8).lowercased())"
        let separator = testDatabaseURL.contains("?") ? "&" : "?"
        databaseURL = testDatabaseURL + separator + "search_path=" + schema
        self.folder = folder
        data = folder.appendingPathComponent("data")
        let created = try ExternalTool.run("psql", [testDatabaseURL, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE SCHEMA \(schema)"])
        try #require(created.status == 0, "\(created.output)")
    }

    /// Runs SQL on the nodes' schema with psql; returns its unaligned output.
    func sql(_ statement: String) throws -> String {
        let result = try ExternalTool.run("psql", [
            databaseURL.replacingOccurrences(of: "search_path=\(schema)", with: "options=-csearch_path%3D\(schema)"),
            "-At", "-v", "ON_ERROR_STOP=1", "-c", statement,
        ])
        try #require(result.status == 0, "\(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts a node (the first with `--demo`, which makes the PKI and loads the demo rows; the
    /// others with the same data folder and the demo's key-store passphrase) and waits until its
    /// main and OCSP ports answer.
    mutating func start(demo: Bool) async throws {
        let port = try ExecutableTests.freePort()
        var ocspPort = try ExecutableTests.freePort()
        while ocspPort == port { ocspPort = try ExecutableTests.freePort() }
        let process = Process()
        process.executableURL = ExecutableTests.executable
        process.arguments = ["serve"] + (demo ? ["--demo"] : []) + [
            "--data", data.path, "--database", databaseURL, "--hostname", "127.0.0.1", "--port", String(port),
            "--ocsp-port", String(ocspPort), "--log-level", "info",
        ]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        if !demo {
            environment["OPENCPS_KEYSTORE_PASSPHRASE_FILE"] = data.appendingPathComponent("keystore-passphrase").path
        }
        process.environment = environment
        let log = folder.appendingPathComponent("node\(nodes.count + 1).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let node = Node(base: "http://127.0.0.1:\(port)", ocspBase: "http://127.0.0.1:\(ocspPort)", log: log, process: process)
        nodes.append(node)
        var up = false
        for _ in 0..<600 where process.isRunning {
            let health = try ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(node.base)/health"]).output
            let ocsp = try ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(node.ocspBase)/ocsp/forte-personnes"]).output
            if health == "200", ocsp != "000" {
                up = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(up, "node \(nodes.count) did not answer: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    /// Stops every node and drops the schema.
    func stop() {
        for node in nodes where node.process.isRunning {
            node.process.terminate()
            node.process.waitUntilExit()
        }
        _ = try? sql("DROP SCHEMA \(schema) CASCADE")
    }
}
