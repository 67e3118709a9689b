import ArgumentParser
import Foundation
import OpenCPSPKI
import SQLKit
import Vapor
import X509

/// `opencps bench nodes`: two `opencps serve` nodes on one PostgreSQL database, both OCSP ports
/// under wrk, while oppositions run through the first; after each opposition's answer, every
/// certificate of the card is asked again on both nodes, and a good answer is counted stale.
struct BenchNodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "Two nodes on one PostgreSQL: OCSP under wrk on both while oppositions run; counts stale good answers.",
        discussion: """
            Drops the database's public schema, or the schema its `search_path` parameter names (--wipe is required), starts `opencps serve --demo` (this executable, or \
            --executable) once to make the PKI and the demo rows, makes --oppositions shipped cards with the server \
            stopped, then starts two nodes on the same database and data folder, each with its own main and OCSP ports. \
            wrk (--threads, --connections per node) asks both OCSP ports, with RFC 5019 GET requests (no nonce, so \
            answers are kept and reused), for the certificates of those cards, for --duration seconds. Meanwhile \
            --concurrency oppositions at a time go through the first node; as soon as one answers, each certificate of \
            the card is asked on the second node's OCSP port and main route and on the first node's OCSP port, with the \
            same GET requests wrk sends: any `good` is a stale answer. At the end, both nodes' CRLs must list every \
            opposed certificate within 10 s. Exits 1 on any stale answer or missing CRL entry.
            """)

    @ArgumentParser.Option(name: .long, help: "postgres://... (its public schema, or the one its search_path names, is dropped).")
    var database: String

    @ArgumentParser.Flag(name: .long, help: "Allow dropping the PostgreSQL database's public schema.")
    var wipe = false

    @ArgumentParser.Option(name: .long, help: "Cards opposed during the run.")
    var oppositions = 200

    @ArgumentParser.Option(name: .long, help: "Oppositions in flight at once.")
    var concurrency = 4

    @ArgumentParser.Option(name: .long, help: "Seconds of wrk load on each node.")
    var duration = 20

    @ArgumentParser.Option(name: .long, help: "wrk connections per node.")
    var connections = 16

    @ArgumentParser.Option(name: .long, help: "wrk threads per node.")
    var threads = 1

    @ArgumentParser.Option(name: .long, help: "The first port; the nodes take it and the three after it.")
    var port = 18_441

    @ArgumentParser.Option(name: .long, help: "The opencps executable to serve with (default: this one).")
    var executable: String?

    func validate() throws {
        guard database.hasPrefix("postgres") else { throw ValidationError("--database must be a postgres:// URL: SQLite is one process, one node") }
        guard wipe else { throw ValidationError("--database drops that database's public schema: add --wipe") }
        guard oppositions > 0, concurrency > 0, duration > 0, connections > 0, threads > 0 else {
            throw ValidationError("--oppositions, --concurrency, --duration, --connections and --threads must be positive")
        }
    }

    func run() async throws {
        guard let wrk = Self.findExecutable("wrk") else { throw ValidationError("wrk is needed (apt-get install -y wrk)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-nodes-\(UUID().uuidString)")
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let location: DatabaseLocation
        do { location = try DatabaseLocation(url: database) } catch { throw ValidationError(error.description) }
        let schema = try Self.schema(in: database)
        try await ApplicationRunner.withDatabase(
            OpenCPSConfiguration(dataDirectory: data, database: location, logLevel: .warning), migrate: false
        ) { app in
            let sql = app.db as! any SQLDatabase
            try await sql.raw("DROP SCHEMA IF EXISTS \(unsafeRaw: schema) CASCADE").run()
            try await sql.raw("CREATE SCHEMA \(unsafeRaw: schema)").run()
        }

        let executableURL = URL(fileURLWithPath: executable ?? CommandLine.arguments[0])
        func node(_ index: Int, demo: Bool) -> CrashServer {
            let (main, ocsp) = (port + 2 * index, port + 2 * index + 1)
            return CrashServer(
                executable: executableURL,
                arguments: ["serve"] + (demo ? ["--demo"] : []) + [
                    "--data", data.path, "--database", database, "--port", "\(main)", "--ocsp-port", "\(ocsp)",
                ],
                log: folder.appendingPathComponent("node\(index + 1).log"), base: "http://127.0.0.1:\(main)",
                environment: demo ? [:] : ["OPENCPS_KEYSTORE_PASSPHRASE_FILE": data.appendingPathComponent("keystore-passphrase").path])
        }
        let first = node(0, demo: true)
        let second = node(1, demo: false)
        defer {
            first.stop()
            second.stop()
        }
        try await first.start()
        first.stop()
        printError("setup: \(oppositions) shipped cards to oppose")
        let (_, cardIDs) = try await BenchCrashCommand.setup(data: data, databaseURL: database, files: 0, opposable: oppositions)
        let serials = try await Self.certificateSerials(of: cardIDs, data: data, location: location)
        try await first.start()
        try await second.start()

        let firstOCSP = CrashHTTP(base: "http://127.0.0.1:\(port + 1)")
        let secondOCSP = CrashHTTP(base: "http://127.0.0.1:\(port + 3)")
        let (caStatus, caBody) = try await first.http.send("GET", "/pki/forte-personnes.crt", token: nil, body: nil)
        guard caStatus == 200 else { throw ValidationError("GET /pki/forte-personnes.crt answered \(caStatus)") }
        let ca = try Certificate(derEncoded: Array(caBody))
        var paths: [String: String] = [:]
        for serial in serials.values.flatMap({ $0 }) {
            guard let number = Certificate.SerialNumber(hex: serial) else { throw ValidationError("bad serial \(serial) in the database") }
            paths[serial] = Self.getPathComponent(try OCSPRequest(certIDs: [OCSPCertID(issuer: ca, serialNumber: number)]).derEncoded())
        }
        let pathFile = folder.appendingPathComponent("paths.txt")
        try paths.values.sorted().joined(separator: "\n").write(to: pathFile, atomically: true, encoding: .utf8)
        let script = folder.appendingPathComponent("ocsp-get.lua")
        try Self.wrkScript.write(to: script, atomically: true, encoding: .utf8)

        // Every answer good before the run: the kept answers the oppositions must not let through.
        for (serial, path) in paths {
            for http in [firstOCSP, secondOCSP] where try await Self.ocspStatus(http, path: "/ocsp/forte-personnes/" + path) != "good" {
                throw ValidationError("certificate \(serial) is not good on \(http.base) before the run")
            }
        }

        let loads = try [firstOCSP, secondOCSP].map { http in
            try WrkRun(wrk: wrk, script: script, paths: pathFile, url: http.base + "/ocsp/forte-personnes",
                       threads: threads, connections: connections, seconds: duration)
        }
        let started = ContinuousClock.now
        let tally = try await oppose(cardIDs, serials: serials, paths: paths, through: first, asking: [
            ("node 2, OCSP port", secondOCSP), ("node 2, main route", second.http), ("node 1, OCSP port", firstOCSP),
        ])
        let opposing = (ContinuousClock.now - started).seconds
        var missing = 0
        let crlStart = ContinuousClock.now
        let opposed = Set(serials.values.flatMap { $0 })
        for http in [first.http, second.http] {
            var listed: Set<String> = []
            while true {
                let (status, body) = try await http.send("GET", "/crl/forte-personnes.crl", token: nil, body: nil)
                if status == 200 { listed = Set(try CertificateRevocationList(derEncoded: Array(body)).entries.map(\.serialNumber.hex)) }
                if opposed.isSubset(of: listed) || (ContinuousClock.now - crlStart) > .seconds(10) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            missing += opposed.subtracting(listed).count
        }
        let crlSeconds = (ContinuousClock.now - crlStart).seconds
        let results = try loads.map { try $0.wait() }

        print("""
            two nodes on PostgreSQL: \(tally.opposed) oppositions through node 1 (\(concurrency) at once) in \
            \(String(format: "%.1f", opposing)) s, \(opposed.count) certificates, while wrk asked both OCSP ports \
            (\(threads) thread(s), \(connections) connections each, \(duration) s, RFC 5019 GET)

            | Node | OCSP answers/s under wrk | non-200 | p99 latency |
            |---|---|---|---|
            | node 1 | \(results[0].rate) | \(results[0].errors) | \(results[0].p99) |
            | node 2 | \(results[1].rate) | \(results[1].errors) | \(results[1].p99) |

            questions right after each opposition's answer: \(tally.checks) (\(tally.checksPerPlace.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", ")))
            stale good answers: \(tally.stale)
            oppositions refused: \(tally.refused)
            certificates missing from a node's CRL after the last opposition: \(missing) (both CRLs read within \(String(format: "%.1f", crlSeconds)) s of it)
            """)
        for line in tally.failures.prefix(20) { printError("FAILED: \(line)") }
        if tally.stale > 0 || tally.refused > 0 || missing > 0 { throw ExitCode(1) }
    }

    /// What the oppositions and the questions after them found.
    struct Tally {
        var opposed = 0
        var refused = 0
        var checks = 0
        var checksPerPlace: [String: Int] = [:]
        var stale = 0
        var failures: [String] = []
    }

    /// Opposes `cardIDs` through `node`, `concurrency` at a time; after each answer asks every
    /// certificate of the card at each place.
    func oppose(
        _ cardIDs: [String], serials: [String: [String]], paths: [String: String], through node: CrashServer,
        asking places: [(String, CrashHTTP)]
    ) async throws -> Tally {
        var tally = Tally()
        var next = 0
        try await withThrowingTaskGroup(of: Tally.self) { group in
            func start(_ id: String) {
                group.addTask {
                    var one = Tally()
                    let (status, body) = try await node.http.send(
                        "POST", "/api/v1/cards/\(id)/opposition", token: "demo-operator-security", body: Data(#"{"reason": "vol"}"#.utf8))
                    guard status == 200 else {
                        one.refused = 1
                        one.failures.append("opposition of \(id) answered \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
                        return one
                    }
                    one.opposed = 1
                    for serial in serials[id] ?? [] {
                        for (place, http) in places {
                            let status = try await Self.ocspStatus(http, path: "/ocsp/forte-personnes/" + (paths[serial] ?? ""))
                            one.checks += 1
                            one.checksPerPlace[place, default: 0] += 1
                            if status != "revoked" {
                                one.stale += status == "good" ? 1 : 0
                                one.failures.append("\(place): certificate \(serial) of opposed card \(id) answered \(status)")
                            }
                        }
                    }
                    return one
                }
            }
            while next < min(concurrency, cardIDs.count) {
                start(cardIDs[next])
                next += 1
            }
            while let one = try await group.next() {
                tally.opposed += one.opposed
                tally.refused += one.refused
                tally.checks += one.checks
                tally.stale += one.stale
                tally.failures += one.failures
                tally.checksPerPlace.merge(one.checksPerPlace, uniquingKeysWith: +)
                if next < cardIDs.count {
                    start(cardIDs[next])
                    next += 1
                }
            }
        }
        return tally
    }

    /// The schema the URL's `search_path` names (the nodes' deployment, as in docs/operations.md),
    /// else `public`.
    static func schema(in url: String) throws -> String {
        guard let query = URLComponents(string: url)?.queryItems,
              let searchPath = query.first(where: { $0.name == "search_path" })?.value else { return "public" }
        guard !searchPath.isEmpty, searchPath.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw ValidationError("search_path=\(searchPath): one schema of lowercase letters, digits and '_' is expected")
        }
        return searchPath
    }

    /// Card id → its certificates' serials (hexadecimal), read from the database.
    static func certificateSerials(of cardIDs: [String], data: URL, location: DatabaseLocation) async throws -> [String: [String]] {
        try await ApplicationRunner.withDatabase(
            OpenCPSConfiguration(dataDirectory: data, database: location, logLevel: .warning), migrate: false
        ) { app in
            let sql = app.db as! any SQLDatabase
            var serials: [String: [String]] = [:]
            let wanted = Set(cardIDs)
            for row in try await sql.raw("SELECT id, authentication_certificate, signature_certificate FROM cards").all() {
                let id = try row.decode(column: "id", as: String.self)
                guard wanted.contains(id) else { continue }
                serials[id] = [
                    try row.decode(column: "authentication_certificate", as: String?.self),
                    try row.decode(column: "signature_certificate", as: String?.self),
                ].compactMap { $0 }
            }
            guard serials.count == wanted.count, serials.values.allSatisfy({ !$0.isEmpty }) else {
                throw ValidationError("the setup left \(serials.count) of \(wanted.count) cards with certificates")
            }
            return serials
        }
    }

    /// RFC 5019's GET form: the request's base64, URL-encoded.
    static func getPathComponent(_ der: [UInt8]) -> String {
        Data(der).base64EncodedString()
            .replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "=", with: "%3D")
    }

    /// `good`, `revoked`, `unknown`, or what went wrong.
    static func ocspStatus(_ http: CrashHTTP, path: String) async throws -> String {
        let (status, body) = try await http.send("GET", path, token: nil, body: nil)
        guard status == 200, let response = try? OCSPResponse(derEncoded: Array(body)), let single = response.basic?.responses.first else {
            return "no answer (\(status))"
        }
        switch single.status {
        case .good: return "good"
        case .revoked: return "revoked"
        case .unknown: return "unknown"
        }
    }

    static func findExecutable(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// wrk's script: rotates through the GET paths of a file; prints the non-2xx count and p99.
    static let wrkScript = """
        local requests = {}
        local index = 0
        function init(args)
           local base = wrk.path:gsub("/$", "")
           for line in io.lines(args[1]) do
              if #line > 0 then requests[#requests + 1] = wrk.format("GET", base .. "/" .. line) end
           end
           index = math.random(#requests) - 1
        end
        function request()
           index = index % #requests + 1
           return requests[index]
        end
        function done(summary, latency, requests)
           io.write(string.format("opencps-non2xx %d\\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
           io.write(string.format("opencps-p99-us %d\\n", latency:percentile(99)))
           io.write(string.format("opencps-rate %.0f\\n", summary.requests / (summary.duration / 1000000)))
        end
        """
}

/// One wrk process, started at once and read at the end.
struct WrkRun {
    let process: Process
    let output: URL

    /// What wrk measured.
    struct Result {
        var rate: String
        var errors: String
        var p99: String
    }

    init(wrk: URL, script: URL, paths: URL, url: String, threads: Int, connections: Int, seconds: Int) throws {
        output = script.deletingLastPathComponent().appendingPathComponent("wrk-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process = Process()
        process.executableURL = wrk
        process.arguments = ["-t", "\(threads)", "-c", "\(connections)", "-d", "\(seconds)s", "-s", script.path, url, "--", paths.path]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    func wait() throws -> Result {
        process.waitUntilExit()
        let text = try String(contentsOf: output, encoding: .utf8)
        func value(_ key: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(key + " ") }.map { String($0.dropFirst(key.count + 1)) }
        }
        guard process.terminationStatus == 0, let rate = value("opencps-rate"), let errors = value("opencps-non2xx"),
              let p99 = value("opencps-p99-us").flatMap(Double.init) else {
            throw ValidationError("wrk failed: \(text.suffix(1_000))")
        }
        return Result(rate: rate, errors: errors, p99: String(format: "%.2f ms", p99 / 1_000))
    }
}
