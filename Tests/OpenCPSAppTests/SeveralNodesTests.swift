import Foundation
import Testing

/// Two `opencps serve` processes on one PostgreSQL database behave as one system: a revocation
/// made through one reaches the other's OCSP (main route and dedicated port) on the very next
/// request and its CRL within seconds, through PostgreSQL's LISTEN/NOTIFY; a node that cannot
/// hear notifications keeps no answer.
@Suite(
    "Several nodes on one PostgreSQL",
    .enabled(if: TestDatabase.url != nil && TestDatabase.isPostgres, "needs PostgreSQL: set OPENCPS_TEST_DATABASE_URL (the PostgreSQL leg of CI)"),
    TestTools.needs("curl", "openssl", "psql"))
struct SeveralNodesTests {
    /// Runs two nodes (the first with `--demo`) on a schema of their own.
    func withTwoNodes(_ body: (ServerNodes) async throws -> Void) async throws {
        let folder = try ExternalTool.temporaryFolder("nodes")
        defer { try? FileManager.default.removeItem(at: folder) }
        var nodes = try ServerNodes(testDatabaseURL: try #require(TestDatabase.url), folder: folder)
        defer { nodes.stop() }
        try await nodes.start(demo: true)
        try await nodes.start(demo: false)
        try await body(nodes)
    }

    /// POSTs the OCSP request in `request` to `url`; returns the response's bytes and what
    /// openssl reads in it for `certificate`.
    func ocsp(_ url: String, request: URL, certificate: URL, ca: URL, folder: URL) throws -> (bytes: Data, status: String) {
        let response = folder.appendingPathComponent("response-\(UUID().uuidString).der")
        let posted = try ExternalTool.run("curl", [
            "-s", "--fail", "-o", response.path, "-H", "Content-Type: application/ocsp-request", "--data-binary", "@\(request.path)", url,
        ])
        try #require(posted.status == 0, "\(url): \(posted.output)")
        let read = try ExternalTool.run("openssl", ["ocsp", "-respin", response.path, "-issuer", ca.path, "-cert", certificate.path, "-noverify"])
        let status = read.output.contains("\(certificate.path): good") ? "good" : read.output.contains("\(certificate.path): revoked") ? "revoked" : read.output
        return (try Data(contentsOf: response), status)
    }

    /// Issues a certificate through `base` with the demo operator token; returns its serial and PEM file.
    func issue(_ base: String, folder: URL, name: String) throws -> (serial: String, file: URL) {
        let csr = try TestIssuance.csr(in: folder, name: name, newKey: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        let bodyFile = folder.appendingPathComponent("\(name).json")
        try JSONSerialization.data(withJSONObject: TestIssuance.fields(csr: csr)).write(to: bodyFile)
        let result = try ExternalTool.run("curl", [
            "-s", "--fail-with-body", "-H", "Authorization: Bearer demo-operator-token", "-H", "Content-Type: application/json",
            "--data-binary", "@\(bodyFile.path)", "\(base)/api/v1/certificates",
        ])
        try #require(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let file = folder.appendingPathComponent("\(name).pem")
        try (json["pem"] as? String ?? "").write(to: file, atomically: true, encoding: .utf8)
        return (try #require(json["serial"] as? String), file)
    }

    /// Revokes through `base`.
    func revoke(_ base: String, serial: String) throws {
        let result = try ExternalTool.run("curl", [
            "-s", "--fail-with-body", "-H", "Authorization: Bearer demo-operator-token", "-H", "Content-Type: application/json",
            "--data", #"{"reason":"keyCompromise"}"#, "\(base)/api/v1/certificates/forte-personnes/\(serial)/revocation",
        ])
        try #require(result.status == 0, "\(result.output)")
    }

    /// Whether `base`'s current full CRL of the CA lists `serial` (openssl's reading).
    func crlLists(_ base: String, serial: String, folder: URL) throws -> Bool {
        let file = folder.appendingPathComponent("crl-\(UUID().uuidString).crl")
        let fetched = try ExternalTool.run("curl", ["-s", "--fail", "-o", file.path, "\(base)/crl/forte-personnes.crl"])
        try #require(fetched.status == 0, "\(fetched.output)")
        let text = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", file.path, "-noout", "-text"]).output
        return text.uppercased().contains("SERIAL NUMBER: \(serial.uppercased())")
    }

    @Test("a revocation through one node: the other's OCSP (main route and OCSP port) says revoked on the very next request, its CRL lists it within seconds")
    func revocationReachesTheOtherNode() async throws {
        try await withTwoNodes { nodes in
            let (first, second) = (nodes.nodes[0], nodes.nodes[1])
            let folder = nodes.folder
            let ca = folder.appendingPathComponent("ca.pem")
            #expect(try ExternalTool.run("curl", ["-s", "--fail", "-o", ca.path, "\(second.base)/pki/forte-personnes.pem"]).status == 0)
            let leaf = try issue(first.base, folder: folder, name: "leaf")
            let request = folder.appendingPathComponent("request.der")
            _ = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", leaf.file.path, "-no_nonce", "-reqout", request.path])
            let urls = ["\(second.base)/ocsp/forte-personnes", "\(second.ocspBase)/ocsp/forte-personnes"]
            // Asked twice on each route of the second node: the second answer is the kept one.
            for url in urls {
                let asked = try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder)
                let again = try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder)
                #expect(asked.status == "good")
                #expect(again.bytes == asked.bytes, "the second answer is kept")
            }
            #expect(try !crlLists(second.base, serial: leaf.serial, folder: folder))
            try revoke(first.base, serial: leaf.serial)
            for url in urls {
                #expect(try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder).status == "revoked", "\(url)")
            }
            var listed = false
            for _ in 0..<100 where !listed {
                listed = try crlLists(second.base, serial: leaf.serial, folder: folder)
                if !listed { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(listed, "the second node's CRL lists the revocation within 10 s")
            #expect(try nodes.sql("SELECT version FROM revocation_version") == "1")
        }
    }

    @Test("a node whose LISTEN connection is cut drops its kept answers, signs each answer until it listens again, and then hears revocations again")
    func cutListenerFailsClosed() async throws {
        try await withTwoNodes { nodes in
            let (first, second) = (nodes.nodes[0], nodes.nodes[1])
            let folder = nodes.folder
            let ca = folder.appendingPathComponent("ca.pem")
            #expect(try ExternalTool.run("curl", ["-s", "--fail", "-o", ca.path, "\(second.base)/pki/forte-personnes.pem"]).status == 0)
            let leaf = try issue(first.base, folder: folder, name: "leaf")
            let request = folder.appendingPathComponent("request.der")
            _ = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", leaf.file.path, "-no_nonce", "-reqout", request.path])
            let url = "\(second.ocspBase)/ocsp/forte-personnes"
            let kept = try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder)
            #expect(try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder).bytes == kept.bytes)
            // Cut both nodes' notification connections (they are named in pg_stat_activity).
            let cut = try nodes.sql("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                WHERE application_name = 'opencps-revocation-notices:\(nodes.schema)'
                """)
            #expect(cut == "2", "both nodes' listeners were found")
            var lost = false
            for _ in 0..<100 where !lost {
                lost = try String(contentsOf: second.log, encoding: .utf8).contains("Revocation notices lost")
                if !lost { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(lost, "the node noticed the cut")
            // The kept answer is gone: the next one is signed afresh. An RSA signature is
            // deterministic and producedAt counts seconds, so a fresh answer is told from the
            // kept one only in a later second.
            try await Task.sleep(for: .milliseconds(1_100))
            let after = try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder)
            #expect(after.status == "good")
            #expect(after.bytes != kept.bytes, "no kept answer is served once the connection is lost")
            // Once it listens again, a revocation through the other node reaches it at once.
            var listening = false
            for _ in 0..<100 where !listening {
                let log = try String(contentsOf: second.log, encoding: .utf8)
                listening = log.components(separatedBy: "Hearing revocation notices").count > 2
                if !listening { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(listening, "the node listens again")
            _ = try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder)
            _ = try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder)
            try revoke(first.base, serial: leaf.serial)
            #expect(try ocsp(url, request: request, certificate: leaf.file, ca: ca, folder: folder).status == "revoked")
        }
    }
}

/// The short form of the two-node load benchmark (`opencps bench nodes`, issue 21): both nodes'
/// OCSP ports under wrk while oppositions run through the first; every certificate of each
/// opposed card is asked on both nodes as soon as the opposition answers.
@Suite(
    "Several nodes under load, short form",
    .enabled(if: TestDatabase.url != nil && TestDatabase.isPostgres, "needs PostgreSQL: set OPENCPS_TEST_DATABASE_URL (the PostgreSQL leg of CI)"),
    TestTools.needs("wrk", "psql"))
struct SeveralNodesLoadTests {
    @Test("six oppositions under wrk on both nodes: no stale good answer, both CRLs list every opposed certificate")
    func noStaleAnswerUnderLoad() async throws {
        let url = try #require(TestDatabase.url)
        let schema = "nodes_bench_\(UUID().uuidString.prefix(8).lowercased())"
        defer { _ = try? ExternalTool.run("psql", [url, "-q", "-c", "DROP SCHEMA IF EXISTS \(schema) CASCADE"]) }
        let process = Process()
        process.executableURL = ExecutableTests.executable
        process.arguments = [
            "bench", "nodes", "--database", url + (url.contains("?") ? "&" : "?") + "search_path=" + schema, "--wipe",
            "--oppositions", "6", "--concurrency", "2", "--duration", "4", "--connections", "4", "--port", "\(try ExecutableTests.freePort())",
        ]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text.suffix(4_000))")
        #expect(text.contains("6 oppositions through node 1"), "\(text.suffix(2_000))")
        #expect(text.contains("questions right after each opposition's answer: 36 "), "\(text.suffix(2_000))")
        #expect(text.contains("stale good answers: 0"), "\(text.suffix(2_000))")
        #expect(text.contains("certificates missing from a node's CRL after the last opposition: 0"), "\(text.suffix(2_000))")
    }
}
