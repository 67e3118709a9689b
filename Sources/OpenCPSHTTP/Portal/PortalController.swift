import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The professional's web portal at `/`: a client of OpenCPS's own OpenID Connect provider,
/// with server-side sessions. Every action goes through the services with the logged-in
/// holder as the actor, so the services' own rules decide what they may see and do, and the
/// audit log names the person; no route takes another holder's identifier on trust.
public struct PortalController: Sendable {
    /// The services the portal calls.
    public struct Services: Sendable {
        /// Sessions.
        public var sessions: PortalSessions
        /// The OpenID Connect client side.
        public var relyingParty: PortalRelyingParty
        /// Card reading and blocking.
        public var cards: CardServices
        /// The registry.
        public var registry: RegistryService
        /// e-CPS devices.
        public var devices: ECPSDevices
        /// Who holds a staff role: the space links to the staff pages only for them.
        public var staff: StaffDirectory
        /// The clock.
        public var clock: any WallClock

        /// Groups the services.
        public init(
            sessions: PortalSessions, relyingParty: PortalRelyingParty, cards: CardServices, registry: RegistryService, devices: ECPSDevices,
            staff: StaffDirectory, clock: any WallClock
        ) {
            self.sessions = sessions
            self.relyingParty = relyingParty
            self.cards = cards
            self.registry = registry
            self.devices = devices
            self.staff = staff
            self.clock = clock
        }
    }

    let services: Services

    /// The session cookie.
    static let sessionCookie = "opencps_portal"
    /// The cookie of a login in progress (its key derives `state`, `nonce` and the PKCE verifier).
    static let loginCookie = "opencps_portal_login"

    /// Creates the controller.
    public init(services: Services) {
        self.services = services
    }

    /// Registers `/` and `/portail/...`.
    public func register(on routes: any RoutesBuilder) {
        let guarded = routes.grouped(PortalHeadersMiddleware())
        guarded.get { request in try await home(request) }
        let portal = guarded.grouped("portail")
        portal.get("static", "portail.css") { _ -> Response in
            let response = Response(status: .ok, body: .init(data: PortalViews.styleSheet))
            response.headers.contentType = HTTPMediaType(type: "text", subType: "css", parameters: ["charset": "utf-8"])
            response.headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=3600")
            return response
        }
        portal.get("connexion") { request in try await login(request) }
        portal.get("callback") { request in try await callback(request) }
        portal.get { request in try await space(request) }
        portal.post("deconnexion") { request in try await logout(request) }
        portal.get("cartes", ":card", "opposition") { request in try await lossConfirmation(request) }
        portal.get("cartes", ":card", "historique") { request in try await history(request) }
        portal.post("cartes", ":card", "opposition") { request in try await declareLoss(request) }
        portal.post("appareils", ":device", "revocation") { request in try await revokeDevice(request) }
        registerProfessionalPages(on: portal)
    }

    // MARK: Login and logout

    private func home(_ request: Request) async throws -> Response {
        if try await session(request) != nil { return PortalViews.seeOther("/portail", on: request) }
        return try await PortalViews.render("home", PageContext(title: "Accueil"), on: request)
    }

    private func login(_ request: Request) async throws -> Response {
        try await services.relyingParty.register()
        let key = services.relyingParty.newLoginKey()
        let response = PortalViews.seeOther(services.relyingParty.authorizationURL(loginKey: key), on: request)
        response.cookies[Self.loginCookie] = cookie(key, maxAge: 600, path: "/portail")
        return response
    }

    private struct CallbackQuery: Content {
        var code: String?
        var state: String?
        var iss: String?
        var error: String?
    }

