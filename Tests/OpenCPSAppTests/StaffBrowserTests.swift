import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import Testing
import Vapor

/// The staff pages in a real browser: Debian's headless Chromium driven by Selenium against a
/// listening application, with axe-core auditing every page
/// (Tests/OpenCPSAppTests/Python/staff_browser.py). The application's clock starts 40 days
/// back, so that a file validated then is overdue once the clock has caught up with the real
/// time (which the e-CPS devices' signed proofs need).
@Suite(
    "Web portal staff pages in Chromium", .disabled(if: TestDatabase.isPostgres, "runs on the SQLite leg, like the professional's browser test"),
    TestTools.needs("chromium", "chromedriver"))
struct StaffBrowserTests {
    static let pendingApplicant = "810100271393", lateApplicant = "810100271401"

    @Test("an agent rejects then validates a file, the help desk moves an overdue file to express, a manager orders a CPE, adds its documents and sends it; axe on every page")
    func browser() async throws {
        let python = try TestTools.python()
        let folder = try ExternalTool.temporaryFolder("staff-browser")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ExecutableTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let clock = FixedWallClock(Date().addingTimeInterval(-40 * 86_400))
        let people = DemoData.professionals
        let (agent, desk, manager) = (people[1].idNat.value, people[0].idNat.value, people[3].idNat.value)
        let holders = [Self.pendingApplicant, Self.lateApplicant, agent, desk, manager]
        try await withConfiguredTestApp(
            clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders), publicBaseURL: base, adjust: { $0.portal.secureCookies = false }
        ) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            let cards = try #require(app.cards)
            _ = try await DemoData(clock: clock).load(into: app.db)
            // Forty days ago: a file validated by the agency (overdue today); now: the demo's
            // cards (the test CA's certificates start today), and a file awaiting validation.
            let late = try await Self.submittedFile(api, Self.lateApplicant, lastName: "LEROY")
            try await api.act(late, "validate", as: TestActors.ars)
            clock.catchUp(to: Date())
            _ = try await DemoCards.create(cards: cards, letters: configuration.letterDirectory, tokens: configuration.tokenDirectory)
            _ = try await DemoStaff.add(StaffLogin.directory(app))
            let pending = try await Self.submittedFile(api, Self.pendingApplicant, lastName: "DURAND")

            try await app.server.start(address: .hostname("127.0.0.1", port: port))
            let follower = Task {
                while !Task.isCancelled {
                    clock.catchUp(to: Date())
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
            defer { follower.cancel() }
            let hospital = DemoData.establishments[0].identifier.idNatStruct
            let scenario: [String: Any] = [
                "agent": ["idNat": agent, "token": TestActors.holder(agent)], "pending": pending,
                "applicant": ["idNat": Self.pendingApplicant, "token": TestActors.holder(Self.pendingApplicant)],
                "desk": ["idNat": desk, "token": TestActors.holder(desk)], "overdue": late, "overdueHolder": Self.lateApplicant,
                "manager": ["idNat": manager, "token": TestActors.holder(manager), "structure": hospital], "staff": people[1].idNat.value,
            ]
            let file = folder.appendingPathComponent("scenario.json")
            try JSONSerialization.data(withJSONObject: scenario).write(to: file)
            let shots = ProcessInfo.processInfo.environment["OPENCPS_PORTAL_SCREENSHOTS"] ?? folder.appendingPathComponent("shots").path
            let script = TestTools.packageRoot.appendingPathComponent("Tests/OpenCPSAppTests/Python/staff_browser.py").path
            let arguments = [script, base, ExecutableTests.executable.path, folder.path, shots, file.path]
            // On a thread of its own: the server answers on Swift's cooperative threads.
            let result = try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread { continuation.resume(with: Result { try ExternalTool.run(python, arguments) }) }
            }
            await app.server.shutdown()
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("staff browser: all checks passed"), "\(result.output)")
            let entries = try await cards.reading.history(pending, actor: .platform)
            #expect(entries.contains { $0.actor == "ars:84;person:\(agent)" && $0.action == "card.validate" }, "\(entries.map(\.actor))")
        }
    }

    /// A speech therapist in Lyon (the agency of Auvergne-Rhône-Alpes validates), who applies,
    /// uploads the documents and submits through the JSON API.
    static func submittedFile(_ api: CardAPI, _ idNat: String, lastName: String) async throws -> String {
        try await api.app.testing().test(
            .POST, "/api/v1/professionals", headers: .operatorHeaders,
            body: jsonBody(professionalJSON(idNat: idNat, lastName: lastName, profession: "91", department: "69"))) { #expect($0.status == .created) }
        let holder = TestActors.holder(idNat)
        let applied = try await api.call(.POST, "/api/v1/cards", as: holder, json: #"{"idNat": "\#(idNat)", "kind": "CPS", "professionCode": "91"}"#)
        let id = try #require(applied.json["id"] as? String, "\(applied.json)")
        try await api.uploadMissingDocuments(id, as: holder)
        try await api.act(id, "submit", as: holder)
        return id
    }
}
