import FluentKit
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import Testing
import Vapor

/// Production runs and mass renewals: many cards at once, in batches, with the same
/// guarantees as one card at a time.
@Suite("Production runs")
struct ProductionRunTests {
    /// A batch of two, so that five files take three transactions.
    static let settings = CardServiceSettings(keyAlgorithm: .p256, manufactureBatchSize: 2)

    func withService(_ body: (CardServices, Application, OpenCPSConfiguration, FixedWallClock) async throws -> Void) async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, cardSettings: Self.settings) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            try await body(try #require(app.cards), app, configuration, clock)
        }
    }

    /// Automatic orders, validated at once, for the named demo professionals of ordinal professions.
    func validatedFiles(_ service: CardServices) async throws -> [String] {
        var files: [String] = []
        for professional in DemoData.professionals {
            let exercise = professional.exercises[0]
            guard let ordre = exercise.profession.ordre else { continue }
            var registered = professional
            registered.exercises[0].registration = OrderRegistration(ordre: ordre, registeredOn: try CivilDate("2020-01-01"))
            let file = try await service.ordering.orderAutomatically(for: registered, professionCode: exercise.profession.code)
            files.append(try #require(file).id)
        }
        return files
    }

    @Test("a production run makes every validated file, names each file it refuses and why, and leaves nothing behind for them")
    func productionRun() async throws {
        try await withService { service, app, configuration, clock in
            let validated = try await validatedFiles(service)
            #expect(validated.count == 5)
            let sophie = DemoData.professionals[4]
            let waiting = try await service.ordering.apply(
                idNat: sophie.idNat, kind: .cps, professionCode: "91", structureID: nil, actor: .holder(sophie.idNat))
            let unknown = "00000000-0000-4000-8000-000000000000"

            let run = await service.production.manufacture(validated + [waiting.id, unknown], actor: .agencyOperator(.production))
            #expect(Set(run.manufactured.map(\.id)) == Set(validated))
            #expect(run.manufactured.allSatisfy { $0.state == .shipped && $0.manufacture?.serial.value.count == 10 && $0.manufacture?.certificates.signature != nil })
            let refused = Dictionary(uniqueKeysWithValues: run.failures.map { ($0.id, ($0.error as? any DomainError)?.code) })
            #expect(refused == [waiting.id: "card.transition-refused", unknown: "registry.not-found"])

            let repository = CardRepository(database: app.db, clock: clock)
            var tracking: Set<String> = []
            for card in run.manufactured {
                let serial = try #require(card.manufacture?.serial.value)
                #expect(FileManager.default.fileExists(atPath: configuration.tokenDirectory.appendingPathComponent("\(serial).token").path))
                let letter = try String(contentsOf: configuration.letterDirectory.appendingPathComponent("\(serial)-lettre-code-porteur.txt"), encoding: .utf8)
                #expect(letter.contains("Code porteur : ") && letter.contains("n° \(serial)"))
                let shipments = try await repository.shipments(cardID: card.id)
                #expect(Set(shipments.map(\.kind)) == ["card", "pin_letter"])
                tracking.formUnion(shipments.map(\.trackingNumber))
                let history = try await repository.history(cardID: card.id).map(\.action)
                #expect(history == ["card.order", "card.submit_for_validation", "card.validate", "card.manufacture"])
                let certificates = try await CertificateRepository(database: app.db, clock: clock).certificates(idNat: card.holder.value)
                #expect(Set(certificates.map(\.serial)) == Set(card.manufacture?.certificates.serials ?? []))
            }
            #expect(Set(run.manufactured.compactMap(\.manufacture?.serial.value)).count == 5)
            #expect(tracking.count == 10)
            // Only the made cards' tokens are there: none pending, none for the refused files.
            let tokenFiles = try FileManager.default.contentsOfDirectory(atPath: configuration.tokenDirectory.path)
            #expect(Set(tokenFiles) == Set(run.manufactured.compactMap(\.manufacture?.serial.value).map { "\($0).token" }))
            #expect(try await repository.card(id: waiting.id)?.state == .ordered)
            if case .broken(let seq, let reason) = try await AuditLog(clock: clock).verify(on: app.db) {
                Issue.record("audit chain broken at \(seq): \(reason)")
            }

            // A second run makes nothing: every card has left the validated state.
            let again = await service.production.manufacture(validated, actor: .agencyOperator(.production))
            #expect(again.manufactured.isEmpty)
            #expect(again.failures.compactMap { ($0.error as? any DomainError)?.code } == Array(repeating: "card.transition-refused", count: 5))
            // An actor outside production is refused for every file.
            let holder = await service.production.manufacture([validated[0]], actor: .holder(DemoData.professionals[0].idNat))
            #expect(holder.failures.map { ($0.error as? any DomainError)?.code } == ["card.forbidden"])
        }
    }

    @Test("POST /api/v1/production-runs makes the files a production operator names and lists each refusal with its problem")
    func productionRunOverHTTP() async throws {
        let clock = FixedWallClock(Date())
        let holders = DemoData.professionals.map(\.idNat.value)
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders), cardSettings: Self.settings) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            let api = CardAPI(app: app, configuration: configuration)
            let service = try #require(app.cards)
            let validated = try await validatedFiles(service)
            let unknown = "00000000-0000-4000-8000-000000000000"
            let ids = (validated.prefix(3) + [unknown]).map { "\"\($0)\"" }.joined(separator: ", ")

            // Only production makes cards: a holder's run is refused whole, before its list is
            // read, telling nothing of which files exist.
            let holderRun = try await api.call(.POST, "/api/v1/production-runs", as: TestActors.holder(holders[0]), json: #"{"cardIds": [\#(ids)]}"#)
            #expect(holderRun.status == .forbidden)
            #expect(holderRun.json["code"] as? String == "card.forbidden")
            #expect(try await api.call(.POST, "/api/v1/production-runs", as: TestActors.holder(holders[0]), json: "{}").status == .forbidden)

            let run = try await api.call(.POST, "/api/v1/production-runs", as: TestActors.production, json: #"{"cardIds": [\#(ids)]}"#)
            #expect(run.status == .ok)
            let made = run.json["manufactured"] as? [[String: Any]] ?? []
            #expect(Set(made.compactMap { $0["id"] as? String }) == Set(validated.prefix(3)))
            #expect(made.allSatisfy { $0["state"] as? String == "shipped" })
            let refused = run.json["refused"] as? [[String: Any]] ?? []
            #expect(refused.count == 1)
            #expect(refused.first?["cardId"] as? String == unknown)
            #expect(refused.first?["status"] as? Int == 404)
            #expect(refused.first?["code"] as? String == "registry.not-found")

            for bad in [#"{"cardIds": []}"#, #"{"cardIds": ["a", "a"]}"#] {
                let reply = try await api.call(.POST, "/api/v1/production-runs", as: TestActors.production, json: bad)
                #expect(reply.status == .unprocessableEntity)
                #expect(reply.json["code"] as? String == "production-run.invalid")
            }
            let malformed = try await api.call(.POST, "/api/v1/production-runs", as: TestActors.production, json: #"{"cardIds": "#)
            #expect(malformed.status == .badRequest)
            let anonymous = try await app.testing().sendRequest(.POST, "/api/v1/production-runs")
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test("a mass renewal orders each expiring card once, validated at once with its history, and the run makes them")
    func massRenewal() async throws {
        try await withService { service, app, configuration, clock in
            let production = CardActor.agencyOperator(.production)
            let first = await service.production.manufacture(try await validatedFiles(service), actor: production)
            #expect(first.manufactured.count == 5)
            let expiry = try #require(first.manufactured.first?.manufacture?.expiresOn)
            clock.set(expiry.adding(months: -1).startOfDayUTC)

            // A campaign orders three renewals and makes them; plain renewal orders the other two.
            let campaign = try await service.renewal.campaign(expiringOnOrBefore: expiry, limit: 3, production: production)
            #expect(campaign.orders.count == 3)
            #expect(Set(campaign.production.manufactured.map(\.id)) == Set(campaign.orders.map(\.id)))
            #expect(campaign.production.failures.isEmpty)
            let rest = try await service.renewal.renewExpiring(onOrBefore: expiry)
            #expect(rest.count == 2)
            #expect(try await service.renewal.renewExpiring(onOrBefore: expiry).isEmpty)
            let renewed = campaign.orders + rest
            #expect(Set(renewed.compactMap(\.order.replaces)) == Set(first.manufactured.map(\.id)))
            #expect(renewed.allSatisfy { $0.state == .validated && $0.order.reason == .renewal && $0.dueOn != nil })
            let repository = CardRepository(database: app.db, clock: clock)
            for file in renewed {
                let history = try await repository.history(cardID: file.id).filter { $0.action != "card.manufacture" }
                #expect(history.map(\.action) == ["card.order", "card.submit_for_validation", "card.validate"])
                #expect(history.allSatisfy { $0.actor == "platform" })
                // Each step's before is the step before's after.
                #expect(zip(history, history.dropFirst()).allSatisfy { $0.afterDigest == $1.beforeDigest })
            }

            let second = await service.production.manufacture(rest.map(\.id), actor: production)
            #expect(second.failures.isEmpty)
            #expect(second.manufactured.count == 2)
            // The old cards stay in service until the new ones are active.
            for card in first.manufactured {
                #expect(try await repository.card(id: card.id)?.state == .shipped)
            }
            if case .broken(let seq, let reason) = try await AuditLog(clock: clock).verify(on: app.db) {
                Issue.record("audit chain broken at \(seq): \(reason)")
            }
        }
    }
}
