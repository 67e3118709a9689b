import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// The web portal through its HTTP layer: the provider's HTML login with e-CPS, the portal as
/// the provider's client, the professional's space, and the safety rules (CSRF, headers, no
/// other holder's data).
@Suite("Web portal")
struct PortalTests {
    static let idNat = SigningHolder.idNat

    /// An application at an https public URL (the portal's redirect URI must be https off the
    /// loopback) with an active card holder and one enrolled e-CPS device.
    static func withDevice(_ body: (Application, CardAPI, FixedWallClock, inout ECPSTestDevice) async throws -> Void) async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(
            clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [idNat]), publicBaseURL: "https://opencps.test"
        ) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            _ = try await SigningHolder(api)
            var device = try ECPSTestDevice()
            defer { device.remove() }
            let (status, answer, _) = try await device.enrol(app, payload: try await ECPSEnrolmentTests.payload(api))
            try #require(status == .created, "\(answer)")
            try await body(app, api, clock, &device)
        }
    }

    /// Logs the holder in through `/`, the provider's e-CPS page and the device's approval.
    /// - Returns: the browser, logged in, on its space.
    static func logIn(_ app: Application, _ clock: FixedWallClock, _ device: inout ECPSTestDevice) async throws -> PortalBrowser {
        var browser = PortalBrowser(app: app)
        let home = try await browser.get("/")
        #expect(home.status == .ok)
        #expect(home.body.contains("Se connecter"))
        let start = try await browser.get("/portail/connexion")
        #expect(start.status == .seeOther)
        #expect(browser.cookies["opencps_portal_login"] != nil)
        let authorize = try #require(start.location)
        #expect(authorize.hasPrefix("/oidc/authorize?") && authorize.contains("code_challenge_method=S256") && authorize.contains("nonce="))

        let loginPage = try await browser.get(authorize)
        #expect(loginPage.status == .ok)
        #expect(loginPage.headers.contentType == .html)
        #expect(loginPage.body.contains("Se connecter avec e-CPS") && loginPage.body.contains("opencps card login"))
        #expect(loginPage.body.contains("Portail OpenCPS"))
        // The provider's pages carry the portal's headers: no script, never framed.
        #expect(loginPage.headers.first(name: "Content-Security-Policy")?.contains("script-src 'none'") == true)
        #expect(loginPage.headers.first(name: "X-Content-Type-Options") == "nosniff")
        let challenge = try #require(loginPage.field("challenge"))

        let wrong = try await browser.post("/oidc/login/ecps", form: ["challenge": challenge, "idNat": "12"])
        #expect(wrong.status == .badRequest)
        #expect(wrong.body.contains("aria-describedby=\"idNat-aide idNat-erreur\"") && wrong.body.contains("id=\"idNat-erreur\""))

        let waiting = try await browser.post("/oidc/login/ecps", form: ["challenge": challenge, "idNat": idNat])
        #expect(waiting.status == .ok, "\(waiting.body)")
        #expect(waiting.body.contains("Continuer") && !waiting.body.contains("http-equiv=\"refresh\""))
        let requestID = try #require(waiting.field("request"))
        let early = try await browser.get("/oidc/login/ecps?challenge=\(challenge)&request=\(requestID)")
        #expect(early.status == .ok)
        #expect(early.body.contains("Approuvez"))

        let listed = try #require(try await device.pending(app, at: clock.now()).1.first)
        #expect(listed["clientName"] as? String == "Portail OpenCPS")
        #expect(waiting.body.contains(listed["bindingMessage"] as? String ?? "∅"))
        #expect(try await device.decide(app, listed, .approve, at: clock.now()).0 == .ok)

        clock.advance(by: 6)
        let approved = try await browser.get("/oidc/login/ecps?challenge=\(challenge)&request=\(requestID)")
        #expect(approved.status == .seeOther, "\(approved.body)")
        #expect(browser.cookies["opencps_sso"] != nil)
        let callback = try #require(approved.location)
        #expect(callback.hasPrefix("/portail/callback?code="))

        let landed = try await browser.get(callback)
        #expect(landed.status == .seeOther, "\(landed.body)")
        #expect(landed.location == "/portail")
        let setCookie = landed.headers[.setCookie].first(where: { $0.hasPrefix("opencps_portal=") }) ?? ""
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("Secure") && setCookie.lowercased().contains("samesite=lax"), "\(setCookie)")
        #expect(browser.cookies["opencps_portal"] != nil)
        return browser
    }

    @Test("a professional logs in with e-CPS, sees identity, card, device; declares a loss with confirmation and sees the card opposed")
    func loginAndDeclareLoss() async throws {
        try await Self.withDevice { app, api, clock, device in
            var browser = try await Self.logIn(app, clock, &device)
            let space = try await browser.get("/portail")
            #expect(space.status == .ok)
            #expect(space.body.contains("<html lang=\"fr\">") && space.body.contains("<title>Mon espace — OpenCPS</title>"))
            #expect(space.body.contains("MARTIN") && space.body.contains(Self.idNat))
            let cards = try #require(app.cards).reading
            let card = try #require(try await cards.cards(of: try IdNat(Self.idNat), actor: .holder(try IdNat(Self.idNat))).first { $0.state == .active })
            let serial = try #require(card.manufacture?.serial.value)
            #expect(space.body.contains(serial) && space.body.contains("Active"))
            #expect(space.body.contains("Téléphone") && space.body.contains("Actif"))
            for header in ["Content-Security-Policy", "X-Content-Type-Options"] { #expect(space.headers.first(name: header) != nil) }
            #expect(space.headers.first(name: "Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            #expect(space.headers.first(name: "Content-Security-Policy")?.contains("default-src 'self'") == true)

            let confirm = try await browser.get("/portail/cartes/\(card.id)/opposition")
            #expect(confirm.status == .ok)
            #expect(confirm.body.contains("Confirmer l'opposition") && confirm.body.contains("<legend>"))
            let csrf = try #require(confirm.field("csrf"))

            // Without its CSRF token, or with another, the form is refused and the card untouched.
            let forged = try await browser.post("/portail/cartes/\(card.id)/opposition", form: ["motif": "perte"])
            #expect(forged.status == .forbidden)
            #expect(forged.body.contains("Action refusée"))
            // Another token of the same length: its first character changed, never to itself.
            let otherToken = (csrf.hasPrefix("x") ? "y" : "x") + csrf.dropFirst()
            let wrongToken = try await browser.post("/portail/cartes/\(card.id)/opposition", form: ["motif": "perte", "csrf": otherToken])
            #expect(wrongToken.status == .forbidden)
            #expect(try await api.state(card.id) == "active")

            let noReason = try await browser.post("/portail/cartes/\(card.id)/opposition", form: ["csrf": csrf])
            #expect(noReason.status == .badRequest)
            #expect(noReason.body.contains("aria-describedby=\"motif-erreur\""))

            let declared = try await browser.post("/portail/cartes/\(card.id)/opposition", form: ["motif": "perte", "csrf": csrf])
            #expect(declared.status == .seeOther)
            #expect(try await api.state(card.id) == "opposed")
            let after = try await browser.get(try #require(declared.location))
            #expect(after.body.contains("En opposition") && after.body.contains("Votre carte est bloquée"))
            let history = try await browser.get("/portail/cartes/\(card.id)/historique")
            #expect(history.status == .ok)
            #expect(history.body.contains("Opposition (perte ou vol)") && history.body.contains("Activation") && history.body.contains("Vous"))
            // The opposition is the holder's own act in the audit log.
            let entries = try await cards.history(card.id, actor: .holder(try IdNat(Self.idNat)))
            #expect(entries.contains { $0.actor == "holder:\(Self.idNat)" && $0.action.contains("oppose") }, "\(entries.map { "\($0.actor) \($0.action)" })")
        }
    }

    @Test("a holder changing an identifier in the URL sees nothing of another holder's card or device, and cannot act on them")
    func otherHoldersStayHidden() async throws {
        try await Self.withDevice { app, _, clock, device in
            let other = "810100271393"
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON(idNat: other, lastName: "DURAND"))) {
                #expect($0.status == .created)
            }
            try await app.testing().test(.POST, "/api/v1/professionals/\(other)/registrations", headers: .operatorHeaders,
                                         body: jsonBody(#"{"professionCode": "10", "registeredOn": "2026-11-02"}"#)) { #expect($0.status == .ok) }
            let othersCard = try #require(try await app.cards?.reading.cards(of: try IdNat(other), actor: .platform).first)

            var browser = try await Self.logIn(app, clock, &device)
            let space = try await browser.get("/portail")
            let csrf = try #require(space.field("csrf"))
            let peek = try await browser.get("/portail/cartes/\(othersCard.id)/opposition")
            #expect(peek.status == .notFound)
            #expect(!peek.body.contains("DURAND") && !peek.body.contains(other))
            let act = try await browser.post("/portail/cartes/\(othersCard.id)/opposition", form: ["motif": "vol", "csrf": csrf])
            #expect(act.status == .notFound)
            #expect(try await app.cards?.reading.file(othersCard.id, actor: .platform).card.state == othersCard.state)
            #expect(try await browser.get("/portail/cartes/no-such-card/opposition").status == .notFound)
            let othersHistory = try await browser.get("/portail/cartes/\(othersCard.id)/historique")
            #expect(othersHistory.status == .notFound && !othersHistory.body.contains("DURAND"))
            let revocation = try await browser.post("/portail/appareils/not-a-device/revocation", form: ["csrf": csrf])
            #expect(revocation.status == .notFound)
        }
    }

    @Test("a callback with a state from another browser, or without the login cookie, opens no session")
    func callbackChecks() async throws {
        try await Self.withDevice { app, _, _, _ in
            var browser = PortalBrowser(app: app)
            _ = try await browser.get("/portail/connexion")
            let forged = try await browser.get("/portail/callback?code=abc&state=not-the-state")
            #expect(forged.status == .badRequest)
            #expect(browser.cookies["opencps_portal"] == nil)
            var stranger = PortalBrowser(app: app)
            let noCookie = try await stranger.get("/portail/callback?code=abc&state=x")
            #expect(noCookie.status == .badRequest)
            // Without a session, the space sends to the home page and forms are refused.
            #expect(try await stranger.get("/portail").location == "/")
            #expect(try await stranger.post("/portail/deconnexion", form: [:]).status == .unauthorized)
        }
    }

    @Test("a device is revoked from the space; logout ends the session and the provider's, with CSRF checked")
    func revokeDeviceAndLogout() async throws {
        try await Self.withDevice { app, _, clock, device in
            var browser = try await Self.logIn(app, clock, &device)
            let space = try await browser.get("/portail")
            let csrf = try #require(space.field("csrf"))
            let deviceID = try #require(device.vault.state.deviceID)
            #expect(try await browser.post("/portail/appareils/\(deviceID)/revocation", form: [:]).status == .forbidden)
            let revoked = try await browser.post("/portail/appareils/\(deviceID)/revocation", form: ["csrf": csrf])
            #expect(revoked.status == .seeOther)
            #expect(try await app.ecpsDevices?.devices(holder: try IdNat(Self.idNat)).first?.revokedAt != nil)
            // Revoking the device that opened the provider's session ended it: the space is still
            // the portal's own session until logout.
            #expect(try await browser.get("/portail?fait=appareil").body.contains("Révoqué"))

            #expect(try await browser.post("/portail/deconnexion", form: [:]).status == .forbidden)
            let out = try await browser.post("/portail/deconnexion", form: ["csrf": csrf])
            #expect(out.status == .seeOther)
            #expect(out.location?.hasPrefix("/oidc/logout?id_token_hint=") == true)
            #expect(browser.cookies["opencps_portal"] == nil)
            #expect(try await browser.get("/portail").location == "/")
        }
    }

    @Test("non-browser clients still get the JSON card login transaction")
    func jsonStays() async throws {
        try await Self.withDevice { app, _, _, _ in
            var browser = PortalBrowser(app: app)
            let start = try await browser.get("/portail/connexion")
            let authorize = try #require(start.location)
            try await app.testing().test(.GET, authorize) { response in
                #expect(response.status == .ok)
                #expect(response.headers.contentType == .json)
                #expect(response.body.string.contains("challengeId"))
            }
        }
    }

    @Test("the cookies' Secure flag is on by default and turns off only for a server on the loopback over http")
    func secureCookieSetting() throws {
        #expect(try OpenCPSConfiguration.resolve(flags: .init(), environment: [:]).portal.secureCookies)
        let loopback = try OpenCPSConfiguration.resolve(
            flags: .init(), environment: ["OPENCPS_PORTAL_SECURE_COOKIE": "false", "OPENCPS_PUBLIC_URL": "http://127.0.0.1:8080"])
        #expect(!loopback.portal.secureCookies)
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(
                flags: .init(), environment: ["OPENCPS_PORTAL_SECURE_COOKIE": "false", "OPENCPS_PUBLIC_URL": "https://cps.example.fr"])
        }
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_PORTAL_SECURE_COOKIE": "maybe"])
        }
    }
}