    private func callback(_ request: Request) async throws -> Response {
        let query = try request.query.decode(CallbackQuery.self)
        let address = request.remoteAddress?.ipAddress ?? "unknown"
        do {
            if query.error != nil {
                throw PortalLoginError(code: "portal.login.refused", reason: "the provider refused the login")
            }
            let (idNat, idToken) = try await services.relyingParty.finish(
                code: query.code, state: query.state, issuer: query.iss, loginKey: request.cookies[Self.loginCookie]?.string, address: address)
            let (value, session) = try await services.sessions.open(idNat: idNat, idToken: idToken, address: address)
            let response = PortalViews.seeOther("/portail", on: request)
            response.cookies[Self.sessionCookie] = cookie(value, maxAge: Int(session.expiresAt.timeIntervalSince(services.clock.now())), path: "/")
            response.cookies[Self.loginCookie] = cookie("", maxAge: 0, path: "/portail")
            return response
        } catch let error as PortalLoginError {
            request.logger.notice("portal login refused", metadata: ["code": "\(error.code)", "reason": "\(error.reason)"])
            return try await message(
                "Connexion impossible", "La connexion n'a pas abouti. Recommencez depuis la page d'accueil.", status: .badRequest, on: request)
        } catch let error as OIDCError {
            request.logger.notice("portal login refused", metadata: ["code": "\(error.code)", "reason": "\(error.reason)"])
            return try await message(
                "Connexion impossible", "La connexion n'a pas abouti. Recommencez depuis la page d'accueil.", status: .badRequest, on: request)
        }
    }

    private func logout(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        try checkCSRF(request, session)
        try await services.sessions.end(session)
        let response = PortalViews.seeOther(services.relyingParty.endSessionURL(idToken: session.idToken), on: request)
        response.cookies[Self.sessionCookie] = cookie("", maxAge: 0, path: "/")
        return response
    }

    // MARK: The professional's space

    private func space(_ request: Request) async throws -> Response {
        guard let session = try await session(request) else { return PortalViews.seeOther("/", on: request) }
        let actor = CardActor.holder(session.idNat)
        let now = services.clock.now()
        var context = frame("Mon espace", session)
        if let stored = try await services.registry.professionalIfAny(session.idNat) {
            let professional = stored.professional
            context.identity = IdentityView(
                idNat: professional.idNat.value, civilite: professional.civilite ?? "", name: "\(professional.firstName) \(professional.lastName)",
                professions: professional.exercises.map(\.profession.label),
                addresses: professional.allActivities.map(\.activity.address).map(IdentityView.addressLine))
        }
        let cards = try await services.cards.reading.cards(of: session.idNat, actor: actor)
        // Cards once made, whatever became of them; orders still on their way.
        let issued = cards.filter { $0.manufacture != nil }
        context.cards = issued.map(CardView.init)
        context.orders = cards.filter { $0.manufacture == nil && !$0.state.isTerminal }.map(CardView.init)
        let today = CivilDate(now)
        context.reminders = issued.compactMap { card in
            guard card.state == .active, let manufacture = card.manufacture,
                  RenewalSchedule(expiresOn: manufacture.expiresOn).windowOpensOn.daysSinceEpoch <= today.daysSinceEpoch else { return nil }
            return "Votre \(card.kind.frenchLabel) n° \(manufacture.serial.value) expire le \(French.date(manufacture.expiresOn)) : pensez à la renouveler."
        }
        context.devices = try await services.devices.devices(holder: session.idNat).map { DeviceView($0, now: now) }
        context.hasCards = !context.cards.isEmpty
        context.hasOrders = !context.orders.isEmpty
        context.hasDevices = !context.devices.isEmpty
        context.hasReminders = !context.reminders.isEmpty
        // The way to the staff pages, for a person the platform gives a staff role (the staff
        // table, an active CDE/CDA card); the staff pages check the role again on every request.
        context.isStaff = try await !services.staff.roles(of: session.idNat).isEmpty
        context.notice = (try? request.query.get(String.self, at: "fait")).flatMap(Self.notices)
        return try await PortalViews.render("space", context, on: request)
    }

    /// The confirmations a finished action leaves on the space's page (`?fait=`).
    private static func notices(_ key: String) -> String? {
        switch key {
        case "opposition": "Votre carte est bloquée : l'opposition est enregistrée et une carte de remplacement est commandée."
        case "appareil": "L'appareil e-CPS est révoqué : il ne peut plus approuver de connexion."
        case "adresse": "Votre adresse postale est enregistrée."
        default: nil
        }
    }

    private func lossConfirmation(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        guard let card = try await ownCard(request, session) else { return try await notFound(request, session) }
        var context = frame("Déclarer la perte ou le vol de ma carte", session)
        context.card = CardView(card)
        return try await PortalViews.render("loss", context, on: request)
    }

