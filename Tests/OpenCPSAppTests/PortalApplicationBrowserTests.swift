import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSTokens
import Testing

/// The professional's pages in a real browser (Tests/OpenCPSAppTests/Python/portal_application_browser.py):
/// Debian's headless Chromium against `opencps serve --demo`, axe-core on every page. A demo
/// orthophoniste tabs through the space with the keyboard, enrols a device from the portal's QR
/// page with `opencps ecps enrol`, changes the address, and completes the replacement file of a
/// lost card: upload, submission; the agency's agent, in a second Chromium, rejects it from the
/// staff queue with a reason; the professional resubmits; the agent validates (the issue's
/// "an applicant uploads documents and an instance rejects, then validates them", browser only).
@Suite(
    "Web portal in Chromium: the professional's pages",
    .disabled(if: TestDatabase.isPostgres, "runs on the SQLite leg: the executable keeps its own SQLite file"),
    TestTools.needs("chromium", "chromedriver"))
struct PortalApplicationBrowserTests {
    @Test("keyboard tour, QR enrolment, address, documents uploaded, rejected by the agent from the staff queue, resubmitted and validated there; axe on every page")
    func browser() async throws {
        let python = try TestTools.python()
        let folder = try ExternalTool.temporaryFolder("portal-application-browser")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ExecutableTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let data = folder.appendingPathComponent("data")
        let arguments = ["--data", data.path, "--hostname", "127.0.0.1", "--port", String(port), "--log-level", "warning"]
        // The demo's orthophoniste (a non-ordinal profession), and the agency of their region.
        let applicant = try #require(DemoData.professionals.first { $0.exercises.first?.profession.code == "91" })
        let activity = try #require(applicant.exercises.first?.activities.first)
        let department = try #require(activity.department ?? activity.address?.postalCode.flatMap { DepartmentCode(postalCode: $0) })
        let agency = CardActor.agenceRegionale(try #require(Region(department: department)))
        // The demo's agent of that agency (DemoStaff), who logs in with e-CPS like any professional.
        let agent = try #require(DemoStaff.roles.first { $0.role == agency }?.idNat)
        try await ServerProcess.withDemo(arguments, folder: folder, environment: ["OPENCPS_PORTAL_SECURE_COOKIE": "false"], isUp: { try await ServerProcess.answersOK("\(base)/") }) { log in
            let tokens = data.appendingPathComponent("tokens")
            let files = try FileManager.default.contentsOfDirectory(at: tokens, includingPropertiesForKeys: nil).filter { $0.pathExtension == "token" }
            let card = try #require(try files.map { try SoftwareToken.open($0).publicData }.first { $0.kind == "CPS" && $0.holderIdNat == applicant.idNat.value })
            let work = folder.appendingPathComponent("work")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let shots = ProcessInfo.processInfo.environment["OPENCPS_PORTAL_SCREENSHOTS"] ?? folder.appendingPathComponent("shots").path
            let script = TestTools.packageRoot.appendingPathComponent("Tests/OpenCPSAppTests/Python/portal_application_browser.py").path
            let result = try ExternalTool.run(python, [
                script, base, ExecutableTests.executable.path, work.path, applicant.idNat.value, card.cardSerial, agent.value, shots,
            ])
            #expect(result.status == 0, "\(result.output)\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            #expect(result.output.contains("portal application browser: all checks passed"), "\(result.output)")
            #expect(result.output.contains("ok: the agent validates the file"), "\(result.output)")
        }
    }
}
