import Foundation
import Testing

/// The short form of the crash harness (`opencps bench crash`, issue 21): the built server is
/// killed with SIGKILL twice during production runs and twice during oppositions, restarted,
/// and checked (nothing signed unknown to the database, no orphan file after the start-up
/// sweep, opposed cards revoked on OCSP and the CRL, the audit log intact). On the PostgreSQL
/// leg it runs on the test database's public schema, which the other tests do not use.
@Suite("Crash harness, short form", .serialized)
struct CrashHarnessTests {
    @Test("two kills per scenario: every check passes after every restart")
    func shortRun() async throws {
        var arguments = ["bench", "crash", "--kills", "2", "--files", "6", "--oppositions", "3",
                         "--max-opposition-delay", "300", "--seed", "7", "--port", "\(try ExecutableTests.freePort())"]
        if TestDatabase.isPostgres, let url = TestDatabase.url {
            arguments += ["--database", url, "--wipe"]
        }
        let process = Process()
        process.executableURL = ExecutableTests.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text.suffix(4_000))")
        #expect(text.contains("2 kills during production runs") && text.contains("2 kills during 3 oppositions"), "\(text.suffix(2_000))")
        #expect(text.contains("failed checks: 0"), "\(text.suffix(2_000))")
    }
}
