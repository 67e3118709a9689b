import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The built `opencps` executable, run as an operator runs it.
enum ServerProcess {
    /// Runs `opencps serve --demo` with `arguments` (its address, ports and data folder), without
    /// the test's own `OPENCPS_` settings and with its output in `folder/server.log`; waits until
    /// `isUp` says it answers (60 s at most), runs `body` with the log, and stops the server.
    /// - Parameter environment: settings the test gives the server on purpose.
    static func withDemo(
        _ arguments: [String], folder: URL, environment: [String: String] = [:], isUp: () async throws -> Bool,
        _ body: (_ log: URL) async throws -> Void
    ) async throws {
        let process = Process()
        process.executableURL = ExecutableTests.executable
        process.arguments = ["serve", "--demo"] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }.merging(environment) { _, new in new }
        let log = folder.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        var up = false
        for _ in 0..<600 where process.isRunning {
            if try await isUp() {
                up = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(up, "the server did not answer: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        try await body(log)
    }

    /// Whether `url` answers 200 within 2 s: the `isUp` of a server whose page at `url` is public.
    static func answersOK(_ url: String) async throws -> Bool {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.timeoutInterval = 2
        guard let answer = try? await URLSession.shared.data(for: request) else { return false }
        return (answer.1 as? HTTPURLResponse)?.statusCode == 200
    }
}
