import Foundation
import Testing

/// The root key stays offline (issue 21): the server loads only what it signs with, and serves
/// root CRLs that `opencps pki root-crls` signed ahead of time, which openssl checks.
@Suite(
    "Offline root", .disabled(if: TestDatabase.isPostgres, "runs on the SQLite leg: the executable keeps its own SQLite file"),
    TestTools.needs("curl", "openssl"))
struct OfflineRootTests {
    /// Runs the executable without the test's own `OPENCPS_` settings.
    func opencps(_ arguments: [String], data: URL) throws -> ExternalTool.Result {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        environment["OPENCPS_KEYSTORE_PASSPHRASE_FILE"] = data.appendingPathComponent("keystore-passphrase").path
        return try ExternalTool.run(ExecutableTests.executable.path, arguments + ["--data", data.path], environment: environment)
    }

    /// Downloads `url` to `file` with curl.
    func download(_ url: String, to file: URL) throws {
        let result = try ExternalTool.run("curl", ["-s", "--fail", "-o", file.path, url])
        try #require(result.status == 0, "\(url): \(result.output)")
    }

    /// What openssl reads in a DER CRL, after checking its signature with `issuer`.
    func verifiedCRL(_ file: URL, issuer: URL) throws -> String {
        let result = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", file.path, "-CAfile", issuer.path, "-verify", "-noout", "-text"])
        #expect(result.output.contains("verify OK"), "\(result.output)")
        return result.output
    }

    /// `serve` on `data` (which must fail): its exit status and output, within 120 s.
    func serveFailing(data: URL, folder: URL) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = ExecutableTests.executable
        process.arguments = ["serve", "--data", data.path, "--hostname", "127.0.0.1", "--port", String(try ExecutableTests.freePort())]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        environment["OPENCPS_KEYSTORE_PASSPHRASE_FILE"] = data.appendingPathComponent("keystore-passphrase").path
        process.environment = environment
        let log = folder.appendingPathComponent("refused-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<1_200 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("serve started: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Test("the root key leaves the data folder at init; the root CRL in force is served; a new batch from the offline key is served at once; the server refuses the root key in <data>/keys and a forged CRL")
    func offlineRoot() async throws {
        let folder = try ExternalTool.temporaryFolder("offline-root")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let offline = data.appendingPathComponent("root-offline")
        let keys = data.appendingPathComponent("keys")
        let crls = data.appendingPathComponent("pki/root-crls")
        let port = try ExecutableTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let files = FileManager.default
        try await ServerProcess.withDemo(
            ["--data", data.path, "--hostname", "127.0.0.1", "--port", String(port), "--log-level", "warning"], folder: folder,
            isUp: { try await ServerProcess.answersOK("\(base)/health") }
        ) { _ in
            #expect(!files.fileExists(atPath: keys.appendingPathComponent("root.key").path), "the root key is not beside the server's keys")
            #expect(files.fileExists(atPath: offline.appendingPathComponent("root.key").path))
            #expect(try files.contentsOfDirectory(atPath: crls.path).filter { $0.hasSuffix(".crl") }.count == 13)

            let root = folder.appendingPathComponent("root.pem")
            let ca = folder.appendingPathComponent("forte-personnes.pem")
            try download("\(base)/pki/root.pem", to: root)
            try download("\(base)/pki/forte-personnes.pem", to: ca)
            let served = folder.appendingPathComponent("root.crl")
            try download("\(base)/crl/root.crl", to: served)
            let first = try verifiedCRL(served, issuer: root)
            #expect(first.contains("No Revoked Certificates"), "\(first)")
            let dates = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", served.path, "-noout", "-lastupdate", "-nextupdate"]).output
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
            func date(_ key: String) -> Date? {
                dates.split(separator: "\n").first { $0.hasPrefix(key + "=") }
                    .map { $0.dropFirst(key.count + 1).split(separator: " ").filter { !$0.isEmpty }.joined(separator: " ") }
                    .flatMap { formatter.date(from: $0) }
            }
            let (last, next) = (try #require(date("lastUpdate"), "\(dates)"), try #require(date("nextUpdate"), "\(dates)"))
            #expect(last <= Date(), "the CRL in force has started")
            #expect(abs(next.timeIntervalSince(last) - 37 * 86_400) < 2, "30 days to the next CRL and 7 of overlap: \(dates)")

            // Bad input to the offline step: clear messages, non-zero exits, nothing written.
            let badRevoke = try opencps(["pki", "root-crls", "--root-keys", offline.path, "--revoke", "nothex:cACompromise"], data: data)
            #expect(badRevoke.status != 0 && badRevoke.output.contains("expected SERIAL:REASON"), "\(badRevoke.output)")
            let noKey = try opencps(["pki", "root-crls"], data: data)
            #expect(noKey.status != 0 && noKey.output.contains("No key is stored under the label 'root'"), "\(noKey.output)")
            let nothingToMove = try opencps(["pki", "root-offline", "--to", folder.appendingPathComponent("elsewhere").path], data: data)
            #expect(nothingToMove.status != 0 && nothingToMove.output.contains("No key is stored under the label 'root'"), "\(nothingToMove.output)")
            #expect(try files.contentsOfDirectory(atPath: crls.path).filter { $0.hasSuffix(".crl") }.count == 13)

            // The offline step revokes the issuing CA: the running server serves the new batch.
            let caSerial = try ExternalTool.run("openssl", ["x509", "-in", ca.path, "-noout", "-serial"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
            let signed = try opencps(["pki", "root-crls", "--root-keys", offline.path, "--count", "2", "--revoke", "\(caSerial):cACompromise"], data: data)
            #expect(signed.status == 0 && signed.output.contains("Signed 2 root CRLs"), "\(signed.output)")
            #expect(try files.contentsOfDirectory(atPath: crls.path).filter { $0.hasSuffix(".crl") }.count == 2)
            #expect(try files.contentsOfDirectory(atPath: crls.appendingPathComponent("superseded").path).count == 13)
            try download("\(base)/crl/root.crl", to: served)
            let revoked = try verifiedCRL(served, issuer: root)
            #expect(revoked.uppercased().contains("SERIAL NUMBER: \(caSerial.uppercased())"), "\(revoked)")
            #expect(revoked.contains("CA Compromise"), "\(revoked)")
            let lines = revoked.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let number = lines.firstIndex { $0.hasPrefix("X509v3 CRL Number") }.map { lines[$0 + 1] }
            #expect(number == "14", "numbers go on from the first batch of 13: \(revoked)")
        }

        // The root key back in <data>/keys: the server refuses to start, and says what to do.
        try files.copyItem(at: offline.appendingPathComponent("root.key"), to: keys.appendingPathComponent("root.key"))
        let (status, output) = try await serveFailing(data: data, folder: folder)
        #expect(status != 0 && output.contains("pki root-offline"), "\(output)")
        let moved = try opencps(["pki", "root-offline", "--to", folder.appendingPathComponent("usb").path], data: data)
        #expect(moved.status == 0, "\(moved.output)")
        #expect(!files.fileExists(atPath: keys.appendingPathComponent("root.key").path))
        #expect(files.fileExists(atPath: folder.appendingPathComponent("usb/root.key").path))

        // A CRL file the root did not sign: refused at start-up, never served.
        try Data([0x30, 0x03, 0x02, 0x01, 0x00]).write(to: crls.appendingPathComponent("99.crl"))
        let (forgedStatus, forgedOutput) = try await serveFailing(data: data, folder: folder)
        #expect(forgedStatus != 0 && forgedOutput.contains("99.crl is refused"), "\(forgedOutput)")
    }
}
