import ArgumentParser
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// The portal's staff pages through the HTTP layer: roles from the platform (the staff table,
/// managers from their CDE/CDA cards), the instance's queue with its documents and decision,
/// the help desk, the manager's space; refusals that show nothing of the file, and the audit
/// log naming the role and the person.
@Suite("Web portal: staff pages")
struct StaffPortalTests {
    /// A speech therapist (non-ordinal: the regional agency validates) working in Lyon.
    static let applicant = "810100271393"
    /// The agent of the agency of Auvergne-Rhône-Alpes, the agent of Bretagne, a plain professional.
    static let agent = "810100271401", otherAgent = "810100271419", plain = "810100271427"

    static func withApp(_ body: (Application, CardAPI, FixedWallClock) async throws -> Void) async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [applicant, SigningHolder.idNat, DemoData.professionals[3].idNat.value])) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            try await body(app, CardAPI(app: app, configuration: configuration), clock)
        }
    }

    /// The applicant's file, applied for, documented and submitted through the JSON API.
    static func submittedFile(_ api: CardAPI) async throws -> String {
        try await api.app.testing().test(
            .POST, "/api/v1/professionals", headers: .operatorHeaders,
            body: jsonBody(professionalJSON(idNat: applicant, lastName: "DURAND", profession: "91", department: "69"))) { #expect($0.status == .created) }
        let holder = TestActors.holder(applicant)
        let applied = try await api.call(.POST, "/api/v1/cards", as: holder, json: #"{"idNat": "\#(applicant)", "kind": "CPS", "professionCode": "91"}"#)
        #expect(applied.status == .created, "\(applied.json)")
        let id = try #require(applied.json["id"] as? String, "\(applied.json)")
        try await api.uploadMissingDocuments(id, as: holder)
        try await api.act(id, "submit", as: holder)
        return id
    }

    /// Julien FABRE's active CDE: the manager of the demo hospital.
    static func activeCDE(_ api: CardAPI, _ cards: CardServices) async throws {
        let fabre = DemoData.professionals[3], hospital = DemoData.establishments[0].identifier
        let cde = try await cards.ordering.apply(idNat: fabre.idNat, kind: .cde, professionCode: nil, structureID: hospital.idNatStruct, actor: .holder(fabre.idNat))
        for kind in try await cards.reading.file(cde.id, actor: .holder(fabre.idNat)).missingDocuments {
            _ = try await cards.ordering.addDocument(to: cde.id, kind: kind, mediaType: "application/pdf", content: Array("%PDF-1.4\n%%EOF\n".utf8), actor: .holder(fabre.idNat))
        }
        _ = try await cards.ordering.submit(cde.id, actor: .holder(fabre.idNat))
        _ = try await cards.ordering.validate(cde.id, actor: .agencyOperator(.registration))
        try await api.makeActive(cde.id, holder: TestActors.holder(fabre.idNat.value))
    }

    @Test("the regional agency's agent sees the file in the queue, views its documents, cannot reject without a reason, rejects, then validates; audited as role and person")
    func queueRejectValidate() async throws {
        try await Self.withApp { app, api, clock in
            let id = try await Self.submittedFile(api)
            var browser = try await StaffLogin.browser(app, Self.agent, clock: clock, roles: [.agenceRegionale(.auvergneRhoneAlpes)])
            let chooser = try await browser.get("/portail/agent")
            #expect(chooser.status == .ok && chooser.body.contains("Agence régionale de santé"))
            #expect(chooser.body.contains("<html lang=\"fr\">") && chooser.body.contains("<title>Espace agent — OpenCPS</title>"))
            let queue = try await browser.get("/portail/agent/ars-84/dossiers")
            #expect(queue.status == .ok)
            #expect(queue.body.contains("/portail/agent/ars-84/dossiers/\(id)") && queue.body.contains(Self.applicant))
            let page = try await browser.get("/portail/agent/ars-84/dossiers/\(id)")
            #expect(page.status == .ok && page.body.contains("DURAND") && page.body.contains("Valider le dossier"))
            #expect(page.body.contains("<label for=\"motif\">"))
            let csrf = try #require(page.field("csrf"))

            // A document, inline with its stored type, under a policy that runs nothing.
            let href = try #require(page.body.range(of: "/pieces/").map { range in
                String(page.body[page.body.index(range.lowerBound, offsetBy: 0)...].prefix { $0 != "\"" })
            })
            let document = try await browser.get("/portail/agent/ars-84/dossiers/\(id)\(href)")
            #expect(document.status == .ok)
            #expect(document.headers.first(name: .contentType) == "application/pdf")
            #expect(document.headers.first(name: .contentDisposition)?.hasPrefix("inline") == true)
            #expect(document.headers.first(name: "Content-Security-Policy")?.contains("sandbox") == true)
            #expect(document.body.hasPrefix("%PDF-"))

            #expect(try await browser.post("/portail/agent/ars-84/dossiers/\(id)/refus", form: ["motif": "flou"]).status == .forbidden)
            let empty = try await browser.post("/portail/agent/ars-84/dossiers/\(id)/refus", form: ["csrf": csrf, "motif": "  "])
            #expect(empty.status == .badRequest)
            #expect(empty.body.contains("aria-describedby=\"motif-aide motif-erreur\"") && empty.body.contains("id=\"motif-erreur\""))
            #expect(try await api.state(id) == "awaiting_validation")

            let rejected = try await browser.post("/portail/agent/ars-84/dossiers/\(id)/refus", form: ["csrf": csrf, "motif": "Pièce d'identité illisible"])
            #expect(rejected.status == .seeOther)
            #expect(try await api.state(id) == "rejected")
            try await api.act(id, "submit", as: TestActors.holder(Self.applicant))
            let validated = try await browser.post("/portail/agent/ars-84/dossiers/\(id)/validation", form: ["csrf": csrf])
            #expect(validated.status == .seeOther)
            #expect(try await api.state(id) == "validated")
            #expect(try await browser.get(try #require(validated.location)).body.contains("Le dossier est validé"))

            let history = try #require(app.cards).reading
            let entries = try await history.history(id, actor: .platform)
            let actor = "ars:84;person:\(Self.agent)"
            #expect(entries.contains { $0.actor == actor && $0.action == "card.reject" }, "\(entries.map { "\($0.actor) \($0.action)" })")
            #expect(entries.contains { $0.actor == actor && $0.action == "card.validate" })
        }
    }

    @Test("the professional's space links to the staff pages only for a person holding a staff role: from the staff table or an active CDE card, not a plain professional, not once the role is taken back")
    func staffLink() async throws {
        try await Self.withApp { app, api, clock in
            let link = "<a href=\"/portail/agent\">"
            var agent = try await StaffLogin.browser(app, Self.agent, clock: clock, roles: [.agenceRegionale(.auvergneRhoneAlpes)])
            let space = try await agent.get("/portail")
            #expect(space.status == .ok && space.body.contains(link) && space.body.contains("Mon espace agent"))
            var plain = try await StaffLogin.browser(app, Self.plain, clock: clock)
            let plainSpace = try await plain.get("/portail")
            #expect(plainSpace.status == .ok && !plainSpace.body.contains("/portail/agent"))
            #expect(try await StaffLogin.directory(app).remove(try IdNat(Self.agent), role: .agenceRegionale(.auvergneRhoneAlpes), actor: "operator:test"))
            #expect(try await !agent.get("/portail").body.contains("/portail/agent"))

            // A manager by their active CDE card, without any row in the staff table.
            let cards = try #require(app.cards)
            _ = try await DemoCards.create(cards: cards, letters: api.configuration.letterDirectory, tokens: api.configuration.tokenDirectory)
            var manager = try await StaffLogin.browser(app, DemoData.professionals[3].idNat.value, clock: clock)
            #expect(try await manager.get("/portail").body.contains(link))
        }
    }

    @Test("out of scope sees nothing: another region's agent, a professional without a role, no session")
    func outOfScope() async throws {
        try await Self.withApp { app, api, clock in
            let id = try await Self.submittedFile(api)
            var other = try await StaffLogin.browser(app, Self.otherAgent, clock: clock, roles: [.agenceRegionale(.bretagne)])
            let queue = try await other.get("/portail/agent/ars-53/dossiers")
            #expect(queue.status == .ok && !queue.body.contains(id) && !queue.body.contains(Self.applicant))
            let csrf = try #require(queue.field("csrf"))
            for path in ["/portail/agent/ars-53/dossiers/\(id)", "/portail/agent/ars-53/dossiers/\(id)/opposition"] {
                let page = try await other.get(path)
                #expect(page.status == .notFound, "\(path)")
                #expect(!page.body.contains("DURAND") && !page.body.contains(Self.applicant))
            }
            let documents = try await api.file(id, as: TestActors.ars)["documents"] as? [[String: Any]] ?? []
            let documentID = try #require(documents.first?["id"] as? String)
            let peek = try await other.get("/portail/agent/ars-53/dossiers/\(id)/pieces/\(documentID)")
            #expect(peek.status == .notFound && !peek.body.contains("%PDF"))
            let act = try await other.post("/portail/agent/ars-53/dossiers/\(id)/validation", form: ["csrf": csrf])
            #expect(act.status == .notFound && !act.body.contains(Self.applicant))
            let refusal = try await other.post("/portail/agent/ars-53/dossiers/\(id)/refus", form: ["csrf": csrf, "motif": "x"])
            #expect(refusal.status == .notFound)
            #expect(try await api.state(id) == "awaiting_validation")
            // A role the person does not hold, named in the URL: refused.
            #expect(try await other.get("/portail/agent/ars-84/dossiers").status == .forbidden)
            #expect(try await other.get("/portail/agent/helpdesk/guichet").status == .forbidden)

            var plain = try await StaffLogin.browser(app, Self.plain, clock: clock)
            for path in ["/portail/agent", "/portail/agent/ars-84/dossiers", "/portail/agent/ars-84/dossiers/\(id)", "/portail/agent/helpdesk/guichet?q=\(Self.applicant)"] {
                let page = try await plain.get(path)
                #expect(page.status == .forbidden, "\(path)")
                #expect(page.body.contains("Accès réservé") && !page.body.contains(Self.applicant))
            }
            var stranger = PortalBrowser(app: app)
            #expect(try await stranger.get("/portail/agent/ars-84/dossiers").status == .unauthorized)
        }
    }

    @Test("the help desk finds a file by idNat, serial and file id, sees it overdue, moves it to express with a justification, and declares an opposition with confirmation")
    func helpDesk() async throws {
        try await Self.withApp { app, api, clock in
            let holder = try await SigningHolder(api)
            let id = try await Self.submittedFile(api)
            try await api.act(id, "validate", as: TestActors.ars)
            clock.advance(by: 40 * 86_400)
            var desk = try await StaffLogin.browser(app, Self.agent, clock: clock, roles: [.helpDesk])
            let home = try await desk.get("/portail/agent/helpdesk/guichet")
            #expect(home.status == .ok && home.body.contains("Dossiers en retard") && home.body.contains("/dossiers/\(id)"))
            #expect(home.body.contains("<label for=\"q\">"))
            let byIdNat = try await desk.get("/portail/agent/helpdesk/guichet?q=\(Self.applicant)")
            #expect(byIdNat.body.contains("Résultats") && byIdNat.body.contains("/dossiers/\(id)"))
            #expect(try await desk.get("/portail/agent/helpdesk/guichet?q=\(id)").body.contains("/dossiers/\(id)"))
            let serial = try #require((try await api.file(holder.cardID, as: TestActors.helpDesk)["card"] as? [String: Any])?["serial"] as? String)
            #expect(try await desk.get("/portail/agent/helpdesk/guichet?q=\(serial)").body.contains("/dossiers/\(holder.cardID)"))
            #expect(try await desk.get("/portail/agent/helpdesk/guichet?q=0000000000").body.contains("Aucun dossier"))

            let page = try await desk.get("/portail/agent/helpdesk/dossiers/\(id)")
            #expect(page.status == .ok && page.body.contains("(dépassée)") && page.body.contains("En retard"))
            let csrf = try #require(page.field("csrf"))
            let empty = try await desk.post("/portail/agent/helpdesk/dossiers/\(id)/urgence", form: ["csrf": csrf, "justification": ""])
            #expect(empty.status == .badRequest && empty.body.contains("aria-describedby=\"justification-aide justification-erreur\""))
            let express = try await desk.post("/portail/agent/helpdesk/dossiers/\(id)/urgence", form: ["csrf": csrf, "justification": "prise de poste urgente"])
            #expect(express.status == .seeOther)
            #expect(try await desk.get(try #require(express.location)).body.contains("prise de poste urgente"))

            let confirm = try await desk.get("/portail/agent/helpdesk/dossiers/\(holder.cardID)/opposition")
            #expect(confirm.status == .ok && confirm.body.contains("<legend>") && confirm.body.contains("Confirmer l'opposition"))
            let noMotif = try await desk.post("/portail/agent/helpdesk/dossiers/\(holder.cardID)/opposition", form: ["csrf": csrf])
            #expect(noMotif.status == .badRequest && noMotif.body.contains("aria-describedby=\"motif-erreur\""))
            #expect(try await api.state(holder.cardID) == "active")
            let opposed = try await desk.post("/portail/agent/helpdesk/dossiers/\(holder.cardID)/opposition", form: ["csrf": csrf, "motif": "vol"])
            #expect(opposed.status == .seeOther)
            #expect(try await api.state(holder.cardID) == "opposed")
            let reading = try #require(app.cards).reading
            // The holder's history says the help desk did it, without the agent's idNat.
            var holderBrowser = try await StaffLogin.browser(app, SigningHolder.idNat, clock: clock)
            let history = try await holderBrowser.get("/portail/cartes/\(holder.cardID)/historique")
            #expect(history.body.contains("Le guichet unique") && !history.body.contains(Self.agent))
            let entries = try await reading.history(holder.cardID, actor: .platform)
            #expect(entries.contains { $0.actor == "helpdesk;person:\(Self.agent)" && $0.action == "card.oppose" }, "\(entries.map(\.actor))")
            let expressEntries = try await reading.history(id, actor: .platform)
            #expect(expressEntries.contains { $0.actor == "helpdesk;person:\(Self.agent)" && $0.action == "card.express" })
        }
    }

    @Test("a CDE holder is the manager of its structure: sees the staff, orders a CPE for a person working there, not for another")
    func manager() async throws {
        try await Self.withApp { app, api, clock in
            let cards = try #require(app.cards)
            let fabre = DemoData.professionals[3], hospital = DemoData.establishments[0].identifier
            try await Self.activeCDE(api, cards)

            var manager = try await StaffLogin.browser(app, fabre.idNat.value, clock: clock, roles: [.helpDesk])
            let key = "manager-\(hospital.idNatStruct)"
            let chooser = try await manager.get("/portail/agent")
            #expect(chooser.body.contains("/portail/agent/\(key)/personnel") && chooser.body.contains("/portail/agent/helpdesk/guichet"))
            let staff = try await manager.get("/portail/agent/\(key)/personnel")
            #expect(staff.status == .ok)
            let lambert = DemoData.professionals[0], giraud = DemoData.professionals[1], morel = DemoData.professionals[4]
            #expect(staff.body.contains(lambert.idNat.value) && staff.body.contains(giraud.idNat.value))
            #expect(!staff.body.contains(morel.idNat.value))
            #expect(staff.body.contains("<label for=\"idNat\">"))
            let csrf = try #require(staff.field("csrf"))

            let elsewhere = try await manager.post("/portail/agent/\(key)/commandes", form: ["csrf": csrf, "idNat": morel.idNat.value, "type": "cpe"])
            #expect(elsewhere.status == .badRequest && elsewhere.body.contains("aria-describedby=\"idNat-aide idNat-erreur\""))
            let ordered = try await manager.post("/portail/agent/\(key)/commandes", form: ["csrf": csrf, "idNat": lambert.idNat.value, "type": "cpe"])
            #expect(ordered.status == .seeOther)
            let order = try #require(try await cards.reading.cards(of: lambert.idNat, actor: .establishmentManager(hospital)).first)
            #expect(order.kind == .cpe && order.state == .ordered)
            let page = try await manager.get(try #require(ordered.location))
            #expect(page.status == .ok && page.body.contains("La commande est enregistrée"))
            #expect(try await manager.get("/portail/agent/\(key)/personnel").body.contains("/dossiers/\(order.id)"))
            let entries = try await cards.reading.history(order.id, actor: .platform)
            #expect(entries.contains { $0.actor == "manager:\(hospital.idNatStruct);person:\(fabre.idNat.value)" && $0.action == "card.order" })

            // The other establishment's manager role is not Fabre's: refused.
            let clinic = DemoData.establishments[1].identifier
            #expect(try await manager.get("/portail/agent/manager-\(clinic.idNatStruct)/personnel").status == .forbidden)
        }
    }

    @Test("the manager documents a staff order and sends it from the file page: field errors for a missing file or a wrong type, no submission while incomplete, audited as role and person; another structure's order is a 404 page")
    func managerDocumentsAndSendsOrder() async throws {
        try await Self.withApp { app, api, clock in
            let cards = try #require(app.cards)
            let fabre = DemoData.professionals[3], lambert = DemoData.professionals[0], rousseau = DemoData.professionals[2]
            let hospital = DemoData.establishments[0].identifier, clinic = DemoData.establishments[1].identifier
            try await Self.activeCDE(api, cards)
            var manager = try await StaffLogin.browser(app, fabre.idNat.value, clock: clock)
            let key = "manager-\(hospital.idNatStruct)"
            let csrf = try #require(try await manager.get("/portail/agent/\(key)/personnel").field("csrf"))
            let ordered = try await manager.post("/portail/agent/\(key)/commandes", form: ["csrf": csrf, "idNat": lambert.idNat.value, "type": "cpe"])
            #expect(ordered.status == .seeOther)
            let order = try #require(try await cards.reading.cards(of: lambert.idNat, actor: .establishmentManager(hospital)).first)
            let path = "/portail/agent/\(key)/dossiers/\(order.id)"
            let page = try await manager.get(path)
            #expect(page.status == .ok && page.body.contains("action=\"\(path)/pieces\"") && page.body.contains("enctype=\"multipart/form-data\""))
            #expect(page.body.contains("<label for=\"fichier\">") && page.body.contains("<label for=\"piece\">") && page.body.contains("Envoyer le dossier"))
            let missing = try await cards.reading.file(order.id, actor: .platform).missingDocuments
            try #require(!missing.isEmpty)

            // Incomplete: not sent.
            let early = try await manager.post("\(path)/envoi", form: ["csrf": csrf])
            #expect(early.status == .conflict && early.body.contains("incomplet"))
            #expect(try await api.state(order.id) == "ordered")
            // No file chosen, then a text file: each error tied to the file field.
            let pdf = Array("%PDF-1.4\n%%EOF\n".utf8)
            let noFile = try await PortalApplicationTests.postMultipart(&manager, "\(path)/pieces", fields: ["csrf": csrf, "piece": missing[0].rawValue], file: nil)
            #expect(noFile.status == .badRequest && noFile.body.contains("aria-describedby=\"fichier-aide fichier-erreur\"") && noFile.body.contains("Choisissez le fichier"))
            #expect(noFile.body.contains("<option value=\"\(missing[0].rawValue)\" selected>"))
            let text = try await PortalApplicationTests.postMultipart(
                &manager, "\(path)/pieces", fields: ["csrf": csrf, "piece": missing[0].rawValue],
                file: .init(filename: "notes.txt", type: "text/plain", content: Array("pas une pièce".utf8)))
            #expect(text.status == .badRequest && text.body.contains("id=\"fichier-erreur\"") && text.body.contains("PDF, un JPEG ou un PNG"))
            let noKind = try await PortalApplicationTests.postMultipart(
                &manager, "\(path)/pieces", fields: ["csrf": csrf], file: .init(filename: "a.pdf", type: "application/pdf", content: pdf))
            #expect(noKind.status == .badRequest && noKind.body.contains("aria-describedby=\"piece-erreur\""))
            let forged = try await PortalApplicationTests.postMultipart(
                &manager, "\(path)/pieces", fields: ["piece": missing[0].rawValue], file: .init(filename: "a.pdf", type: "application/pdf", content: pdf))
            #expect(forged.status == .forbidden)
            #expect(try await cards.reading.file(order.id, actor: .platform).documents.isEmpty)

            for kind in missing {
                let sent = try await PortalApplicationTests.postMultipart(
                    &manager, "\(path)/pieces", fields: ["csrf": csrf, "piece": kind.rawValue], file: .init(filename: "\(kind).pdf", type: "application/pdf", content: pdf))
                #expect(sent.status == .seeOther && sent.location == "\(path)?fait=piece", "\(kind): \(sent.status)")
            }
            let sent = try await manager.post("\(path)/envoi", form: ["csrf": csrf])
            #expect(sent.status == .seeOther)
            #expect(try await api.state(order.id) == "awaiting_validation")
            let after = try await manager.get(try #require(sent.location))
            #expect(after.body.contains("Le dossier est envoyé") && after.body.contains("Valider le dossier") && !after.body.contains("Ajouter la pièce"))
            let entries = try await cards.reading.history(order.id, actor: .platform)
            let actor = "manager:\(hospital.idNatStruct);person:\(fabre.idNat.value)"
            #expect(entries.filter { $0.actor == actor && $0.action == "card.document" }.count == missing.count, "\(entries.map { "\($0.actor) \($0.action)" })")
            #expect(entries.contains { $0.actor == actor && $0.action == "card.submit_for_validation" })

            // The clinic's order for its own staff is not Fabre's: the 404 page, nothing stored.
            let other = try await cards.ordering.apply(
                idNat: rousseau.idNat, kind: .cpe, professionCode: nil, structureID: clinic.idNatStruct, actor: .establishmentManager(clinic))
            let elsewhere = "/portail/agent/\(key)/dossiers/\(other.id)"
            let peek = try await manager.get(elsewhere)
            #expect(peek.status == .notFound && !peek.body.contains(rousseau.lastName))
            let upload = try await PortalApplicationTests.postMultipart(
                &manager, "\(elsewhere)/pieces", fields: ["csrf": csrf, "piece": missing[0].rawValue], file: .init(filename: "a.pdf", type: "application/pdf", content: pdf))
            #expect(upload.status == .notFound && !upload.body.contains(rousseau.lastName))
            #expect(try await manager.post("\(elsewhere)/envoi", form: ["csrf": csrf]).status == .notFound)
            #expect(try await cards.reading.file(other.id, actor: .platform).documents.isEmpty)
            #expect(try await api.state(other.id) == "ordered")
        }
    }

    @Test("a manager opposes a staff member's card with confirmation and issues a temporary card; another structure's card stays out of reach")
    func managerOppositionAndTemporaryCard() async throws {
        try await Self.withApp { app, api, clock in
            let cards = try #require(app.cards)
            _ = try await DemoCards.create(cards: cards, letters: api.configuration.letterDirectory, tokens: api.configuration.tokenDirectory)
            let fabre = DemoData.professionals[3], bonnet = DemoData.professionals[5], rousseau = DemoData.professionals[2]
            let centre = DemoData.establishments[2].identifier
            let cpa = try #require(try await cards.reading.cards(of: bonnet.idNat, actor: .platform).first { $0.kind == .cpa && $0.state == .active })
            let clinicCPE = try #require(try await cards.reading.cards(of: rousseau.idNat, actor: .platform).first { $0.kind == .cpe })
            var manager = try await StaffLogin.browser(app, fabre.idNat.value, clock: clock)
            let key = "manager-\(centre.idNatStruct)"
            let staff = try await manager.get("/portail/agent/\(key)/personnel")
            #expect(staff.body.contains("/dossiers/\(cpa.id)"))
            let csrf = try #require(staff.field("csrf"))
            // The clinic's CPE is another manager's: nothing of it.
            let elsewhere = try await manager.get("/portail/agent/\(key)/dossiers/\(clinicCPE.id)")
            #expect(elsewhere.status == .notFound && !elsewhere.body.contains(rousseau.lastName))

            let page = try await manager.get("/portail/agent/\(key)/dossiers/\(cpa.id)")
            #expect(page.body.contains("Déclarer une opposition") && !page.body.contains("Délivrer une carte temporaire"))
            let confirm = try await manager.get("/portail/agent/\(key)/dossiers/\(cpa.id)/opposition")
            #expect(confirm.status == .ok && confirm.body.contains("Confirmer l'opposition"))
            let opposed = try await manager.post("/portail/agent/\(key)/dossiers/\(cpa.id)/opposition", form: ["csrf": csrf, "motif": "perte"])
            #expect(opposed.status == .seeOther)
            #expect(try await api.state(cpa.id) == "opposed")
            let after = try await manager.get(try #require(opposed.location))
            #expect(after.body.contains("Délivrer une carte temporaire"))
            #expect(try await manager.post("/portail/agent/\(key)/dossiers/\(cpa.id)/carte-temporaire", form: [:]).status == .forbidden)
            let temporary = try await manager.post("/portail/agent/\(key)/dossiers/\(cpa.id)/carte-temporaire", form: ["csrf": csrf])
            #expect(temporary.status == .seeOther)
            let issued = try #require(try await cards.reading.cards(of: bonnet.idNat, actor: .platform).first { $0.temporary })
            #expect(issued.state == .validated && issued.kind == .cpe)
            #expect(try await manager.get(try #require(temporary.location)).body.contains("La carte temporaire est commandée"))
            let entries = try await cards.reading.history(cpa.id, actor: .platform)
            #expect(entries.contains { $0.actor == "manager:\(centre.idNatStruct);person:\(fabre.idNat.value)" && $0.action == "card.oppose" })
        }
    }

    @Test("the opencps staff command gives, lists and takes roles; a bad idNat or role is refused, removing a role not held exits 2")
    func staffCommand() async throws {
        let folder = try ExternalTool.temporaryFolder("staff-command")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data").path
        try await OpenCPSCommand.run(["migrate", "--data", data, "--log-level", "error"])
        try await OpenCPSCommand.run(["staff", "add", Self.agent, "ars:84", "--data", data])
        try await OpenCPSCommand.run(["staff", "add", Self.agent, "helpdesk", "--data", data])
        await #expect(throws: (any Error).self) { try await OpenCPSCommand.run(["staff", "add", Self.agent, "operator:security", "--data", data]) }
        await #expect(throws: (any Error).self) { try await OpenCPSCommand.run(["staff", "add", "12", "helpdesk", "--data", data]) }
        try await OpenCPSCommand.run(["staff", "remove", Self.agent, "helpdesk", "--data", data])
        await #expect(throws: ExitCode(2)) { try await OpenCPSCommand.run(["staff", "remove", Self.agent, "helpdesk", "--data", data]) }
    }

    @Test("opencps staff add, list and remove; a role no row may give is refused")
    func staffDirectory() async throws {
        try await Self.withApp { app, _, _ in
            let directory = StaffLogin.directory(app)
            let person = try IdNat(Self.agent)
            #expect(try await directory.add(person, role: .ordre(.cnom), actor: "operator:test"))
            #expect(try await !directory.add(person, role: .ordre(.cnom), actor: "operator:test"))
            #expect(try await directory.roles(of: person) == [.ordre(.cnom)])
            await #expect(throws: StaffError.self) { try await directory.add(person, role: .agencyOperator(.security), actor: "operator:test") }
            #expect(try await directory.list().map(\.role) == ["ordre:CNOM"])
            #expect(try await directory.remove(person, role: .ordre(.cnom), actor: "operator:test"))
            #expect(try await directory.roles(of: person).isEmpty)
        }
    }
}
