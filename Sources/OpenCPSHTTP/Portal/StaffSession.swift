import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The staff pages at `/portail/agent`: the validating instances' queue, the help desk and
/// the establishment manager's space. Staff log in like any professional (the provider, e-CPS
/// or card); what they may do comes from the platform (``StaffDirectory``), never from the
/// browser: the role in the URL is only a choice among the roles the person holds, checked
/// on every request. Every action goes through the card services with that role as the
/// actor, inside ``StaffDirectory/acting(_:as:_:)``, so the services decide the scope and the
/// audit log names the role and the person.
public struct StaffPortalController: Sendable {
    /// The services the staff pages call.
    public struct Services: Sendable {
        /// Portal sessions (the same as the professional's pages).
        public var sessions: PortalSessions
        /// Who holds which staff role.
        public var staff: StaffDirectory
        /// The card services.
        public var cards: CardServices
        /// The registry.
        public var registry: RegistryService
        /// The clock.
        public var clock: any WallClock

        /// Groups the services.
        public init(sessions: PortalSessions, staff: StaffDirectory, cards: CardServices, registry: RegistryService, clock: any WallClock) {
            self.sessions = sessions
            self.staff = staff
            self.cards = cards
            self.registry = registry
            self.clock = clock
        }
    }

    let services: Services

    /// Creates the controller.
    public init(services: Services) {
        self.services = services
    }

    /// Registers `/portail/agent/...`.
    public func register(on routes: any RoutesBuilder) {
        let staff = routes.grouped(PortalHeadersMiddleware()).grouped("portail", "agent")
        staff.get { request in try await roles(request) }
        staff.get(":role") { request in try await roleHome(request) }
        staff.get(":role", "dossiers") { request in try await queue(request) }
        staff.get(":role", "dossiers", ":file") { request in try await file(request) }
        staff.post(":role", "dossiers", ":file", "validation") { request in try await validate(request) }
        staff.post(":role", "dossiers", ":file", "refus") { request in try await reject(request) }
        staff.post(":role", "dossiers", ":file", "urgence") { request in try await moveToExpress(request) }
        staff.get(":role", "dossiers", ":file", "opposition") { request in try await oppositionConfirmation(request) }
        staff.post(":role", "dossiers", ":file", "opposition") { request in try await declareOpposition(request) }
        staff.post(":role", "dossiers", ":file", "carte-temporaire") { request in try await issueTemporaryCard(request) }
        staff.get(":role", "guichet") { request in try await helpDesk(request) }
        staff.get(":role", "personnel") { request in try await staffList(request) }
        staff.post(":role", "commandes") { request in try await orderStaffCard(request) }
        // A staff order's documents, read by the server's own multipart reader as the applicant's are.
        staff.on(.POST, ":role", "dossiers", ":file", "pieces", body: .collect(maxSize: "12mb")) { request in try await addOrderDocument(request) }
        staff.post(":role", "dossiers", ":file", "envoi") { request in try await sendOrder(request) }
        // A document is not a page: its own headers (its content type, inline, a CSP that
        // forbids everything active), and refusals as pages.
        routes.grouped(StaffDocumentMiddleware()).get("portail", "agent", ":role", "dossiers", ":file", "pieces", ":document") { request in
            try await document(request)
        }
    }

    // MARK: Who acts

    /// The logged-in person and the role the URL names, which they must hold.
    struct Staff: Sendable {
        var session: PortalSession
        var role: CardActor
        var roles: [CardActor]
        var person: IdNat { session.idNat }
        var key: String { StaffRoleKey.key(role) }
    }

    /// The session, or a 401 page inviting to log in.
    func requireSession(_ request: Request) async throws -> PortalSession {
        try await services.sessions.requireSession(of: request)
    }

    /// The 403 page of a professional without the staff role asked for.
    static let notStaff = PortalPageError(
        status: .forbidden, title: "Accès réservé",
        text: "Ces pages sont réservées aux agents des instances, au guichet unique et aux responsables de structure.")

    /// The logged-in person acting in the role of the URL, refused with a 403 page unless the
    /// platform gives it to them.
    func requireStaff(_ request: Request) async throws -> Staff {
        let session = try await requireSession(request)
        let roles = try await services.staff.roles(of: session.idNat)
        guard let role = StaffRoleKey.role(request.parameters.get("role") ?? ""), roles.contains(role) else { throw Self.notStaff }
        return Staff(session: session, role: role, roles: roles)
    }

    /// Refuses a form whose CSRF token is missing or wrong (403 page).
    func checkCSRF(_ request: Request, _ staff: Staff) throws {
        try PortalCSRF.check(request, staff.session)
    }

    /// Runs `work` as the person in their role (audited as both). A file out of the role's
    /// scope, or unknown, becomes the 404 page: nothing of it is shown.
    func acting<T: Sendable>(_ staff: Staff, _ work: @Sendable () async throws -> T) async throws -> T {
        do {
            return try await services.staff.acting(staff.person, as: staff.role, work)
        } catch is StaffError {
            throw Self.notStaff
        } catch let error as any DomainError where error.code == "card.forbidden" || error.code == "registry.not-found" {
            throw PortalPageError(status: .notFound, title: "Page introuvable", text: "Cette page n'existe pas ou ne vous concerne pas.")
        }
    }

    // MARK: Pages

    /// The role chooser: every role the person holds, with where it leads.
    private func roles(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        let roles = try await services.staff.roles(of: session.idNat)
        guard !roles.isEmpty else { throw Self.notStaff }
        var context = StaffPageContext(title: "Espace agent", csrf: session.csrfToken)
        context.roles = roles.map(RoleView.init)
        return try await PortalViews.render("staff/roles", context, on: request)
    }

    /// A role's first page.
    private func roleHome(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        return PortalViews.seeOther(RoleView(staff.role).href, on: request)
    }

    /// The page's frame for a staff member.
    func frame(_ title: String, _ staff: Staff) -> StaffPageContext {
        var context = StaffPageContext(title: title, csrf: staff.session.csrfToken)
        context.role = RoleView(staff.role)
        context.hasSeveralRoles = staff.roles.count > 1
        return context
    }

    /// A page of its own for a refusal that is not about the resource being hidden.
    func refusal(_ title: String, _ text: String, status: HTTPStatus, _ staff: Staff, on request: Request) async throws -> Response {
        var context = frame(title, staff)
        context.message = text
        return try await PortalViews.render("staff/message", context, status: status, on: request)
    }
}

/// A role in a URL: the audit log's name with `-` for `:` (`ordre-CNOM`, `ars-84`,
/// `manager-<idNatStruct>`, `helpdesk`). It only says which of their roles the person acts in.
enum StaffRoleKey {
    static func key(_ role: CardActor) -> String {
        role.auditName.split(separator: ";").first.map(String.init)?.replacingOccurrences(of: ":", with: "-") ?? ""
    }

    static func role(_ key: String) -> CardActor? {
        guard let dash = key.firstIndex(of: "-") else { return CardActor(auditName: key) }
        return CardActor(auditName: key[..<dash] + ":" + key[key.index(after: dash)...])
    }
}

/// Answers a document's refusals with the portal's pages, and adds the security headers to
/// pages; a document keeps the strict policy it was served with.
struct StaffDocumentMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let error as PortalPageError {
            var context = PageContext(title: error.title)
            context.message = error.text
            return try await PortalViews.render("message", context, status: error.status, on: request)
        }
    }
}