    /// The card's history from the audit log: every transition and use, with who did it.
    private func history(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        guard let card = try await ownCard(request, session) else { return try await notFound(request, session) }
        let entries = try await services.cards.reading.history(card.id, actor: .holder(session.idNat))
        var context = frame("Historique de ma carte", session)
        context.card = CardView(card)
        context.history = entries.reversed().map { HistoryView($0, holder: session.idNat) }
        context.hasHistory = !context.history.isEmpty
        return try await PortalViews.render("history", context, on: request)
    }

    private struct LossForm: Content {
        var csrf: String?
        var motif: String?
    }

    private func declareLoss(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        try checkCSRF(request, session)
        guard let card = try await ownCard(request, session) else { return try await notFound(request, session) }
        let form = try request.content.decode(LossForm.self)
        guard let motif = form.motif, ["perte", "vol"].contains(motif) else {
            var context = frame("Erreur — Déclarer la perte ou le vol de ma carte", session)
            context.card = CardView(card)
            context.message = "Indiquez s'il s'agit d'une perte ou d'un vol."
            return try await PortalViews.render("loss", context, status: .badRequest, on: request)
        }
        do {
            _ = try await services.cards.blocking.oppose(
                card.id, reason: motif == "vol" ? "vol déclaré sur le portail" : "perte déclarée sur le portail", actor: .holder(session.idNat))
        } catch let error as CardLifecycleError {
            request.logger.notice("portal opposition refused", metadata: ["code": "\(error.code)"])
            return try await message(
                "Opposition impossible", "Cette carte ne peut pas faire l'objet d'une opposition dans son état actuel.", status: .conflict,
                on: request, session: session)
        }
        return PortalViews.seeOther("/portail?fait=opposition", on: request)
    }

    private func revokeDevice(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        try checkCSRF(request, session)
        do {
            // The service refuses a device of another holder as unknown.
            _ = try await services.devices.revoke(deviceID: request.parameters.get("device") ?? "", holder: session.idNat)
        } catch is ECPSRuleError {
            return try await notFound(request, session)
        }
        return PortalViews.seeOther("/portail?fait=appareil", on: request)
    }

    // MARK: Helpers

    /// The card named in the URL, if the service lets the logged-in holder see it.
    func ownCard(_ request: Request, _ session: PortalSession) async throws -> Card? {
        let id = request.parameters.get("card") ?? ""
        do {
            return try await services.cards.reading.file(id, actor: .holder(session.idNat)).card
        } catch is CardLifecycleError {
            return nil
        } catch let error as any DomainError where error.code == "registry.not-found" {
            // An unknown card answers like another holder's: nothing to see.
            return nil
        }
    }

    /// The open session, if any (``PortalSessions/session(of:)``).
    func session(_ request: Request) async throws -> PortalSession? {
        try await services.sessions.session(of: request)
    }

    /// The session, or a 401 page inviting to log in.
    func requireSession(_ request: Request) async throws -> PortalSession {
        try await services.sessions.requireSession(of: request)
    }

    /// Refuses a form whose CSRF token is missing or wrong (403 page).
    func checkCSRF(_ request: Request, _ session: PortalSession) throws {
        try PortalCSRF.check(request, session)
    }

    func frame(_ title: String, _ session: PortalSession) -> PageContext {
        var context = PageContext(title: title)
        context.csrf = session.csrfToken
        context.loggedIn = true
        return context
    }

    func notFound(_ request: Request, _ session: PortalSession) async throws -> Response {
        try await message("Page introuvable", "Cette page n'existe pas ou ne vous concerne pas.", status: .notFound, on: request, session: session)
    }

    func message(_ title: String, _ text: String, status: HTTPStatus, on request: Request, session: PortalSession? = nil) async throws -> Response {
        var context = session.map { frame(title, $0) } ?? PageContext(title: title)
        context.message = text
        return try await PortalViews.render("message", context, status: status, on: request)
    }

    private func cookie(_ value: String, maxAge: Int, path: String) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, expires: maxAge == 0 ? Date(timeIntervalSince1970: 0) : nil, maxAge: maxAge, path: path,
            isSecure: services.sessions.settings.secureCookies, isHTTPOnly: true, sameSite: .lax)
    }
}

/// A refusal the portal answers with a page (401, 403), thrown from the checks.
struct PortalPageError: Error {
    var status: HTTPStatus
    var title: String
    var text: String
}
