import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The establishment manager's space: the structure's staff as the registry has them, with
/// their CPE/CPA cards and orders; ordering a card for one of them; the temporary card after
/// an opposition. The services decide who works there (the registry) and what the manager
/// may do.
extension StaffPortalController {
    func staffList(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        guard case .establishmentManager = staff.role else { return PortalViews.seeOther(RoleView(staff.role).href, on: request) }
        var context = try await staffContext(staff, title: "Mon personnel")
        context.notice = (try? request.query.get(String.self, at: "fait")).flatMap(Self.notices)
        return try await PortalViews.render("staff/staff", context, on: request)
    }

    private func staffContext(_ staff: Staff, title: String) async throws -> StaffPageContext {
        let members = try await acting(staff) { [services] in try await services.cards.instances.staff(actor: staff.role) }
        var context = frame(title, staff)
        context.staff = members.map(StaffMemberView.init)
        context.hasStaff = !context.staff.isEmpty
        return context
    }

    private struct OrderForm: Content {
        var csrf: String?
        var idNat: String?
        var type: String?
    }

    /// Orders a CPE (establishment) or CPA (other structure) for a person of the structure.
    func orderStaffCard(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        try checkCSRF(request, staff)
        guard case .establishmentManager(let structure) = staff.role else { throw Self.notStaff }
        let form = try request.content.decode(OrderForm.self)
        let text = (form.idNat ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let kind: CardKind = form.type == "cpa" ? .cpa : .cpe
        func refused(_ error: String) async throws -> Response {
            var context = try await staffContext(staff, title: "Erreur — Mon personnel")
            context.idNat = text
            context.idNatError = error
            return try await PortalViews.render("staff/staff", context, status: .badRequest, on: request)
        }
        guard let idNat = try? IdNat(text) else {
            return try await refused("Indiquez l'identifiant national de la personne (RPPS à 11 chiffres ou ADELI).")
        }
        let card: Card
        do {
            card = try await services.staff.acting(staff.person, as: staff.role) { [services] in
                try await services.cards.ordering.apply(
                    idNat: idNat, kind: kind, professionCode: nil, structureID: structure.idNatStruct, actor: staff.role)
            }
        } catch let error as any DomainError where ["card.forbidden", "registry.not-found"].contains(error.code) {
            // The registry does not place the person in the structure: said without telling
            // whether the person exists.
            return try await refused("Le répertoire ne montre aucune activité de cette personne dans votre structure.")
        } catch let error as CardLifecycleError {
            return try await conflict(error, staff, on: request)
        }
        return PortalViews.seeOther("/portail/agent/\(staff.key)/dossiers/\(card.id)?fait=commande", on: request)
    }

    /// A temporary card for a salaried person of the structure whose card is opposed.
    func issueTemporaryCard(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        try checkCSRF(request, staff)
        let id = request.parameters.get("file") ?? ""
        return try await perform(staff, on: request) { [services] in
            let card = try await services.cards.blocking.issueTemporaryCard(for: id, actor: staff.role)
            return "/portail/agent/\(staff.key)/dossiers/\(card.id)?fait=temporaire"
        }
    }

    /// Adds a document to a staff order, as the manager (the services check the scope and the
    /// state; a file out of scope is the 404 page); the errors are tied to their fields.
    func addOrderDocument(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        var form = try PortalDocumentForm(request, session: staff.session)
        // Read first, so that a file out of scope stays a 404 whatever the form holds.
        var context = try await fileContext(request, staff, title: "Dossier")
        guard let file = context.file, file.canAddDocuments else {
            return try await refusal("Action impossible", "Ce dossier ne reçoit pas de pièces de votre part dans son état actuel.", status: .conflict, staff, on: request)
        }
        let id = file.id
        let added = try await form.add(maximum: services.cards.settings.documentPolicy.maximumByteCount) { [services] kind, mediaType, content in
            _ = try await acting(staff) {
                try await services.cards.ordering.addDocument(to: id, kind: kind, mediaType: mediaType, content: content, actor: staff.role)
            }
        }
        if added { return PortalViews.seeOther("/portail/agent/\(staff.key)/dossiers/\(id)?fait=piece", on: request) }
        context.title = "Erreur — " + context.title
        context.selectedKind = form.selectedKind
        context.kindError = form.kindError
        context.fileError = form.fileError
        return try await PortalViews.render("staff/file", context, status: .badRequest, on: request)
    }

    /// Sends a complete staff order to its instance (the manager's own queue for a CPE or CPA).
    func sendOrder(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        try checkCSRF(request, staff)
        let id = request.parameters.get("file") ?? ""
        return try await perform(staff, on: request) { [services] in
            _ = try await services.cards.ordering.submit(id, actor: staff.role)
            return "/portail/agent/\(staff.key)/dossiers/\(id)?fait=envoi"
        }
    }
}
