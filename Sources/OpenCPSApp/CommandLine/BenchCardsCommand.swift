import ArgumentParser
import Fluent
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Vapor

/// `opencps bench cards`: cards manufactured per second, and the time of a mass renewal.
struct BenchCardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cards",
        abstract: "Manufacture N cards (keys, two certificates, token, PIN letter, shipments, audit), then time a mass renewal.",
        discussion: """
            Setup (not timed): a throw-away PKI in memory, a registry of generated professionals, and one validated \
            order per card. Timed: a production run of them (batches of --batch cards, each recorded in one transaction). With --renewal M, M cards in service \
            expiring within two months are put in place (not timed), then the renewal campaign is timed: renewal orders \
            for all of them and the manufacture of every new card, each page of orders going to production while the \
            next is ordered.
            """)

    @ArgumentParser.Option(name: .long, help: "Cards to manufacture.")
    var count = 1_000

    @ArgumentParser.Option(name: .long, help: "Card key algorithm: p256 or rsa2048.")
    var algorithm: KeyAlgorithm = .p256

    @ArgumentParser.Option(name: .long, help: "Issuing CA key algorithm.")
    var caAlgorithm: KeyAlgorithm = .p256

    @ArgumentParser.Option(name: .long, help: "Cards to renew in the mass renewal (0: none).")
    var renewal = 0

    @ArgumentParser.Option(name: .long, help: "Cards recorded per transaction (the production run's batch).")
    var batch = CardServiceSettings().manufactureBatchSize

    @ArgumentParser.Option(name: .long, help: "sqlite:PATH or postgres://... (default: a new SQLite file in a temporary folder).")
    var database: String?

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-bench-cards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let location: DatabaseLocation
        do { location = try DatabaseLocation(url: database ?? "sqlite:" + folder.appendingPathComponent("bench.sqlite").path) } catch {
            throw ValidationError(error.description)
        }
        let configuration = OpenCPSConfiguration(dataDirectory: folder, database: location, logLevel: .warning)
        let keyStore = InMemoryKeyStore()
        let hierarchy = try PKIHierarchyBuilder(
            configuration: PKIConfiguration(publicBaseURL: "http://127.0.0.1:8080", rootKeyAlgorithm: .p256, issuingCAKeyAlgorithm: caAlgorithm, ocspResponderKeyAlgorithm: .p256),
            keyStore: keyStore).initialize(now: Date().addingTimeInterval(-3600))
        let clock = FixedWallClock(Date())
        let schema = location.isPostgres ? "bench_\(UInt32.random(in: 0...UInt32.max))" : nil

        let app = try await Application.make(Environment(name: "production", arguments: ["opencps"]))
        do {
            try await configure(app, configuration: configuration, dependencies: OpenCPSDependencies(
                clock: clock, postgresSearchPath: schema.map { [$0] }, pki: PKIMaterial(hierarchy: hierarchy, keyStore: keyStore),
                cardSettings: CardServiceSettings(keyAlgorithm: algorithm, manufactureBatchSize: batch)))
            let sql = app.db as! any SQLDatabase
            if let schema { try await sql.raw("CREATE SCHEMA \(ident: schema)").run() }
            if !location.isPostgres { try await sql.raw("PRAGMA journal_mode = WAL").run() }
            try await app.autoMigrate()
            let cards = try require(app.cards, "the card services")
            let total = count + renewal
            printError("setup: \(total) professionals and their files")
            _ = try await DirectoryImporter(database: app.db, clock: clock).run(
                reader: ExtractionLineReader(bytes: ExtractionGenerator(seed: 9).bytes(rows: total * 3)), source: "bench", actor: "bench")
            // Professionals with a postal address: a card is shipped to it.
            // A mass renewal is the platform's for automatically ordered cards: ordinal professions.
            let people = try await sql.raw("""
                SELECT DISTINCT id_nat FROM activities WHERE postal_code IS NOT NULL AND city IS NOT NULL
                AND profession_code IN ('10', '21', '40', '50', '60', '70', '80') ORDER BY id_nat LIMIT \(bind: total)
                """).all()
                .map { try $0.decode(column: "id_nat", as: String.self) }
            guard people.count >= total else { throw ValidationError("only \(people.count) professionals were generated") }
            let registry = RegistryRepository(database: app.db, clock: clock)
            var files: [String] = []
            for idNat in people.prefix(count) {
                files.append(try await Self.validatedFile(for: idNat, registry: registry, cards: cards))
            }

            printError("timed: manufacture of \(count) cards")
            let started = ContinuousClock.now
            try await Self.manufacture(files, cards: cards)
            let seconds = (ContinuousClock.now - started).seconds
            print("manufacture (\(location.isPostgres ? "PostgreSQL" : "SQLite"), card keys \(algorithm.rawValue), CA \(caAlgorithm.rawValue), \(batch) per transaction): \(count) cards in \(String(format: "%.1f", seconds)) s, \(String(format: "%.1f", Double(count) / seconds)) cards/s")

            if renewal > 0 {
                printError("setup: \(renewal) cards in service expiring within two months")
                // Put in place directly: the cards being renewed need only exist, in service.
                let repository = CardRepository(database: app.db, clock: clock)
                let expiring = CivilDate(clock.now()).adding(months: 2)
                var number = 9_000_000_000
                for chunk in Array(people.dropFirst(count)).chunked(by: 500) {
                    let files = try await registry.professionals(idNats: Array(chunk)).compactMap { stored -> (card: Card, events: [AuditEvent])? in
                        let professional = stored.professional
                        guard let exercise = professional.exercises.first else { return nil }
                        let instance = exercise.profession.ordre.map { ValidatingInstance.ordre($0) } ?? .agenceRegionale
                        number += 1
                        let serial = try CardSerial(number: number)
                        let card = Card(
                            id: UUID().uuidString.lowercased(), holder: professional.idNat, kind: .cps, state: .active,
                            order: CardOrder(mode: exercise.profession.isOrdinal ? .automatic : .manual, reason: .first, instance: instance),
                            profession: exercise.profession, structure: exercise.activities.first?.structure, expressJustification: nil,
                            rejectionReason: nil, validatedOn: nil, dueOn: nil,
                            manufacture: CardManufacture(
                                serial: serial, expiresOn: expiring,
                                certificates: CardCertificates(issuer: "forte-personnes", authentication: "b0" + serial.value, signature: "b1" + serial.value),
                                shippingAddress: ""),
                            temporary: false, contentDigest: nil, createdAt: clock.now(), version: 1)
                        return (card, [AuditEvent(
                            actor: "bench", action: "card.order", entityType: "card", entityID: card.id,
                            afterDigest: CardRepository.digest(of: card))])
                    }
                    try await repository.insert(files)
                }
                printError("timed: renewal campaign of \(renewal) cards")
                let renewalStart = ContinuousClock.now
                let campaign = try await cards.renewal.campaign(
                    expiringOnOrBefore: CivilDate(clock.now()).adding(months: 2), limit: renewal,
                    production: .agencyOperator(.production))
                let renewalSeconds = (ContinuousClock.now - renewalStart).seconds
                if let failure = campaign.production.failures.first {
                    throw ValidationError("\(campaign.production.failures.count) renewals not made, the first (\(failure.id)): \(failure.error)")
                }
                print("mass renewal (\(location.isPostgres ? "PostgreSQL" : "SQLite")): \(campaign.orders.count) renewal orders and \(campaign.production.manufactured.count) new cards manufactured in \(String(format: "%.1f", renewalSeconds)) s (\(String(format: "%.1f", Double(campaign.production.manufactured.count) / renewalSeconds)) cards/s)")
            }
            print("peak memory (RSS): \(BenchRegistryCommand.peakResidentBytes() / 1_048_576) MiB")
            if let schema { try await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    /// A validated CPS order for a professional (automatic when ordinal, else applied and validated by the ARS).
    static func validatedFile(for idNatText: String, registry: RegistryRepository, cards: CardServices) async throws -> String {
        let idNat = try IdNat(idNatText)
        guard let professional = try await registry.professional(idNat)?.professional, let exercise = professional.exercises.first else {
            throw ValidationError("no professional \(idNatText)")
        }
        var registered = professional
        if let ordre = exercise.profession.ordre {
            registered.exercises[0].registration = OrderRegistration(ordre: ordre, registeredOn: try CivilDate("2020-01-01"))
            if let card = try await cards.ordering.orderAutomatically(for: registered, professionCode: exercise.profession.code) {
                return card.id
            }
        }
        let file = try await cards.ordering.apply(idNat: idNat, kind: .cps, professionCode: exercise.profession.code, structureID: nil, actor: .holder(idNat))
        for kind in try await cards.reading.file(file.id, actor: .holder(idNat)).missingDocuments {
            _ = try await cards.ordering.addDocument(to: file.id, kind: kind, mediaType: "application/pdf", content: Array("%PDF-1.4\n%%EOF\n".utf8), actor: .holder(idNat))
        }
        _ = try await cards.ordering.submit(file.id, actor: .holder(idNat))
        let validator: CardActor = switch file.order.instance {
        case .ordre(let ordre): .ordre(ordre)
        default: .agenceRegionale(registered.regions.min() ?? .ileDeFrance)
        }
        return try await cards.ordering.validate(file.id, actor: validator).id
    }

    /// A production run of the files; any card not made fails the benchmark.
    static func manufacture(_ ids: [String], cards: CardServices) async throws {
        let run = await cards.production.manufacture(ids, actor: .agencyOperator(.production))
        if let failure = run.failures.first {
            throw ValidationError("\(run.failures.count) cards not made, the first (\(failure.id)): \(failure.error)")
        }
    }
}

/// `try #require` for the command line.
func require<T>(_ value: T?, _ what: String = "a value") throws -> T {
    guard let value else { throw ValidationError("missing \(what)") }
    return value
}
