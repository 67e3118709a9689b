import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Testing
import Vapor

/// Each card use case through its own service, as the API, the command line and the
/// scheduled jobs call them (the journeys over HTTP are in ``CardJourneyTests``).
@Suite("Card services", TestTools.needs("openssl"))
struct CardServicesTests {
    let claire = DemoData.professionals[0]
    let sophie = DemoData.professionals[4]

    /// The services on a fresh database with the demo registry.
    func withServices(_ body: (CardServices, Application, OpenCPSConfiguration, FixedWallClock) async throws -> Void) async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            try await body(try #require(app.cards), app, configuration, clock)
        }
    }

    /// Claire's automatic CPS, made, delivered and activated with the PIN of its letter.
    func activeCard(_ cards: CardServices, _ configuration: OpenCPSConfiguration) async throws -> Card {
        let order = try #require(try await cards.ordering.orderAutomatically(for: claire, professionCode: "10"))
        let made = try await cards.production.manufacture(order.id, actor: .agencyOperator(.production))
        _ = try await cards.production.deliver(order.id, actor: .agencyOperator(.production))
        let pin = try DemoCards.pinFromLetter(configuration.letterDirectory, serial: try #require(made.manufacture?.serial.value))
        return try await cards.secrets.activate(order.id, pin: pin, actor: .holder(claire.idNat))
    }

    @Test("ordering: an application waits for its documents, goes to its instance complete, and only that instance decides")
    func ordering() async throws {
        try await withServices { cards, _, _, clock in
            let holder = CardActor.holder(sophie.idNat)
            let file = try await cards.ordering.apply(idNat: sophie.idNat, kind: .cps, professionCode: "91", structureID: nil, actor: holder)
            #expect(file.state == .ordered && file.order.mode == .manual && file.order.instance == .agenceRegionale)
            #expect(await errorCode { _ = try await cards.ordering.submit(file.id, actor: holder) } == "card.documents-missing")
            #expect(await errorCode { _ = try await cards.ordering.submit(file.id, actor: .holder(claire.idNat)) } == "card.forbidden")
            for kind in try await cards.reading.file(file.id, actor: holder).missingDocuments {
                _ = try await cards.ordering.addDocument(to: file.id, kind: kind, mediaType: "application/pdf", content: Array("%PDF-1.4\n%%EOF\n".utf8), actor: holder)
            }
            #expect(try await cards.ordering.submit(file.id, actor: holder).state == .awaitingValidation)
            #expect(await errorCode { _ = try await cards.ordering.validate(file.id, actor: .ordre(.cnom)) } == "card.forbidden")
            let rejected = try await cards.ordering.reject(file.id, reason: "justificatif d'activité périmé", actor: .agenceRegionale(.auvergneRhoneAlpes))
            #expect(rejected.state == .rejected && rejected.rejectionReason == "justificatif d'activité périmé")
            #expect(try await cards.ordering.submit(file.id, actor: holder).state == .awaitingValidation)
            let validated = try await cards.ordering.validate(file.id, actor: .agenceRegionale(.auvergneRhoneAlpes))
            let today = CivilDate(clock.now())
            #expect(validated.state == .validated && validated.validatedOn == today && validated.rejectionReason == nil)
            #expect(validated.dueOn == DeliveryDelay.standard.deadline(validatedOn: today, path: .standard).due)
            #expect(validated.version == file.version + 4)
        }
    }

    @Test("production and secrets: the card is made with its token and letter, activated only with its PIN, and its counters follow")
    func productionAndSecrets() async throws {
        try await withServices { cards, _, configuration, _ in
            let order = try #require(try await cards.ordering.orderAutomatically(for: claire, professionCode: "10"))
            #expect(order.state == .validated)
            let made = try await cards.production.manufacture(order.id, actor: .agencyOperator(.production))
            let serial = try #require(made.manufacture?.serial.value)
            #expect(made.state == .shipped && made.contentDigest != nil)
            #expect(FileManager.default.fileExists(atPath: configuration.tokenDirectory.appendingPathComponent("\(serial).token").path))
            #expect(FileManager.default.fileExists(atPath: configuration.letterDirectory.appendingPathComponent("\(serial)-lettre-code-porteur.txt").path))
            _ = try await cards.production.deliver(order.id, actor: .agencyOperator(.production))
            let pin = try DemoCards.pinFromLetter(configuration.letterDirectory, serial: serial)
            let wrong = pin == "0000" ? "1111" : "0000"
            #expect(await errorCode { _ = try await cards.secrets.activate(order.id, pin: wrong, actor: .holder(claire.idNat)) } == "card.pin-wrong")
            #expect(try await cards.secrets.counters(order.id, actor: .holder(claire.idNat)).pinTriesLeft == 2)
            #expect(try await cards.secrets.activate(order.id, pin: pin, actor: .holder(claire.idNat)).state == .active)
            #expect(try await cards.secrets.counters(order.id, actor: .holder(claire.idNat)).pinTriesLeft == 3)
            #expect(try await cards.secrets.changePIN(order.id, current: pin, new: "2468", actor: .holder(claire.idNat)) == .accepted)
            #expect(try await cards.secrets.verifyPIN(order.id, pin: "2468", actor: .holder(claire.idNat)) == .accepted)
            let uses = try await cards.reading.history(order.id, actor: .holder(claire.idNat)).map(\.action)
            #expect(uses.filter { $0.hasPrefix("card.pin-") } == ["card.pin-verify", "card.pin-verify", "card.pin-change", "card.pin-verify"])
        }
    }

    @Test("blocking: a hold follows a suspension and its release, an opposition revokes both certificates and orders the replacement")
    func blocking() async throws {
        try await withServices { cards, app, configuration, _ in
            let card = try await activeCard(cards, configuration)
            let certificates = try #require(card.manufacture?.certificates)
            let pki = try #require(app.pkiService)
            func statuses() async throws -> [CertificateStatus] {
                var result: [CertificateStatus] = []
                for serial in certificates.serials { result.append(try await pki.certificate(issuer: certificates.issuer, serialHex: serial).status) }
                return result
            }
            let security = CardActor.agencyOperator(.security)
            #expect(await errorCode { _ = try await cards.blocking.suspend(card.id, reason: "usage suspect", actor: .holder(claire.idNat)) } == "card.forbidden")
            #expect(try await cards.blocking.suspend(card.id, reason: "usage suspect", actor: security).state == .suspended)
            #expect(try await statuses() == [.onHold, .onHold])
            #expect(try await cards.blocking.reinstate(card.id, reason: "levée de doute", actor: security).state == .active)
            #expect(try await statuses() == [.good, .good])
            let (opposed, replacement) = try await cards.blocking.oppose(card.id, reason: "vol", actor: .holder(claire.idNat))
            let afterOpposition = try await statuses()
            #expect(opposed.state == .opposed && afterOpposition == [.revoked, .revoked])
            #expect(replacement.order.reason == .replacement && replacement.order.replaces == card.id && replacement.order.mode == .manual)
            #expect(replacement.state == .ordered && replacement.profession == card.profession)
            #expect(await errorCode { _ = try await cards.blocking.revoke(card.id, reason: "fin", actor: security) } == "card.transition-refused")
        }
    }

    @Test("renewal: refused before the window and for a suspended card; the holder's renewal is ordered once, and a renewal under way is returned as it is")
    func renewal() async throws {
        try await withServices { cards, _, configuration, clock in
            let card = try await activeCard(cards, configuration)
            #expect(await errorCode { _ = try await cards.renewal.renew(card.id, actor: .holder(sophie.idNat)) } == "card.forbidden")
            let expiresOn = try #require(card.manufacture?.expiresOn)
            clock.set(expiresOn.adding(months: -3).adding(days: -1).startOfDayUTC.addingTimeInterval(23 * 3600))
            #expect(await errorCode { _ = try await cards.renewal.renew(card.id, actor: .holder(claire.idNat)) } == "card.renewal-not-open")
            clock.set(expiresOn.adding(months: -3).startOfDayUTC)
            // A suspended card is blocked: no renewal until its review ends.
            let security = CardActor.agencyOperator(.security)
            _ = try await cards.blocking.suspend(card.id, reason: "usage suspect", actor: security)
            #expect(await errorCode { _ = try await cards.renewal.renew(card.id, actor: .holder(claire.idNat)) } == "card.not-renewable")
            _ = try await cards.blocking.reinstate(card.id, reason: "levée de doute", actor: security)
            let renewal = try await cards.renewal.renew(card.id, actor: .holder(claire.idNat))
            #expect(renewal.order.reason == .renewal && renewal.order.replaces == card.id && renewal.state == .validated)
            #expect(try await cards.renewal.renew(card.id, actor: .holder(claire.idNat)).id == renewal.id)
            #expect(try await cards.renewal.reissueAfterRegistryChange(of: claire.idNat).isEmpty)
        }
    }

    @Test("reading and the help desk: each sees what it may, the desk finds files by idNat, serial or identifier and moves them to express")
    func readingAndHelpDesk() async throws {
        try await withServices { cards, _, configuration, _ in
            let card = try await activeCard(cards, configuration)
            #expect(try await cards.reading.cards(of: claire.idNat, actor: .holder(claire.idNat)).map(\.id) == [card.id])
            #expect(try await cards.reading.cards(of: claire.idNat, actor: .holder(sophie.idNat)).isEmpty)
            #expect(await errorCode { _ = try await cards.reading.file(card.id, actor: .agenceRegionale(.auvergneRhoneAlpes)) } == "card.forbidden")
            let serial = try #require(card.manufacture?.serial.value)
            for query in [claire.idNat.value, serial, card.id.uppercased()] {
                #expect(try await cards.helpDesk.findFiles(query, actor: .helpDesk).map(\.card.id) == [card.id], "\(query)")
            }
            #expect(try await cards.helpDesk.findFiles("nothing", actor: .helpDesk).isEmpty)
            #expect(await errorCode { _ = try await cards.helpDesk.findFiles(serial, actor: .holder(claire.idNat)) } == "card.forbidden")
            #expect(await errorCode { _ = try await cards.helpDesk.overdueFiles(actor: .agenceRegionale(.auvergneRhoneAlpes)) } == "card.forbidden")
            #expect(await errorCode { _ = try await cards.helpDesk.moveToExpress(card.id, justification: "urgence", actor: .helpDesk) } == "card.express-too-late")

            let file = try await cards.ordering.apply(idNat: sophie.idNat, kind: .cps, professionCode: "91", structureID: nil, actor: .holder(sophie.idNat))
            #expect(await errorCode { _ = try await cards.helpDesk.moveToExpress(file.id, justification: " ", actor: .helpDesk) } == "card.justification-required")
            let express = try await cards.helpDesk.moveToExpress(file.id, justification: "remplacement d'une carte volée", actor: .helpDesk)
            #expect(express.isExpress && express.expressJustification == "remplacement d'une carte volée")
            let found = try #require(try await cards.helpDesk.findFiles(file.id, actor: .helpDesk).first)
            #expect(found.diagnosis.hasPrefix("Pièces manquantes : "))
        }
    }

    @Test("maintenance: the overdue watch lists late files once in the outbox, and cards past their last day expire")
    func maintenance() async throws {
        try await withServices { cards, app, configuration, clock in
            let card = try await activeCard(cards, configuration)
            var thomas = DemoData.professionals[1]
            thomas.exercises[0].registration = OrderRegistration(ordre: .cnop, registeredOn: try CivilDate("2020-01-01"))
            let late = try #require(try await cards.ordering.orderAutomatically(for: thomas, professionCode: "21"))
            let due = try #require(late.dueOn)
            #expect(try await cards.maintenance.overdueFiles().isEmpty)
            clock.set(due.adding(days: 1).startOfDayUTC)
            #expect(try await cards.maintenance.overdueFiles().map(\.id) == [late.id])
            #expect(try await cards.helpDesk.overdueFiles(actor: .helpDesk).map(\.id) == [late.id])
            let outbox = try await CardRepository(database: app.db, clock: clock).notifications(cardID: late.id)
            #expect(outbox.map(\.kind) == ["overdue"])
            #expect(try await cards.maintenance.expireCards() == 0)
            clock.set(try #require(card.manufacture?.expiresOn).adding(days: 1).startOfDayUTC)
            #expect(try await cards.maintenance.expireCards() == 1)
            #expect(try await cards.reading.file(card.id, actor: .holder(claire.idNat)).card.state == .expired)
        }
    }

    @Test("a stored card reads back as it was written, and a row that does not read as a card is refused as corrupt")
    func storedCards() async throws {
        try await withServices { cards, app, configuration, clock in
            let card = try await activeCard(cards, configuration)
            let repository = CardRepository(database: app.db, clock: clock)
            #expect(try await repository.card(id: card.id) == card)
            let sql = app.db as! any SQLDatabase
            func row() async throws -> CardRecord {
                let record = try await sql.select().columns("*").from("cards").where("id", .equal, card.id).first(decoding: CardRecord.self)
                guard let record else { throw PersistenceError.notFound("card \(card.id)") }
                return record
            }
            // A change rewrites the row from the card but keeps the stored creation time as written.
            let record = try await row()
            clock.advance(by: 60)
            _ = try await cards.blocking.suspend(card.id, reason: "contrôle", actor: .agencyOperator(.security))
            let changed = try await row()
            #expect(changed.createdAt == record.createdAt && changed.updatedAt != record.updatedAt && changed.state == "suspended")
            for (column, value, stored) in [
                ("state", "lost", changed.state), ("kind", "CPX", changed.kind), ("serial", "12", changed.serial ?? ""),
                ("validated_on", "tomorrow", changed.validatedOn ?? ""), ("instance", "somebody", changed.instance),
            ] {
                try await sql.raw("UPDATE cards SET \(ident: column) = \(bind: value) WHERE id = \(bind: card.id)").run()
                #expect(await errorCode { _ = try await repository.card(id: card.id) } == "storage.corrupt-row", "\(column)")
                try await sql.raw("UPDATE cards SET \(ident: column) = \(bind: stored) WHERE id = \(bind: card.id)").run()
            }
            #expect(try await repository.card(id: card.id) == (try changed.card()))
        }
    }

    @Test("an opposition whose revocation fails keeps nothing: the card stays active and OCSP says good; retried, both are done")
    func oppositionIsOneChange() async throws {
        try await withServices { cards, app, configuration, _ in
            let card = try await activeCard(cards, configuration)
            let certificates = try #require(card.manufacture?.certificates)
            let pki = try #require(app.pkiService)
            let sql = app.db as! any SQLDatabase
            // The signature certificate's row is away: revoking it fails after the card's new
            // state and the authentication certificate's revocation were written.
            let stored = try #require(try await sql.select().columns("*").from("certificates")
                .where("issuer", .equal, certificates.issuer).where("serial", .equal, certificates.signature).first(decoding: StoredCertificate.self))
            try await sql.raw("DELETE FROM certificates WHERE serial = \(bind: certificates.signature)").run()
            #expect(await errorCode { _ = try await cards.blocking.oppose(card.id, reason: "vol", actor: .holder(claire.idNat)) } == "registry.not-found")
            #expect(try await cards.reading.file(card.id, actor: .holder(claire.idNat)).card.state == .active)
            #expect(try await pki.certificate(issuer: certificates.issuer, serialHex: certificates.authentication).status == .good)
            let api = CardAPI(app: app, configuration: configuration)
            #expect(try await api.ocspStatus(serialHex: certificates.authentication) == "good")
            #expect(try await cards.reading.cards(of: claire.idNat, actor: .holder(claire.idNat)).count == 1)

            try await sql.insert(into: "certificates").model(stored, nilEncodingStrategy: .asNil).run()
            let (opposed, _) = try await cards.blocking.oppose(card.id, reason: "vol", actor: .holder(claire.idNat))
            #expect(opposed.state == .opposed)
            for serial in certificates.serials {
                #expect(try await api.ocspStatus(serialHex: serial) == "revoked")
            }
        }
    }

    @Test("who may order: a renewal only by whoever may order the card, staff cards and temporary cards only for the manager's own staff, and a file's content only after the asker is known")
    func orderingRights() async throws {
        try await withServices { cards, _, configuration, clock in
            let card = try await activeCard(cards, configuration)
            clock.set(try #require(card.manufacture?.expiresOn).adding(months: -1).startOfDayUTC)
            let hospital = DemoData.establishments[0].identifier
            let centre = DemoData.establishments[2].identifier
            for actor in [CardActor.agenceRegionale(.auvergneRhoneAlpes), .establishmentManager(hospital), .establishmentManager(centre), .helpDesk, .holder(sophie.idNat)] {
                #expect(await errorCode { _ = try await cards.renewal.renew(card.id, actor: actor) } == "card.forbidden", "\(actor)")
            }
            let renewal = try await cards.renewal.renew(card.id, actor: .holder(claire.idNat))
            // The renewal under way is not shown to someone who may not order it either.
            #expect(await errorCode { _ = try await cards.renewal.renew(card.id, actor: .agenceRegionale(.auvergneRhoneAlpes)) } == "card.forbidden")
            #expect(try await cards.renewal.renew(card.id, actor: .ordre(.cnom)).id == renewal.id)

            // Sophie works at the Lyon centre, not at the hospital.
            let hospitalManager = CardActor.establishmentManager(hospital)
            #expect(await errorCode {
                _ = try await cards.ordering.apply(idNat: sophie.idNat, kind: .cpe, professionCode: nil, structureID: hospital.idNatStruct, actor: hospitalManager)
            } == "card.forbidden")
            let staff = try await cards.ordering.apply(
                idNat: sophie.idNat, kind: .cpa, professionCode: nil, structureID: centre.idNatStruct, actor: .establishmentManager(centre))
            #expect(staff.order.instance == .establishmentManager(centre))
            #expect(await errorCode { _ = try await cards.ordering.submit(staff.id, actor: hospitalManager) } == "card.forbidden")
            #expect(await errorCode { _ = try await cards.ordering.validate(staff.id, actor: hospitalManager) } == "card.forbidden")

            // A temporary card for Claire, opposed: her hospital's manager may, the centre's may not.
            _ = try await cards.blocking.oppose(card.id, reason: "perte", actor: .holder(claire.idNat))
            #expect(await errorCode { _ = try await cards.blocking.issueTemporaryCard(for: card.id, actor: .establishmentManager(centre)) } == "card.forbidden")
            let temporary = try await cards.blocking.issueTemporaryCard(for: card.id, actor: hospitalManager)
            #expect(temporary.temporary && temporary.state == .validated && temporary.kind == .cpe)

            // Julien is libéral at the Lyon centre: its manager may not give him a temporary card.
            let julien = DemoData.professionals[3]
            let julienCard = try #require(try await cards.ordering.orderAutomatically(for: julien, professionCode: "70"))
            _ = try await cards.production.manufacture(julienCard.id, actor: .agencyOperator(.production))
            _ = try await cards.production.deliver(julienCard.id, actor: .agencyOperator(.production))
            _ = try await cards.blocking.oppose(julienCard.id, reason: "perte", actor: .holder(julien.idNat))
            #expect(await errorCode {
                _ = try await cards.blocking.issueTemporaryCard(for: julienCard.id, actor: .establishmentManager(centre))
            } == "card.temporary-not-salaried")
            #expect(await errorCode {
                _ = try await cards.blocking.issueTemporaryCard(for: julienCard.id, actor: hospitalManager)
            } == "card.forbidden")
        }
    }

    @Test("a file takes a bounded number of documents")
    func documentLimit() async throws {
        let settings = CardServiceSettings(keyAlgorithm: .p256, maximumDocumentsPerFile: 3)
        try await withConfiguredTestApp(clock: FixedWallClock(Date()), pki: TestPKIMaterial.shared, cardSettings: settings) { app, _ in
            _ = try await DemoData(clock: FixedWallClock(Date())).load(into: app.db)
            let cards = try #require(app.cards)
            let holder = CardActor.holder(sophie.idNat)
            let file = try await cards.ordering.apply(idNat: sophie.idNat, kind: .cps, professionCode: "91", structureID: nil, actor: holder)
            let pdf = Array("%PDF-1.4\n%%EOF\n".utf8)
            for _ in 0..<3 {
                _ = try await cards.ordering.addDocument(to: file.id, kind: .identity, mediaType: "application/pdf", content: pdf, actor: holder)
            }
            #expect(await errorCode {
                _ = try await cards.ordering.addDocument(to: file.id, kind: .identity, mediaType: "application/pdf", content: pdf, actor: holder)
            } == "card.documents-too-many")
            #expect(try await cards.reading.file(file.id, actor: holder).documents.count == 3)
        }
    }
}
