import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSApp
import Testing

/// The OpenAPI document holds against the real server. schemathesis (from the tests' Python
/// environment, ``TestTools``) reads the document `opencps serve --demo` serves and sends every
/// operation valid and invalid requests, then chains of requests along the links between
/// operations; each answer must not be a server error, must have a status the document lists for
/// the operation, and must have a body that matches the schema the document gives for that status.
///
/// It runs the executable, which keeps its data in an SQLite file of its own, so it runs on the
/// SQLite leg only.
@Suite("API conformance", .disabled(if: TestDatabase.isPostgres, "runs on the SQLite leg: the executable keeps its own SQLite file"))
struct APIConformanceTests {
    /// Test cases per operation and phase: enough to get past validation into the services, few
    /// enough that the run stays well under two minutes on two cores.
    static let maxExamples = 25

    /// A fixed seed: the same requests on every run, so that a failure is reproducible.
    static let seed = 20_261_124

    /// The demo's tokens for the document's two security schemes (the help desk may read every
    /// card file, so most card operations get past authorisation).
    static let operatorToken = "demo-operator-token"
    static let actorToken = "demo-helpdesk"

    @Test("schemathesis finds no server error, no undocumented status and no body off its schema")
    func documentHoldsAgainstTheDemoServer() async throws {
        let schemathesis = try TestTools.venvTool("schemathesis")
        try await Self.withDemoServer { base, folder, serverLog in
            let configuration = folder.appendingPathComponent("schemathesis.toml")
            try await Self.configuration(base: base).write(to: configuration, atomically: true, encoding: .utf8)
            // In the test's folder: schemathesis keeps its example database and crash cache in
            // the working directory.
            let result = try ExternalTool.run(schemathesis, [
                "--config-file", configuration.path, "run", "\(base)/api/v1/openapi.json",
                "--checks", "not_a_server_error,status_code_conformance,response_schema_conformance",
                "--max-examples", String(Self.maxExamples), "--seed", String(Self.seed),
                // One worker: deterministic order, and CPython 3.11 before 3.11.8 can fail
                // parsing in concurrent threads ("AST constructor recursion depth mismatch").
                "--workers", "1", "--generation-database", "none", "--no-color",
            ], in: folder)
            #expect(result.status == 0, """
                schemathesis found the server and its OpenAPI document apart:
                \(result.output)
                --- server log ---
                \((try? String(contentsOf: serverLog, encoding: .utf8)) ?? "")
                """)
        }
    }

    /// schemathesis's configuration: the demo's tokens, and the demo's records as dictionaries,
    /// so that most generated identifiers name real professionals, structures, cards and
    /// certificates (the rest stay random, for the 404s and 422s).
    static func configuration(base: String) async throws -> String {
        let holders = DemoData.professionals.map(\.idNat.value)
        let structures = DemoData.establishments.map(\.identifier.idNatStruct)
        var cards: [String] = []
        var serials: [String] = []
        for holder in holders {
            let listed = try await json("\(base)/api/v1/cards?idNat=\(holder)")
            let files = try #require(listed as? [[String: Any]], "the cards of \(holder)")
            cards += files.compactMap { $0["id"] as? String }
            serials += files.flatMap { card in ["authenticationCertificate", "signatureCertificate"].compactMap { card[$0] as? String } }
        }
        try #require(!cards.isEmpty && !serials.isEmpty, "the demo server made no cards")
        func list(_ values: [String]) -> String {
            "[" + values.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
        return """
            [auth.openapi.operatorToken]
            bearer = "\(operatorToken)"

            [auth.openapi.actorToken]
            bearer = "\(actorToken)"

            [dictionaries.idNat]
            values = \(list(holders))

            [dictionaries.structureId]
            values = \(list(structures))

            [dictionaries.cardId]
            values = \(list(cards))

            [dictionaries.serial]
            values = \(list(serials))

            [parameters]
            "path.idNat" = { dictionary = "idNat", probability = 0.8 }
            "query.idNat" = { dictionary = "idNat", probability = 0.8 }
            "query.q" = { dictionary = "idNat", probability = 0.8 }
            "path.serial" = { dictionary = "serial", probability = 0.8 }

            [[operations]]
            include-path-regex = "^/cards/"
            parameters = { "path.id" = { dictionary = "cardId", probability = 0.8 } }

            [[operations]]
            include-path-regex = "^/structures/"
            parameters = { "path.id" = { dictionary = "structureId", probability = 0.8 } }

            """
    }

    /// A JSON document read with the help desk's token.
    static func json(_ url: String) async throws -> Any {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.setValue("Bearer \(actorToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        try #require((response as? HTTPURLResponse)?.statusCode == 200, "\(url): \(String(decoding: data, as: UTF8.self))")
        return try JSONSerialization.jsonObject(with: data)
    }

    /// Runs `opencps serve --demo` as an operator starts it, on a free port and an empty data
    /// folder and without the test's own `OPENCPS_` settings, waits until it answers, and stops it
    /// after `body`.
    static func withDemoServer(_ body: (_ base: String, _ folder: URL, _ serverLog: URL) async throws -> Void) async throws {
        let folder = try ExternalTool.temporaryFolder("conformance")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ExecutableTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let arguments = ["--data", folder.appendingPathComponent("data").path, "--hostname", "127.0.0.1", "--port", String(port),
                         "--log-level", "warning"]
        try await ServerProcess.withDemo(arguments, folder: folder, isUp: { try await ServerProcess.answersOK("\(base)/health") }) { log in
            try await body(base, folder, log)
        }
    }
}
