import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Testing
import Vapor
import X509

/// Issue 21: PIN letters are handed off to the print service, once, encrypted to its
/// certificate (CMS EnvelopedData that `openssl cms -decrypt` opens), and leave the data folder.
@Suite("PIN letter hand-off", TestTools.needs("openssl"))
struct PINLetterHandOffTests {
    @Test("the waiting letters are exported once to the print service's certificate, openssl decrypts them, and they leave the letters folder, audited")
    func exportOnce() async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, cardSettings: CrashSafeManufactureTests.settings) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            let service = try #require(app.cards)
            let run = await service.production.manufacture(
                Array(try await CrashSafeManufactureTests().validatedFiles(service).prefix(2)), actor: .agencyOperator(.production))
            let serials = run.manufactured.compactMap(\.manufacture?.serial.value).sorted()
            #expect(serials.count == 2)
            let letters = configuration.letterDirectory
            var pins: [String: String] = [:]
            for serial in serials {
                let text = try String(contentsOf: letters.appendingPathComponent("\(serial)-lettre-code-porteur.txt"), encoding: .utf8)
                pins[serial] = text.split(separator: "\n").first { $0.hasPrefix(PINLetter.pinLabel) }.map(String.init)
            }
            // A letter whose card was never recorded is not handed off (the sweep removes it).
            try Data("orphan".utf8).write(to: letters.appendingPathComponent("9999999993-lettre-code-porteur.txt"))

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("print-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let key = folder.appendingPathComponent("key.pem")
            let certificateFile = folder.appendingPathComponent("cert.pem")
            #expect(try ExternalTool.run("openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", certificateFile.path,
                "-subj", "/CN=Service d'impression", "-days", "2",
            ]).status == 0)
            let certificate = try Certificate(pemEncoded: String(contentsOf: certificateFile, encoding: .utf8))
            let out = folder.appendingPathComponent("letters.p7m")

            // A recipient without an RSA key is refused, and nothing is removed.
            #expect(try ExternalTool.run("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder.appendingPathComponent("ec.key").path,
                "-out", folder.appendingPathComponent("ec.pem").path, "-subj", "/CN=EC", "-days", "2",
            ]).status == 0)
            let ec = try Certificate(pemEncoded: String(contentsOf: folder.appendingPathComponent("ec.pem"), encoding: .utf8))
            #expect(await errorCode { _ = try await service.letters.export(to: ec, writingTo: folder.appendingPathComponent("ec.p7m"), actor: "operator:test") }
                == "pki.envelope-recipient")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("ec.p7m").path))

            let exported = try await service.letters.export(to: certificate, writingTo: out, actor: "operator:test")
            #expect(exported == serials)
            let attributes = try FileManager.default.attributesOfItem(atPath: out.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let decrypted = try ExternalTool.run("openssl", [
                "cms", "-decrypt", "-inform", "DER", "-in", out.path, "-inkey", key.path, "-recip", certificateFile.path,
            ])
            #expect(decrypted.status == 0, "\(decrypted.output)")
            for serial in serials {
                #expect(decrypted.output.contains("--- \(serial)-lettre-code-porteur.txt ---"))
                #expect(decrypted.output.contains(try #require(pins[serial])))
            }
            #expect(!decrypted.output.contains("orphan"))
            let left = try FileManager.default.contentsOfDirectory(atPath: letters.path)
            #expect(left == ["9999999993-lettre-code-porteur.txt"])
            let actions = try await (app.db as! any SQLDatabase).select().column("action").from("audit_log").all()
                .map { try $0.decode(column: "action", as: String.self) }
            #expect(actions.filter { $0 == "card.pin-letter-export" }.count == 2)

            // Once: a second export finds nothing and writes nothing.
            let again = folder.appendingPathComponent("again.p7m")
            #expect(try await service.letters.export(to: certificate, writingTo: again, actor: "operator:test").isEmpty)
            #expect(!FileManager.default.fileExists(atPath: again.path))

        }
    }
}
