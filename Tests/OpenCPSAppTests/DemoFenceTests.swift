import Foundation
@testable import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import Testing
import Vapor

/// `serve --demo` refuses to run where its public tokens and fictitious rows would do harm.
@Suite("Demo fence")
struct DemoFenceTests {
    @Test("only loopback addresses are taken as private")
    func loopback() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "LOCALHOST"] {
            #expect(DemoFence.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.org", "127.0.0", "127.0.0.256", "1127.0.0.1"] {
            #expect(!DemoFence.isLoopback(host), "\(host)")
        }
        #expect(throws: DemoFence.Refusal.self) { try DemoFence.checkAddress("0.0.0.0", exposed: false) }
        #expect(throws: Never.self) { try DemoFence.checkAddress("0.0.0.0", exposed: true) }
    }

    @Test("an empty database or the demo's own takes the demo; one whose log begins otherwise is refused unless told")
    func database() async throws {
        try await withTestApp { app in
            try await DemoFence.checkDatabase(app.db, existingData: false)
            _ = try await DemoData(clock: FixedWallClock(testNow)).load(into: app.db)
            try await DemoFence.checkDatabase(app.db, existingData: false)
        }
        try await withTestApp { app in
            try await RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
                .create(DemoData.establishments[0], actor: "operator:registry")
            await #expect(throws: DemoFence.Refusal.self) { try await DemoFence.checkDatabase(app.db, existingData: false) }
            try await DemoFence.checkDatabase(app.db, existingData: true)
        }
    }

    @Test("serve --demo on an address other machines reach exits with the reason before listening",
          .disabled(if: TestDatabase.isPostgres, "runs the executable, which keeps its own SQLite file"))
    func executableRefusesExposedDemo() throws {
        let folder = try ExternalTool.temporaryFolder("demo-fence")
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = ExecutableTests.executable
        process.arguments = ["serve", "--demo", "--data", folder.appendingPathComponent("data").path,
                             "--hostname", "0.0.0.0", "--port", String(try ExecutableTests.freePort())]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(printed.contains("--demo-exposed"), "\(printed)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("data").path))
    }
}
