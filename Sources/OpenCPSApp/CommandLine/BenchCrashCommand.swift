import ArgumentParser
import Fluent
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSServices
import OpenCPSTokens
import SQLKit
import Vapor
import X509

/// `opencps bench crash`: kills a real `opencps serve` with SIGKILL at random points of
/// production runs and of oppositions, restarts it, and checks what issue 21 promises after
/// every restart (see ``CrashCheck``).
struct BenchCrashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash",
        abstract: "Kill the server with SIGKILL during production runs and oppositions, restart it, and check nothing signed is unknown and nothing is left behind.",
        discussion: """
            Starts `opencps serve --demo` (this executable, or --executable) on a new data folder and database (SQLite by \
            default; with --database postgres://... the database's public schema is dropped first, so --wipe is required). \
            Setup, server stopped: a generated registry, one validated file per card to make, and the cards the opposition \
            scenario opposes. Then, per scenario, --kills times: start the work (a production run of --files files, or \
            --oppositions oppositions at once), wait a random time (seeded by --seed), SIGKILL the server, copy its token \
            folder, restart it (its start-up sweep and repair run with a grace of 0 s), and check: every certificate in a \
            token file of the copy is in the database (as a certificate or an intent); a certificate whose card is not \
            recorded is revoked on OCSP; no .pending- file and no file of an unknown card survives; every opposed card's \
            certificates are revoked on OCSP and on the CRL; `opencps audit verify` passes. Prints the counts; exits 1 \
            on any failed check.
            """)

    @ArgumentParser.Option(name: .long, help: "Kills per scenario.")
    var kills = 50

    @ArgumentParser.Option(name: .long, help: "Files per production run.")
    var files = 20

    @ArgumentParser.Option(name: .long, help: "Cards opposed at once per opposition kill.")
    var oppositions = 5

    @ArgumentParser.Option(name: .long, help: "Longest wait before a kill in a production run (ms; default: 1.3 times a calibration run, not killed).")
    var maxDelay: Int?

    @ArgumentParser.Option(name: .long, help: "Longest wait before a kill during oppositions (ms).")
    var maxOppositionDelay = 400

    @ArgumentParser.Option(name: .long, help: "Seed of the kill times.")
    var seed: UInt64 = 21

    @ArgumentParser.Option(name: .long, help: "The server's port.")
    var port = 18_421

    @ArgumentParser.Option(name: .long, help: "sqlite:PATH or postgres://... (default: a new SQLite file in a temporary folder).")
    var database: String?

    @ArgumentParser.Flag(name: .long, help: "Allow dropping the PostgreSQL database's public schema.")
    var wipe = false

    @ArgumentParser.Option(name: .long, help: "The opencps executable to serve with (default: this one).")
    var executable: String?

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-crash-\(UUID().uuidString)")
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let databaseURL = database ?? "sqlite:" + data.appendingPathComponent("opencps.sqlite").path
        let location: DatabaseLocation
        do { location = try DatabaseLocation(url: databaseURL) } catch { throw ValidationError(error.description) }
        if location.isPostgres {
            guard wipe else { throw ValidationError("--database postgres://... drops that database's public schema: add --wipe") }
            try await ApplicationRunner.withDatabase(
                OpenCPSConfiguration(dataDirectory: data, database: location, logLevel: .warning), migrate: false
            ) { app in
                let sql = app.db as! any SQLDatabase
                try await sql.raw("DROP SCHEMA IF EXISTS public CASCADE").run()
                try await sql.raw("CREATE SCHEMA public").run()
            }
        }
        let executableURL = URL(fileURLWithPath: executable ?? CommandLine.arguments[0])
        let server = CrashServer(
            executable: executableURL, arguments: ["serve", "--demo", "--data", data.path, "--database", databaseURL, "--port", "\(port)"],
            log: folder.appendingPathComponent("server.log"), base: "http://127.0.0.1:\(port)")
        defer { server.stop() }
        let database = location.isPostgres ? "PostgreSQL" : "SQLite"

        // First start: the demo's PKI and rows; then the setup, server stopped.
        try await server.start()
        server.stop()
        printError("setup: \((kills + 1) * files) files to make, \(kills * oppositions) cards to oppose")
        let (productionFiles, opposable) = try await Self.setup(
            data: data, databaseURL: databaseURL, files: (kills + 1) * files, opposable: kills * oppositions)
        try await server.start()

        // Calibration: one production run that is not killed, so that the kills land anywhere in
        // a run (before the signatures, between them and the commit, after the commit).
        let calibrationStart = ContinuousClock.now
        let calibration = try JSONSerialization.data(withJSONObject: ["cardIds": Array(productionFiles.suffix(files))])
        let (calibrationStatus, _) = try await server.http.send("POST", "/api/v1/production-runs", token: "demo-operator-production", body: calibration)
        guard calibrationStatus == 200 else { throw ValidationError("the calibration production run answered \(calibrationStatus)") }
        let runMilliseconds = Int((ContinuousClock.now - calibrationStart).seconds * 1_000)
        let productionDelay = maxDelay ?? max(100, runMilliseconds * 13 / 10)
        printError("calibration: a production run of \(files) files took \(runMilliseconds) ms; kills within \(productionDelay) ms")

        let check = CrashCheck(server: server, data: data, databaseURL: databaseURL, executable: executableURL)
        var random = SplitMix64(seed: seed)
        var report = CrashReport()
        let started = ContinuousClock.now
        for round in 0..<kills {
            let ids = Array(productionFiles[(round * files)..<((round + 1) * files)])
            let body = try JSONSerialization.data(withJSONObject: ["cardIds": ids])
            let work = Task { try? await server.http.send("POST", "/api/v1/production-runs", token: "demo-operator-production", body: body) }
            let delay = Int(random.next() % UInt64(max(1, productionDelay)))
            try await Task.sleep(for: .milliseconds(delay))
            try await report.add(check.killRestartAndCheck(scenario: "production", round: round), kind: .production)
            _ = await work.value
        }
        for round in 0..<kills {
            let ids = Array(opposable[(round * oppositions)..<((round + 1) * oppositions)])
            let work = Task {
                await withTaskGroup(of: Void.self) { group in
                    for id in ids {
                        group.addTask {
                            _ = try? await server.http.send(
                                "POST", "/api/v1/cards/\(id)/opposition", token: "demo-operator-security", body: Data(#"{"reason": "vol"}"#.utf8))
                        }
                    }
                }
            }
            let delay = Int(random.next() % UInt64(max(1, maxOppositionDelay)))
            try await Task.sleep(for: .milliseconds(delay))
            try await report.add(check.killRestartAndCheck(scenario: "opposition", round: round), kind: .opposition)
            _ = await work.value
        }
        let seconds = (ContinuousClock.now - started).seconds
        print(report.summary(database: database, kills: kills, files: files, oppositions: oppositions, seconds: seconds))
        print("  production run of \(files) files not killed: \(runMilliseconds) ms; kills drawn within \(productionDelay) ms")
        if !report.failures.isEmpty {
            for failure in report.failures.prefix(20) { printError("FAILED: \(failure)") }
            throw ExitCode(1)
        }
    }

    /// Makes, with the server stopped, `files` validated files and `opposable` shipped cards.
    static func setup(data: URL, databaseURL: String, files: Int, opposable: Int) async throws -> (files: [String], opposable: [String]) {
        var configuration: OpenCPSConfiguration
        do {
            configuration = try OpenCPSConfiguration.resolve(
                flags: .init(data: data.path, database: databaseURL, logLevel: "warning", demo: true), environment: [:])
        } catch {
            throw ValidationError("\(error)")
        }
        configuration.actorTokens = DemoCards.actorTokens
        let app = try await ApplicationRunner.makeServer(configuration)
        do {
            let cards = try require(app.cards, "the card services")
            let clock = SystemWallClock()
            let sql = app.db as! any SQLDatabase
            let total = files + opposable
            _ = try await DirectoryImporter(database: app.db, clock: clock).run(
                reader: ExtractionLineReader(bytes: ExtractionGenerator(seed: 21).bytes(rows: total * 3)), source: "crash", actor: "crash")
            let people = try await sql.raw("""
                SELECT DISTINCT id_nat FROM activities WHERE postal_code IS NOT NULL AND city IS NOT NULL
                AND profession_code IN ('10', '21', '40', '50', '60', '70', '80') ORDER BY id_nat LIMIT \(bind: total)
                """).all().map { try $0.decode(column: "id_nat", as: String.self) }
            guard people.count >= total else { throw ValidationError("only \(people.count) professionals were generated") }
            let registry = RegistryRepository(database: app.db, clock: clock)
            var validated: [String] = []
            for idNat in people {
                validated.append(try await BenchCardsCommand.validatedFile(for: idNat, registry: registry, cards: cards))
            }
            let toOppose = Array(validated.suffix(opposable))
            try await BenchCardsCommand.manufacture(toOppose, cards: cards)
            try await app.asyncShutdown()
            return (Array(validated.prefix(files)), toOppose)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

/// A server process the harness starts, kills and restarts.
final class CrashServer: @unchecked Sendable {
    // @unchecked: `process` is only touched by the harness's one task.
    let executable: URL
    let arguments: [String]
    let log: URL
    let http: CrashHTTP
    /// Settings added to the harness's own environment (whose `OPENCPS_` settings are dropped).
    let environment: [String: String]
    private var process: Process?

    init(executable: URL, arguments: [String], log: URL, base: String, environment: [String: String] = [:]) {
        self.executable = executable
        self.arguments = arguments
        self.log = log
        self.http = CrashHTTP(base: base)
        self.environment = environment
    }

    /// Starts the server (start-up sweep with no grace) and waits until it answers.
    func start() async throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        environment["OPENCPS_SWEEP_GRACE_SECONDS"] = "0"
        environment["OPENCPS_LOG_LEVEL"] = "warning"
        environment.merge(self.environment) { _, added in added }
        process.environment = environment
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        for _ in 0..<1_200 where process.isRunning {
            if let (status, _) = try? await http.send("GET", "/ready", token: nil, body: nil), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw ValidationError("the server did not start: \(text.suffix(2_000))")
    }

    /// SIGKILL, as a power cut or the OOM killer would.
    func kill() {
        guard let process, process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM, and waits for the exit.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }
}

/// A small HTTP client for the harness.
struct CrashHTTP: Sendable {
    let base: String

    func send(_ method: String, _ path: String, token: String?, body: Data?, contentType: String = "application/json") async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: base + path)!, timeoutInterval: 300)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}

/// The kinds of kill.
enum CrashScenario {
    case production, opposition
}

/// What the kills found.
struct CrashReport {
    var failures: [String] = []
    var kills: [CrashScenario: Int] = [:]
    var signedSeen = 0
    var abandoned = 0
    var removedFiles = 0
    var committedCards = 0
    var opposedCards = 0

    mutating func add(_ outcome: CrashCheck.Outcome, kind: CrashScenario) {
        kills[kind, default: 0] += 1
        failures += outcome.failures
        signedSeen += outcome.signedCertificates
        abandoned += outcome.abandonedCertificates
        removedFiles += outcome.removedFiles
        committedCards = outcome.cardsInService
        opposedCards = outcome.opposedCards
    }

    func summary(database: String, kills: Int, files: Int, oppositions: Int, seconds: Double) -> String {
        """
        crash harness (\(database)): \(self.kills[.production] ?? 0) kills during production runs of \(files) files, \
        \(self.kills[.opposition] ?? 0) kills during \(oppositions) oppositions at once, in \(String(format: "%.0f", seconds)) s
          token certificates checked after the kills: \(signedSeen) (each in the database)
          certificates of cards never recorded, abandoned and revoked: \(abandoned)
          files removed by the start-up sweep: \(removedFiles)
          cards made at the end: \(committedCards); opposed: \(opposedCards)
          failed checks: \(failures.count)
        """
    }
}

/// SplitMix64: a seeded generator of the kill times.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
