import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import Testing
import Vapor

/// The life of cards through the HTTP API, as their users live it.
@Suite("Card journeys", TestTools.needs("openssl"))
struct CardJourneyTests {
    let claire = DemoData.professionals[0]   // médecin (CNOM), registered
    let sophie = DemoData.professionals[4]   // orthophoniste, no order: the ARS validates

    func withCards(clock: FixedWallClock = FixedWallClock(Date()), _ body: (CardAPI, FixedWallClock) async throws -> Void) async throws {
        let holders = DemoData.professionals.map(\.idNat.value) + ["810100271385"]
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders)) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            try await body(CardAPI(app: app, configuration: configuration), clock)
        }
    }

    @Test("an order's registration orders a CPS automatically, and it goes to an active card")
    func automaticOrder() async throws {
        try await withCards { api, _ in
            var headers = HTTPHeaders.operatorHeaders
            headers.contentType = .json
            try await api.app.testing().test(.POST, "/api/v1/professionals", headers: headers, body: jsonBody(professionalJSON())) {
                #expect($0.status == .created)
            }
            try await api.app.testing().test(.POST, "/api/v1/professionals/810100271385/registrations", headers: headers,
                                             body: jsonBody(#"{"professionCode": "10", "registeredOn": "2026-11-02"}"#)) {
                #expect($0.status == .ok)
            }
            let holder = TestActors.holder("810100271385")
            let cards = try await api.call(.GET, "/api/v1/cards?idNat=810100271385", as: holder).array
            let card = try #require(cards.first)
            #expect(cards.count == 1)
            #expect(card["state"] as? String == "validated")
            #expect(card["orderMode"] as? String == "automatic")
            #expect(card["instance"] as? String == "ordre:CNOM")
            #expect(card["dueOn"] as? String != nil)
            let id = try #require(card["id"] as? String)
            let serial = try await api.makeActive(id, holder: holder)
            #expect(serial.count == 10 && serial.allSatisfy(\.isNumber))
            let file = try await api.file(id, as: holder)
            let shipments = file["shipments"] as? [[String: Any]] ?? []
            #expect(Set(shipments.compactMap { $0["kind"] as? String }) == ["card", "pin_letter"])
            #expect(Set(shipments.compactMap { $0["trackingNumber"] as? String }).count == 2)
            #expect(FileManager.default.fileExists(atPath: api.configuration.tokenDirectory.appendingPathComponent("\(serial).token").path))
            let active = file["card"] as? [String: Any] ?? [:]
            #expect(try await api.ocspStatus(serialHex: active["authenticationCertificate"] as? String ?? "") == "good")
            // A second registration event does not order a second card.
            try await api.app.testing().test(.POST, "/api/v1/professionals/810100271385/registrations", headers: headers,
                                             body: jsonBody(#"{"professionCode": "10", "registeredOn": "2026-11-02", "number": "2"}"#)) { _ in }
            #expect(try await api.call(.GET, "/api/v1/cards?idNat=810100271385", as: holder).array.count == 1)
            let history = try await api.call(.GET, "/api/v1/cards/\(id)/history", as: holder).array.compactMap { $0["action"] as? String }
            #expect(history.starts(with: ["card.order", "card.submit_for_validation", "card.validate"]))
            #expect(history.contains("card.manufacture") && history.contains("card.pin-verify") && history.last == "card.activate")
        }
    }

    @Test("a manual application is rejected, completed, resubmitted, validated by the ARS and activated")
    func manualApplication() async throws {
        try await withCards { api, _ in
            let holder = TestActors.holder(sophie.idNat.value)
            let created = try await api.call(.POST, "/api/v1/cards", as: holder, json: #"{"idNat": "\#(sophie.idNat.value)", "kind": "CPS", "professionCode": "91"}"#)
            #expect(created.status == .created)
            let id = try #require(created.json["id"] as? String)
            #expect(created.json["instance"] as? String == "ars")
            // Not complete yet: submission is refused and names what is missing.
            let early = try await api.call(.POST, "/api/v1/cards/\(id)/submit", as: holder, json: "{}")
            #expect(early.status == .unprocessableEntity)
            #expect(early.json["code"] as? String == "card.documents-missing")
            #expect(try await api.upload(id, kind: "identity", as: holder, mediaType: "text/plain", content: "hello") == .unprocessableEntity)
            // The body that trapped MultipartKit (a header name byte of 0x80 or more) is a 400, and the server goes on.
            let trap = Array("--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n".utf8) + [0xC3, 0xA9] + Array(": x\r\n\r\nidentity\r\n--X--\r\n".utf8)
            let refused = try await api.postDocumentBody(id, trap, boundary: "X", as: holder)
            #expect(refused.status == .badRequest)
            #expect(refused.code == "request.malformed-multipart")
            try await api.uploadMissingDocuments(id, as: holder)
            try await api.act(id, "submit", as: holder)
            // The order of médecins has no say on an orthophoniste's file; the holder cannot validate it.
            try await api.act(id, "validate", as: TestActors.cnom, expect: .forbidden)
            try await api.act(id, "validate", as: holder, expect: .forbidden)
            let rejected = try await api.act(id, "reject", as: TestActors.ars, json: #"{"reason": "Le justificatif d'inscription est illisible."}"#)
            #expect(rejected["state"] as? String == "rejected")
            try await api.upload(id, kind: "diploma_or_register_entry", as: holder)
            try await api.act(id, "submit", as: holder)
            let validated = try await api.act(id, "validate", as: TestActors.ars)
            #expect(validated["state"] as? String == "validated")
            try await api.makeActive(id, holder: holder)
            let documents = try await api.file(id, as: holder)["documents"] as? [[String: Any]] ?? []
            #expect(documents.allSatisfy { ($0["sha256"] as? String)?.count == 64 })
        }
    }

    @Test("the help desk moves a file to the express path; its due date comes earlier and the help desk finds it")
    func express() async throws {
        try await withCards { api, _ in
            let holder = TestActors.holder(sophie.idNat.value)
            let id = try #require(try await api.call(.POST, "/api/v1/cards", as: holder, json: #"{"idNat": "\#(sophie.idNat.value)", "kind": "CPS", "professionCode": "91"}"#).json["id"] as? String)
            try await api.uploadMissingDocuments(id, as: holder)
            try await api.act(id, "submit", as: holder)
            try await api.act(id, "express", as: holder, json: #"{"justification": "x"}"#, expect: .forbidden)
            try await api.act(id, "express", as: TestActors.helpDesk, json: #"{"justification": ""}"#, expect: .unprocessableEntity)
            try await api.act(id, "express", as: TestActors.helpDesk, json: #"{"justification": "Remplacement en urgence d'un confrère hospitalisé"}"#)
            // Express files need the emergency's justification among their documents.
            try await api.act(id, "validate", as: TestActors.ars, expect: .unprocessableEntity)
            try await api.act(id, "request-documents", as: TestActors.ars, json: #"{"reason": "justificatif d'urgence"}"#)
            try await api.upload(id, kind: "emergency_justification", as: holder)
            try await api.act(id, "submit", as: holder)
            let validated = try await api.act(id, "validate", as: TestActors.ars)
            let validatedOn = try CivilDate(validated["validatedOn"] as? String ?? "")
            let due = try CivilDate(validated["dueOn"] as? String ?? "")
            #expect(FrenchWorkingDayCalendar().workingDays(from: validatedOn, to: due) <= 2)
            let found = try await api.call(.GET, "/api/v1/helpdesk/files?q=\(sophie.idNat.value)", as: TestActors.helpDesk).array
            #expect(found.count == 1)
            #expect((found.first?["diagnosis"] as? String)?.contains("fabrication") == true)
            #expect(try await api.call(.GET, "/api/v1/helpdesk/files?q=\(sophie.idNat.value)", as: holder).status == .forbidden)
        }
    }

    @Test("an opposition revokes the card at once on OCSP; the replacement becomes the active card")
    func opposition() async throws {
        try await withCards { api, _ in
            let holder = TestActors.holder(claire.idNat.value)
            let id = try #require(try await orderClaire(api))
            try await api.makeActive(id, holder: holder)
            let before = try await api.file(id, as: holder)["card"] as? [String: Any] ?? [:]
            let authentication = try #require(before["authenticationCertificate"] as? String)
            #expect(try await api.ocspStatus(serialHex: authentication) == "good")
            let opposition = try await api.act(id, "opposition", as: holder, json: #"{"reason": "carte volée"}"#)
            #expect((opposition["opposed"] as? [String: Any])?["state"] as? String == "opposed")
            #expect(try await api.ocspStatus(serialHex: authentication) == "revoked")
            #expect(try await api.ocspStatus(serialHex: before["signatureCertificate"] as? String ?? "") == "revoked")
            let replacement = try #require((opposition["replacement"] as? [String: Any])?["id"] as? String)
            #expect((opposition["replacement"] as? [String: Any])?["orderReason"] as? String == "replacement")
            // An opposed card cannot be used any more, nor opposed twice.
            try await api.act(id, "opposition", as: holder, json: #"{"reason": "again"}"#, expect: .conflict)
            // Meanwhile the establishment's manager issues a temporary card for internal use.
            let temporary = try await api.act(id, "temporary-card", as: TestActors.manager)
            #expect(temporary["temporary"] as? Bool == true && temporary["state"] as? String == "validated")
            try await api.uploadMissingDocuments(replacement, as: holder)
            try await api.act(replacement, "submit", as: holder)
            try await api.act(replacement, "validate", as: TestActors.cnom)
            try await api.makeActive(replacement, holder: holder)
            #expect(try await api.state(id) == "opposed")
        }
    }

    @Test("renewal: reminders 3 months, 1 month and 1 week before expiry, each once even after a restart; the old card is superseded once the new one is active")
    func renewal() async throws {
        let start = FixedWallClock(Date())
        try await withCards(clock: start) { api, clock in
            let holder = TestActors.holder(claire.idNat.value)
            let id = try #require(try await orderClaire(api))
            try await api.makeActive(id, holder: holder)
            let old = try await api.file(id, as: holder)["card"] as? [String: Any] ?? [:]
            let expiry = try CivilDate(old["expiresOn"] as? String ?? "")
            let service = try #require(api.app.cards).maintenance
            func reminders() async throws -> [String] {
                try await CardRepository(database: api.app.db, clock: clock).notifications(cardID: id).map(\.kind)
            }
            #expect(try await service.enqueueRenewalReminders() == 0)
            for (date, expected) in [(expiry.adding(months: -3), ["renewal-m3"]), (expiry.adding(months: -1), ["renewal-m3", "renewal-m1"]),
                                     (expiry.adding(days: -7), ["renewal-m3", "renewal-m1", "renewal-w1"])] {
                clock.set(date.startOfDayUTC.addingTimeInterval(10 * 3600))
                _ = try await service.enqueueRenewalReminders()
                _ = try await service.enqueueRenewalReminders()
                #expect(Set(try await reminders()) == Set(expected))
            }
            // A new service, as after a restart, sends nothing again.
            let restarted = CardServices(
                pki: try #require(api.app.pkiService), tokens: .init(directory: api.configuration.tokenDirectory),
                letters: api.configuration.letterDirectory, database: ServiceDatabase { [app = api.app] in app.db }, clock: clock)
            #expect(try await restarted.maintenance.enqueueRenewalReminders() == 0)
            #expect(try await reminders().count == 3)

            let renewal = try await api.act(id, "renewal", as: holder)
            let newID = try #require(renewal["id"] as? String)
            #expect(renewal["state"] as? String == "validated")
            #expect(renewal["replacesCardId"] as? String == id)
            try await api.act(newID, "manufacture", as: TestActors.production)
            // Until the new card is active, the old one works.
            #expect(try await api.state(id) == "active")
            try await api.act(newID, "delivery", as: TestActors.production)
            let serial = try #require(try await api.file(newID, as: holder)["card"].flatMap { ($0 as? [String: Any])?["serial"] as? String })
            try await api.act(newID, "activation", as: holder, json: #"{"pin": "\#(try api.letter(serial: serial).pin)"}"#)
            #expect(try await api.state(id) == "superseded")
            #expect(try await api.ocspStatus(serialHex: old["authenticationCertificate"] as? String ?? "") == "revoked")
        }
    }

    @Test("three wrong PINs block the card; the PUK unblocks it; ten wrong PUKs kill it")
    func pin() async throws {
        try await withCards { api, _ in
            let holder = TestActors.holder(claire.idNat.value)
            let id = try #require(try await orderClaire(api))
            let serial = try await api.makeActive(id, holder: holder)
            let (pin, puk) = try api.letter(serial: serial)
            let wrong = pin == "0000" ? "1111" : "0000"
            let first = try await api.act(id, "pin/verify", as: holder, json: #"{"pin": "\#(wrong)"}"#, expect: .unprocessableEntity)
            #expect(first["detail"] as? String == "wrong PIN: 2 tries left")
            try await api.act(id, "pin/verify", as: holder, json: #"{"pin": "\#(wrong)"}"#, expect: .unprocessableEntity)
            let blocked = try await api.act(id, "pin/verify", as: holder, json: #"{"pin": "\#(wrong)"}"#, expect: .locked)
            #expect(blocked["code"] as? String == "card.pin-blocked")
            try await api.act(id, "pin/verify", as: holder, json: #"{"pin": "\#(pin)"}"#, expect: .locked)
            try await api.act(id, "pin/unblock", as: holder, json: #"{"puk": "\#(puk)", "newPIN": "2468"}"#)
            try await api.act(id, "pin/verify", as: holder, json: #"{"pin": "2468"}"#)
            try await api.act(id, "pin/change", as: holder, json: #"{"currentPIN": "2468", "newPIN": "1357"}"#)
            try await api.act(id, "pin/verify", as: holder, json: #"{"pin": "1357"}"#)
            try await api.act(id, "pin/change", as: holder, json: #"{"currentPIN": "1357", "newPIN": "12a4"}"#, expect: .unprocessableEntity)
            // Someone else's card is out of reach, even for a PIN check.
            try await api.act(id, "pin/verify", as: TestActors.holder(sophie.idNat.value), json: #"{"pin": "1357"}"#, expect: .forbidden)

            for _ in 0..<3 { try await api.call(.POST, "/api/v1/cards/\(id)/pin/verify", as: holder, json: #"{"pin": "9999"}"#) }
            let wrongPUK = puk == "00000000" ? "11111111" : "00000000"
            for attempt in 1...10 {
                let reply = try await api.call(.POST, "/api/v1/cards/\(id)/pin/unblock", as: holder, json: #"{"puk": "\#(wrongPUK)", "newPIN": "4321"}"#)
                #expect(reply.status == (attempt < 10 ? .unprocessableEntity : .locked), "attempt \(attempt): \(reply.json)")
            }
            let dead = try await api.act(id, "pin/unblock", as: holder, json: #"{"puk": "\#(puk)", "newPIN": "4321"}"#, expect: .locked)
            #expect(dead["code"] as? String == "card.puk-exhausted")
            let counters = try await api.call(.GET, "/api/v1/cards/\(id)/pin", as: holder).json
            #expect(counters["status"] as? String == "puk_exhausted")
        }
    }

    @Test("every actor is held to its scope and every unlisted transition is refused")
    func authorization() async throws {
        try await withCards { api, _ in
            let claireToken = TestActors.holder(claire.idNat.value)
            let id = try #require(try await orderClaire(api))
            // Out of scope or outside the role: 403.
            #expect(try await api.call(.GET, "/api/v1/cards/\(id)", as: TestActors.holder(sophie.idNat.value)).status == .forbidden)
            #expect(try await api.call(.GET, "/api/v1/cards/\(id)", as: TestActors.ars).status == .forbidden)
            try await api.act(id, "manufacture", as: TestActors.security, expect: .forbidden)
            try await api.act(id, "manufacture", as: claireToken, expect: .forbidden)
            try await api.act(id, "suspension", as: TestActors.production, json: #"{"reason": "x"}"#, expect: .forbidden)
            try await api.act(id, "revocation", as: TestActors.helpDesk, json: #"{"reason": "x"}"#, expect: .forbidden)
            // Transitions the state machine does not list: 409.
            try await api.act(id, "delivery", as: TestActors.production, expect: .conflict)
            try await api.act(id, "activation", as: claireToken, json: #"{"pin": "1234"}"#, expect: .conflict)
            try await api.act(id, "reject", as: TestActors.cnom, json: #"{"reason": "trop tard"}"#, expect: .conflict)
            try await api.makeActive(id, holder: claireToken)
            try await api.act(id, "manufacture", as: TestActors.production, expect: .conflict)
            // Suspension is a certificate hold; reinstatement releases it; a manager cannot touch a CPS.
            try await api.act(id, "suspension", as: TestActors.manager, json: #"{"reason": "x"}"#, expect: .forbidden)
            let card = try await api.file(id, as: claireToken)["card"] as? [String: Any] ?? [:]
            try await api.act(id, "suspension", as: TestActors.security, json: #"{"reason": "usage suspect"}"#)
            #expect(try await api.ocspStatus(serialHex: card["authenticationCertificate"] as? String ?? "") == "revoked")
            try await api.act(id, "reinstatement", as: TestActors.security, json: #"{"reason": "levée de doute"}"#)
            #expect(try await api.ocspStatus(serialHex: card["authenticationCertificate"] as? String ?? "") == "good")
            try await api.act(id, "revocation", as: TestActors.security, json: #"{"reason": "radiation"}"#)
            #expect(try await api.state(id) == "revoked")
            // Without a token, nothing.
            try await api.app.testing().test(.GET, "/api/v1/cards/\(id)") { #expect($0.status == .unauthorized) }
            // Staff cards: the manager orders for its structure only.
            let staff = try await api.call(.POST, "/api/v1/cards", as: TestActors.otherManager,
                                           json: #"{"idNat": "\#(claire.idNat.value)", "kind": "CPE", "structureId": "\#(DemoData.establishments[0].identifier.idNatStruct)"}"#)
            #expect(staff.status == .forbidden)
            let ordered = try await api.call(.POST, "/api/v1/cards", as: TestActors.manager,
                                             json: #"{"idNat": "\#(claire.idNat.value)", "kind": "CPE", "structureId": "\#(DemoData.establishments[0].identifier.idNatStruct)"}"#)
            #expect(ordered.status == .created)
        }
    }

    @Test("a failed manufacture leaves no card, certificate, shipment or token behind")
    func failedManufacture() async throws {
        try await withCards { api, _ in
            let id = try #require(try await orderClaire(api))
            // The PIN letter cannot be written: the print folder is a file.
            try FileManager.default.createDirectory(at: api.configuration.dataDirectory, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: api.configuration.letterDirectory.path, contents: Data("x".utf8)))
            let failed = try await api.call(.POST, "/api/v1/cards/\(id)/manufacture", as: TestActors.production, json: "{}")
            #expect(failed.status == .internalServerError)
            #expect(failed.json["code"] as? String == "card.letter-failed")
            // A server-side failure names its code; where it happened stays in the server's log.
            #expect((failed.json["detail"] as? String).map { !$0.contains("/") } == true, "\(failed.json)")
            #expect(try await api.state(id) == "validated")
            let file = try await api.file(id, as: TestActors.helpDesk)
            #expect((file["shipments"] as? [Any])?.isEmpty == true)
            #expect((file["card"] as? [String: Any])?["serial"] == nil)
            let certificates = try await CertificateRepository(database: api.app.db, clock: SystemWallClock()).certificates(idNat: claire.idNat.value)
            #expect(certificates.isEmpty)
            let tokens = (try? FileManager.default.contentsOfDirectory(atPath: api.configuration.tokenDirectory.path)) ?? []
            #expect(tokens.filter { $0.hasSuffix(".token") }.isEmpty)
            // Once the cause is gone, the same file is manufactured.
            try FileManager.default.removeItem(at: api.configuration.letterDirectory)
            try await api.act(id, "manufacture", as: TestActors.production)
        }
    }

    /// Claire's automatic order, through the registration event.
    func orderClaire(_ api: CardAPI) async throws -> String? {
        let card = try await #require(api.app.cards).ordering.orderAutomatically(for: claire, professionCode: "10")
        return card?.id
    }
}
