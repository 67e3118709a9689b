import ArgumentParser
import Foundation
import OpenCPSDomain
import OpenCPSPKCS11
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Vapor

/// `opencps bench pkcs11`: what keeping keys in a PKCS #11 token costs, each figure beside
/// its software peer in the same run: cards manufactured per second on the module (a token
/// per card, keys generated on it) against software tokens, and OCSP answers signed per second
/// with the responder key on the module against the same key type in memory.
struct BenchPKCS11Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pkcs11",
        abstract: "Cards manufactured/s and OCSP answers/s with keys in a PKCS #11 module, each beside the software peer.",
        discussion: """
            The module's tokens are made by the run: for SoftHSM2, point SOFTHSM2_CONF at a throw-away token folder \
            (Benchmarks/pkcs11/run.sh does). Cards: the same production run (--cards files, a throw-away PKI in memory, \
            a fresh SQLite database each) with software tokens, then with a token per card on the module. OCSP: \
            --answers requests with a nonce (each answer signed, none kept), answered on every core by a responder \
            whose key is in memory, then by one whose key was generated on a token of the module.
            """)

    @ArgumentParser.Option(name: .long, help: "The PKCS #11 module.")
    var module = "/usr/lib/softhsm/libsofthsm2.so"

    @ArgumentParser.Option(name: .long, help: "Cards to manufacture on each side.")
    var cards = 200

    @ArgumentParser.Option(name: .long, help: "Card key algorithm: p256 or rsa2048.")
    var algorithm: KeyAlgorithm = .rsa2048

    @ArgumentParser.Option(name: .long, help: "OCSP answers to sign on each side.")
    var answers = 5_000

    @ArgumentParser.Option(name: .long, help: "OCSP responder key algorithm.")
    var responderAlgorithm: KeyAlgorithm = .p256

    func run() async throws {
        let loaded = try PKCS11Module.load(path: module)
        let info = try loaded.info()
        print("module: \(info.manufacturer) \(info.library) (Cryptoki \(info.version)), \(ProcessInfo.processInfo.activeProcessorCount) cores")

        let software = try await manufactureRate(cardModule: nil)
        let hsm = try await manufactureRate(cardModule: module)
        print("card manufacture (\(cards) cards, \(algorithm.rawValue) keys, SQLite): software tokens \(Self.rate(software)) cards/s, PKCS #11 tokens \(Self.rate(hsm)) cards/s")

        let pin = "bench-\(UInt32.random(in: 0...UInt32.max))"
        let label = "opencps-bench-\(UInt32.random(in: 0...UInt32.max))"
        _ = try loaded.initializeNewToken(label: label, soPIN: pin, userPIN: pin)
        let hsmStore = try PKCS11KeyStore(location: .init(modulePath: module, tokenLabel: label), pin: pin)
        let softwareAnswers = try ocspRate(keyStore: InMemoryKeyStore())
        let hsmAnswers = try ocspRate(keyStore: hsmStore)
        print("OCSP answers (\(answers) signed answers, responder key \(responderAlgorithm.rawValue), all cores): software key \(Self.rate(softwareAnswers)) answers/s, PKCS #11 key \(Self.rate(hsmAnswers)) answers/s")
    }

    static func rate(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Cards per second of one production run, with software tokens or on `cardModule`.
    private func manufactureRate(cardModule: String?) async throws -> Double {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-bench-pkcs11-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let location = try DatabaseLocation(url: "sqlite:" + folder.appendingPathComponent("bench.sqlite").path)
        let configuration = OpenCPSConfiguration(dataDirectory: folder, database: location, logLevel: .warning, cardPKCS11Module: cardModule)
        let keyStore = InMemoryKeyStore()
        let hierarchy = try PKIHierarchyBuilder(
            configuration: PKIConfiguration(
                publicBaseURL: "http://127.0.0.1:8080", rootKeyAlgorithm: .p256, issuingCAKeyAlgorithm: .p256, ocspResponderKeyAlgorithm: .p256),
            keyStore: keyStore).initialize(now: Date().addingTimeInterval(-3600))
        let clock = FixedWallClock(Date())
        let app = try await Application.make(Environment(name: "production", arguments: ["opencps"]))
        do {
            try await configure(app, configuration: configuration, dependencies: OpenCPSDependencies(
                clock: clock, pki: PKIMaterial(hierarchy: hierarchy, keyStore: keyStore), cardSettings: CardServiceSettings(keyAlgorithm: algorithm)))
            let sql = app.db as! any SQLDatabase
            try await sql.raw("PRAGMA journal_mode = WAL").run()
            try await app.autoMigrate()
            let services = try require(app.cards, "the card services")
            _ = try await DirectoryImporter(database: app.db, clock: clock).run(
                reader: ExtractionLineReader(bytes: ExtractionGenerator(seed: 9).bytes(rows: cards * 3)), source: "bench", actor: "bench")
            let people = try await sql.raw("""
                SELECT DISTINCT id_nat FROM activities WHERE postal_code IS NOT NULL AND city IS NOT NULL
                AND profession_code IN ('10', '21', '40', '50', '60', '70', '80') ORDER BY id_nat LIMIT \(bind: cards)
                """).all().map { try $0.decode(column: "id_nat", as: String.self) }
            guard people.count >= cards else { throw ValidationError("only \(people.count) professionals were generated") }
            let registry = RegistryRepository(database: app.db, clock: clock)
            var files: [String] = []
            for idNat in people { files.append(try await BenchCardsCommand.validatedFile(for: idNat, registry: registry, cards: services)) }
            printError("timed: \(cards) cards on \(cardModule ?? "software tokens")")
            let started = ContinuousClock.now
            try await BenchCardsCommand.manufacture(files, cards: services)
            let seconds = (ContinuousClock.now - started).seconds
            try await app.asyncShutdown()
            return Double(cards) / seconds
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Signed OCSP answers per second on every core, the hierarchy's keys in `keyStore`.
    private func ocspRate(keyStore: any KeyStore) throws -> Double {
        let now = Date().addingTimeInterval(-60)
        let hierarchy = try PKIHierarchyBuilder(
            configuration: PKIConfiguration(
                publicBaseURL: "http://127.0.0.1:8080", rootKeyAlgorithm: .p256, issuingCAKeyAlgorithm: .p256,
                ocspResponderKeyAlgorithm: responderAlgorithm),
            keyStore: keyStore).initialize(now: now)
        let responder = try OCSPResponder(authority: hierarchy.fortePersonnes, keyStore: keyStore, validity: 3600)
        let ca = hierarchy.fortePersonnes.ca.certificate
        let requests = try (0..<64).map { index in
            try OCSPRequest(
                certIDs: [OCSPCertID(issuer: ca, serialNumber: .init(bytes: [0x10, UInt8(index)]))],
                nonce: (0..<16).map { UInt8(truncatingIfNeeded: $0 &+ index) }).derEncoded()
        }
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let perWorker = max(1, answers / workers)
        let failures = FailureCount()
        let started = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in 0..<perWorker {
                let result = responder.respondSynchronously(to: requests[(worker + index) % requests.count], now: now) { _ in .good }
                if result.status != .successful { failures.add() }
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        guard failures.value == 0 else { throw ValidationError("\(failures.value) OCSP answers failed") }
        return Double(perWorker * workers) / seconds
    }
}

/// A counter shared by the benchmark's threads.
private final class FailureCount: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by lock.
    private var count = 0

    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
