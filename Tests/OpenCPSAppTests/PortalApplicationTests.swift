import Foundation
import NIOCore
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import Testing
import Vapor
import VaporTesting

/// Applying for a card in the portal: the documents required for the profession and mode of
/// activity, their upload (read by the server's own multipart reader), what is sent and what
/// is missing, the submission, and the resubmission after the instance's rejection.
@Suite("Web portal: applying for a card")
struct PortalApplicationTests {
    static let pdf = Array("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".utf8)
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 32)

    /// Text as Leaf writes it in a page (an apostrophe escaped).
    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "'", with: "&#39;")
    }

    /// A file part of a form.
    struct Upload {
        var name = "fichier"
        var filename: String
        var type: String
        var content: [UInt8]
    }

    /// Posts a `multipart/form-data` form as the browser would, with its cookies.
    static func postMultipart(_ browser: inout PortalBrowser, _ path: String, fields: [String: String], file: Upload?) async throws -> PortalBrowser.Page {
        let boundary = "----portal\(UUID().uuidString.prefix(8))"
        var body: [UInt8] = []
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let file {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.type)\r\n\r\n".utf8)
            body += file.content + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .accept, value: "text/html")
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        headers.replaceOrAdd(name: .cookie, value: browser.cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))
        let response = try await browser.app.testing().performTest(
            request: TestingHTTPRequest(method: .POST, url: URI(string: path), headers: headers, body: ByteBuffer(bytes: body)))
        return PortalBrowser.Page(status: response.status, headers: response.headers, body: response.body.string)
    }

    @Test("a replacement file: required documents, field errors for a missing, wrong or oversized file, submit, rejection with its reason, resubmission, validation")
    func documentsSubmitRejectResubmit() async throws {
        try await PortalTests.withDevice { app, _, clock, device in
            var browser = try await PortalTests.logIn(app, clock, &device)
            let holder = try IdNat(PortalTests.idNat)
            let cards = try #require(app.cards)
            let active = try #require(try await cards.reading.cards(of: holder, actor: .holder(holder)).first { $0.state == .active })
            let space = try await browser.get("/portail")
            #expect(space.body.contains("href=\"/portail/demandes\""))
            let csrf = try #require(space.field("csrf"))
            // The loss orders a replacement, which waits for its documents.
            #expect(try await browser.post("/portail/cartes/\(active.id)/opposition", form: ["motif": "perte", "csrf": csrf]).status == .seeOther)
            let replacement = try #require(try await cards.reading.cards(of: holder, actor: .holder(holder)).first { $0.order.replaces == active.id })

            let list = try await browser.get("/portail/demandes")
            #expect(list.status == .ok && list.body.contains("href=\"/portail/demandes/\(replacement.id)\""), "\(list.status) \(list.body)")
            let path = "/portail/demandes/\(replacement.id)"
            let empty = try await browser.get(path)
            #expect(empty.status == .ok)
            #expect(empty.body.contains("Pièces justificatives : 0 sur 3") && empty.body.contains("<progress max=\"3\" value=\"0\""))
            for label in ["Pièce d'identité", "Attestation d'inscription à l'ordre", "Justificatif d'activité"] {
                #expect(empty.body.contains("<span class=\"manquante\">Manquante</span> : \(Self.html(label))"), "\(label)")
            }
            #expect(empty.body.contains("enctype=\"multipart/form-data\"") && empty.body.contains("<label for=\"fichier\">"))

            // Submitting an incomplete file says what is missing.
            let early = try await browser.post("\(path)/envoi", form: ["csrf": csrf])
            #expect(early.status == .conflict)
            #expect(early.body.contains(Self.html("Votre dossier est incomplet. Il manque : Pièce d'identité")))

            // Without the CSRF token (read from the multipart body), nothing is stored.
            let forged = try await Self.postMultipart(&browser, "\(path)/pieces", fields: ["piece": "identity"], file: Upload(filename: "id.pdf", type: "application/pdf", content: Self.pdf))
            #expect(forged.status == .forbidden)
            // No kind and no file: an error on each field.
            let nothing = try await Self.postMultipart(&browser, "\(path)/pieces", fields: ["csrf": csrf], file: Upload(filename: "", type: "application/octet-stream", content: []))
            #expect(nothing.status == .badRequest)
            #expect(nothing.body.contains("id=\"piece-erreur\"") && nothing.body.contains("aria-describedby=\"piece-erreur\" aria-invalid=\"true\""))
            #expect(nothing.body.contains("id=\"fichier-erreur\"") && nothing.body.contains("aria-describedby=\"fichier-aide fichier-erreur\""))
            // A type that is not accepted, a content that is not its type, a file too large.
            let text = try await Self.postMultipart(&browser, "\(path)/pieces", fields: ["csrf": csrf, "piece": "identity"], file: Upload(filename: "id.txt", type: "text/plain", content: Array("bonjour".utf8)))
            #expect(text.status == .badRequest && text.body.contains(Self.html("Ce type de fichier n'est pas accepté : envoyez un PDF, un JPEG ou un PNG.")))
            #expect(text.body.contains("<option value=\"identity\" selected>"))
            let fake = try await Self.postMultipart(&browser, "\(path)/pieces", fields: ["csrf": csrf, "piece": "identity"], file: Upload(filename: "id.pdf", type: "application/pdf", content: Array("not a pdf".utf8)))
            #expect(fake.status == .badRequest && fake.body.contains("Le contenu du fichier ne correspond pas à son type"))
            let large = try await Self.postMultipart(&browser, "\(path)/pieces", fields: ["csrf": csrf, "piece": "identity"],
                                                     file: Upload(filename: "id.pdf", type: "application/pdf", content: Self.pdf + Array(repeating: 0x20, count: 10 * 1024 * 1024)))
            #expect(large.status == .badRequest && large.body.contains("Le fichier est trop volumineux : 10 Mio au plus."))
            #expect(try await cards.reading.file(replacement.id, actor: .holder(holder)).documents.isEmpty)

            for (kind, upload) in [("identity", Upload(filename: "id.pdf", type: "application/pdf", content: Self.pdf)),
                                   ("order_registration", Upload(filename: "ordre.png", type: "image/png", content: Self.png)),
                                   ("proof_of_activity", Upload(filename: "contrat.pdf", type: "application/pdf", content: Self.pdf))] {
                let sent = try await Self.postMultipart(&browser, "\(path)/pieces", fields: ["csrf": csrf, "piece": kind], file: upload)
                #expect(sent.status == .seeOther, "\(kind): \(sent.body)")
            }
            let complete = try await browser.get("\(path)?fait=piece")
            #expect(complete.body.contains("La pièce est ajoutée") && complete.body.contains("3 sur 3") && !complete.body.contains("Manquante"))
            #expect(complete.body.contains(Self.html("Votre dossier est complet : envoyez-le à l'ordre (CNOM).")))

            let submitted = try await browser.post("\(path)/envoi", form: ["csrf": csrf])
            #expect(submitted.status == .seeOther)
            let waiting = try await browser.get(try #require(submitted.location))
            #expect(waiting.body.contains("Votre dossier est envoyé") && waiting.body.contains(Self.html("en cours d'examen par l'ordre (CNOM)")))
            #expect(!waiting.body.contains("Ajouter une pièce"))

            // The order rejects it with its reason; the holder sees it, adds a document and resubmits.
            _ = try await cards.ordering.reject(replacement.id, reason: "La pièce d'identité est illisible.", actor: .ordre(.cnom))
            let rejected = try await browser.get(path)
            #expect(rejected.body.contains("Votre dossier a été refusé") && rejected.body.contains(Self.html("« La pièce d'identité est illisible. »")))
            #expect(rejected.body.contains("Renvoyer mon dossier") && rejected.body.contains("Ajouter une pièce"))
            let again = try await Self.postMultipart(&browser, "\(path)/pieces", fields: ["csrf": csrf, "piece": "identity"], file: Upload(filename: "id2.pdf", type: "application/pdf", content: Self.pdf))
            #expect(again.status == .seeOther)
            let resubmitted = try await browser.post("\(path)/envoi", form: ["csrf": csrf])
            #expect(resubmitted.status == .seeOther)
            #expect(try await cards.reading.file(replacement.id, actor: .holder(holder)).card.state == .awaitingValidation)
            _ = try await cards.ordering.validate(replacement.id, actor: .ordre(.cnom))
            let validated = try await browser.get(path)
            #expect(validated.body.contains("Votre dossier est validé") && !validated.body.contains("Votre dossier a été refusé"))

            // Each step is the holder's own in the file's history.
            let history = try await cards.reading.history(replacement.id, actor: .holder(holder))
            let own = history.filter { $0.actor == "holder:\(PortalTests.idNat)" }.map(\.action)
            #expect(own.contains("card.submit_documents") || own.contains("card.submit_for_validation"), "\(own)")
            #expect(own.contains("card.resubmit") && own.filter { $0 == "card.document" }.count == 4, "\(own)")
        }
    }

    @Test("a new application for a non-ordinal profession lists its documents; another holder's file is not shown")
    func newApplication() async throws {
        try await PortalTests.withDevice { app, _, clock, device in
            let registry = try #require(app.registryService)
            let holder = try IdNat(PortalTests.idNat)
            var professional = try await registry.professional(holder).professional
            professional.exercises.append(Exercise(
                profession: try Profession(code: "91"),
                activities: [Activity(mode: .liberal, department: try DepartmentCode("25"), address: PostalAddress(line: "1 rue A", postalCode: "25000", city: "BESANCON"))]))
            _ = try await registry.update(professional, expectedVersion: nil, actor: "test")
            // Another holder's file, applied for through the API.
            let other = "810100271393"
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON(idNat: other, lastName: "DURAND", profession: "91"))) {
                #expect($0.status == .created)
            }
            let othersFile = try await app.cards!.ordering.apply(idNat: try IdNat(other), kind: .cps, professionCode: "91", structureID: nil, actor: .holder(try IdNat(other)))

            var browser = try await PortalTests.logIn(app, clock, &device)
            let list = try await browser.get("/portail/demandes")
            #expect(list.body.contains("Orthophoniste (exercice libéral, indépendant"))
            #expect(list.body.contains(Self.html("Pièces à fournir : Pièce d'identité ; Diplôme ou enregistrement au registre de la profession ; Justificatif de domicile ou d'adresse professionnelle.")))
            // The médecin's card follows the order's registration: no application for it here.
            #expect(!list.body.contains("value=\"10\""))
            let csrf = try #require(list.field("csrf"))
            let none = try await browser.post("/portail/demandes", form: ["csrf": csrf])
            #expect(none.status == .badRequest && none.body.contains("<fieldset aria-describedby=\"profession-erreur\">"))
            #expect(try await browser.post("/portail/demandes", form: ["csrf": csrf, "profession": "10"]).status == .badRequest)
            let created = try await browser.post("/portail/demandes", form: ["csrf": csrf, "profession": "91"])
            #expect(created.status == .seeOther)
            let page = try await browser.get(try #require(created.location))
            #expect(page.body.contains("Votre demande est créée") && page.body.contains("0 sur 3") && page.body.contains("Orthophoniste"))
            #expect(try await app.cards!.reading.cards(of: holder, actor: .holder(holder)).contains { $0.profession?.code == "91" && $0.state == .ordered })
            // Once applied for, the profession is no longer offered.
            #expect(!(try await browser.get("/portail/demandes")).body.contains("name=\"profession\""))

            let peek = try await browser.get("/portail/demandes/\(othersFile.id)")
            #expect(peek.status == .notFound && !peek.body.contains("DURAND"))
            let push = try await Self.postMultipart(&browser, "/portail/demandes/\(othersFile.id)/pieces", fields: ["csrf": csrf, "piece": "identity"],
                                                    file: Upload(filename: "id.pdf", type: "application/pdf", content: Self.pdf))
            #expect(push.status == .notFound)
            #expect(try await browser.post("/portail/demandes/\(othersFile.id)/envoi", form: ["csrf": csrf]).status == .notFound)
            #expect(try await app.cards!.reading.file(othersFile.id, actor: .platform).documents.isEmpty)
        }
    }
}
