import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSApp
import OpenCPSTokens
import Testing

/// A relying service nobody here wrote, Python's authlib, against `opencps serve --demo`: the
/// card login by `opencps card login`, and authlib's own discovery, PKCE, ID token
/// validation, userinfo (JSON and JWT), refresh, introspection and revocation
/// (Tests/OpenCPSAppTests/Python/oidc_client.py).
@Suite("OpenID Connect with authlib", .disabled(if: TestDatabase.isPostgres, "runs on the SQLite leg: the executable keeps its own SQLite file"))
struct OIDCAuthlibTests {
    @Test("authlib logs a demo card holder in and checks every token it gets")
    func authlib() async throws {
        let python = try TestTools.python()
        let folder = try ExternalTool.temporaryFolder("oidc-authlib")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ExecutableTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let data = folder.appendingPathComponent("data")
        let arguments = ["--data", data.path, "--hostname", "127.0.0.1", "--port", String(port), "--log-level", "warning"]
        try await ServerProcess.withDemo(arguments, folder: folder, isUp: { try await ServerProcess.answersOK("\(base)/.well-known/openid-configuration") }) { log in
            // A demo professional's CPS and the PIN from its letter.
            let tokens = data.appendingPathComponent("tokens")
            let files = try FileManager.default.contentsOfDirectory(at: tokens, includingPropertiesForKeys: nil).filter { $0.pathExtension == "token" }
            let card = try #require(try files.sorted { $0.path < $1.path }.first { try SoftwareToken.open($0).publicData.kind == "CPS" })
            let serial = try SoftwareToken.open(card).publicData.cardSerial
            let pinFile = folder.appendingPathComponent("pin.txt")
            try (DemoCards.pinFromLetter(data.appendingPathComponent("letters"), serial: serial) + "\n").write(to: pinFile, atomically: true, encoding: .utf8)
            let script = TestTools.packageRoot.appendingPathComponent("Tests/OpenCPSAppTests/Python/oidc_client.py").path
            let result = try ExternalTool.run(python, [script, base, ExecutableTests.executable.path, card.path, pinFile.path])
            #expect(result.status == 0, "\(result.output)\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            #expect(result.output.contains("authlib: all checks passed"), "\(result.output)")
        }
    }
}
