import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSApp
import OpenCPSTokens
import Testing

/// The portal in a real browser: Debian's headless Chromium driven by Selenium against
/// `opencps serve --demo`, with axe-core auditing every page
/// (Tests/OpenCPSAppTests/Python/portal_browser.py). A demo professional enrols an e-CPS
/// device with `opencps ecps`, logs in by approving on it, sees their card, declares its loss,
/// sees it blocked, and `openssl ocsp` says its certificate is revoked.
@Suite(
    "Web portal in Chromium", .disabled(if: TestDatabase.isPostgres, "runs on the SQLite leg: the executable keeps its own SQLite file"),
    TestTools.needs("chromium", "chromedriver", "openssl"))
struct PortalBrowserTests {
    @Test("log in with e-CPS, see the card, declare its loss, see it blocked and revoked on OCSP; axe, CSRF, other holders, labels")
    func browser() async throws {
        let python = try TestTools.python()
        let folder = try ExternalTool.temporaryFolder("portal-browser")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ExecutableTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let data = folder.appendingPathComponent("data")
        let arguments = ["--data", data.path, "--hostname", "127.0.0.1", "--port", String(port), "--log-level", "warning"]
        // Plain HTTP on 127.0.0.1: the cookies cannot be Secure here (the setting refuses any other address).
        try await ServerProcess.withDemo(arguments, folder: folder, environment: ["OPENCPS_PORTAL_SECURE_COOKIE": "false"], isUp: { try await ServerProcess.answersOK("\(base)/") }) { log in
            // A demo professional's active CPS, and another holder's card.
            let tokens = data.appendingPathComponent("tokens")
            let files = try FileManager.default.contentsOfDirectory(at: tokens, includingPropertiesForKeys: nil).filter { $0.pathExtension == "token" }
                .sorted { $0.path < $1.path }
            let card = try #require(try files.first { try SoftwareToken.open($0).publicData.kind == "CPS" })
            let holder = try SoftwareToken.open(card).publicData
            let other = try #require(try files.map { try SoftwareToken.open($0).publicData }.first { $0.holderIdNat != holder.holderIdNat })
            let certificate = folder.appendingPathComponent("card-authentication.pem")
            try SoftwareToken.open(card).certificatePEM(.authentication).write(to: certificate, atomically: true, encoding: .utf8)
            let device = folder.appendingPathComponent("device")
            let shots = ProcessInfo.processInfo.environment["OPENCPS_PORTAL_SCREENSHOTS"] ?? folder.appendingPathComponent("shots").path
            let script = TestTools.packageRoot.appendingPathComponent("Tests/OpenCPSAppTests/Python/portal_browser.py").path
            let result = try ExternalTool.run(python, [
                script, base, ExecutableTests.executable.path, device.path, holder.holderIdNat, holder.cardSerial, certificate.path,
                other.holderIdNat, shots,
            ])
            #expect(result.status == 0, "\(result.output)\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            #expect(result.output.contains("portal browser: all checks passed"), "\(result.output)")
        }
    }
}
