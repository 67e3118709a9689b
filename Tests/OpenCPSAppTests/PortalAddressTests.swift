import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import Testing
import Vapor
import VaporTesting

/// "Changer mon adresse postale" in the portal: the form prefilled from the registry, errors
/// tied to their fields, the address saved as the holder (and audited so), another holder's
/// record untouched.
@Suite("Web portal: postal address")
struct PortalAddressTests {
    @Test("the form is prefilled from the registry; bad input shows each field's error; the saved address shows in the space, audited as the holder")
    func changeAddress() async throws {
        try await PortalTests.withDevice { app, _, clock, device in
            let other = "810100271393"
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON(idNat: other, lastName: "DURAND"))) {
                #expect($0.status == .created)
            }
            var browser = try await PortalTests.logIn(app, clock, &device)
            let space = try await browser.get("/portail")
            #expect(space.body.contains("2 Faubourg SAINT ETIENNE, 25300 Pontarlier") && space.body.contains("href=\"/portail/adresse\""))

            let form = try await browser.get("/portail/adresse")
            #expect(form.status == .ok)
            #expect(form.body.contains("<title>Changer mon adresse postale — OpenCPS</title>"))
            #expect(form.field("ligne") == "2 Faubourg SAINT ETIENNE" && form.field("codePostal") == "25300" && form.field("commune") == "Pontarlier")
            for id in ["ligne", "codePostal", "commune"] { #expect(form.body.contains("<label for=\"\(id)\">")) }
            let csrf = try #require(form.field("csrf"))
            let version = try #require(form.field("version"))

            // Without its CSRF token the form is refused.
            #expect(try await browser.post("/portail/adresse", form: ["ligne": "1 rue A", "codePostal": "75011", "commune": "Paris"]).status == .forbidden)

            let bad = try await browser.post("/portail/adresse", form: [
                "csrf": csrf, "activite": "0", "version": version, "ligne": "", "codePostal": "7501", "commune": "Paris",
            ])
            #expect(bad.status == .badRequest)
            #expect(bad.body.contains("Le formulaire contient 2 erreurs."))
            #expect(bad.body.contains("id=\"ligne-erreur\"") && bad.body.contains("aria-describedby=\"ligne-aide ligne-erreur\" aria-invalid=\"true\""))
            #expect(bad.body.contains("id=\"codePostal-erreur\"") && bad.body.contains("aria-describedby=\"codePostal-aide codePostal-erreur\""))
            #expect(!bad.body.contains("commune-erreur"))
            // What was typed is kept, so that only the error needs fixing.
            #expect(bad.field("codePostal") == "7501" && bad.field("commune") == "Paris")
            #expect(bad.body.contains("Indiquez le numéro et la voie.") && bad.body.contains("Le code postal compte 5 chiffres"))

            let saved = try await browser.post("/portail/adresse", form: [
                "csrf": csrf, "activite": "0", "version": version, "ligne": "  12  rue des Lilas ", "codePostal": "75011", "commune": "Paris",
            ])
            #expect(saved.status == .seeOther, "\(saved.body)")
            let after = try await browser.get(try #require(saved.location))
            #expect(after.body.contains("Votre adresse postale est enregistrée.") && after.body.contains("12 rue des Lilas, 75011 PARIS"))
            let stored = try #require(try await app.registryService?.professional(try IdNat(PortalTests.idNat)))
            #expect(stored.professional.exercises[0].activities[0].address == PostalAddress(line: "12 rue des Lilas", postalCode: "75011", city: "PARIS"))
            // The department (the regional agency's scope) is the registry's, not the holder's.
            #expect(stored.professional.exercises[0].activities[0].department?.value == "25")
            let audit = try await AuditLog(clock: SystemWallClock()).history(entityType: "professional", entityID: PortalTests.idNat, on: app.db)
            #expect(audit.contains { $0.action == "professional.address" && $0.actor == "holder:\(PortalTests.idNat)" })

            // A form filled from an older version is not saved over a newer record.
            let stale = try await browser.post("/portail/adresse", form: [
                "csrf": csrf, "activite": "0", "version": version, "ligne": "3 rue B", "codePostal": "75012", "commune": "Paris",
            ])
            #expect(stale.status == .conflict)
            #expect(stale.body.contains("modifiée entre-temps") && stale.field("ligne") == "12 rue des Lilas")

            // Another holder is untouched, and an activity the holder does not have is not found.
            let durand = try #require(try await app.registryService?.professional(try IdNat(other)))
            #expect(durand.professional.exercises[0].activities[0].address?.line == "2 Faubourg SAINT ETIENNE")
            #expect(try await browser.get("/portail/adresse?activite=1").status == .notFound)
            #expect(try await browser.post("/portail/adresse", form: ["csrf": csrf, "activite": "5", "ligne": "1 rue A", "codePostal": "75011", "commune": "Paris"]).status == .notFound)
        }
    }

    @Test("the address rules: every field checked at once, normalised, with stable codes")
    func rules() throws {
        let address = try PostalAddressRules.checked(line: " 1  rue  A ", postalCode: "20090", city: "ajaccio")
        #expect(address == PostalAddress(line: "1 rue A", postalCode: "20090", city: "AJACCIO"))
        #expect(throws: PostalAddressError.self) { try PostalAddressRules.checked(line: "x", postalCode: "00000", city: "Paris") }
        do {
            _ = try PostalAddressRules.checked(line: String(repeating: "a", count: 39), postalCode: "abcde", city: "Paris 11")
            Issue.record("an invalid address was accepted")
        } catch {
            #expect(error.problems.map(\.code) == ["address.line-too-long", "address.postal-code-invalid", "address.city-invalid"])
        }
        #expect((try? PostalAddressRules.checked(line: "1 <b>rue</b>", postalCode: "75011", city: "Paris")) == nil)
    }
}
