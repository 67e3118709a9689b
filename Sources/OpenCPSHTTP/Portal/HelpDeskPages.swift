import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The single help desk (*guichet unique*): search any file or card, see why it is stuck and
/// its due date, move it to the express path with its justification, declare an opposition
/// for a caller (with confirmation), and the overdue list. The opposition pages also serve
/// an establishment manager, for their staff's cards.
extension StaffPortalController {
    func helpDesk(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        guard staff.role.isDesk else { return PortalViews.seeOther(RoleView(staff.role).href, on: request) }
        let query = ((try? request.query.get(String.self, at: "q")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var context = frame("Guichet unique", staff)
        context.query = query
        let (found, overdue) = try await acting(staff) { [services] in
            let found = query.isEmpty ? [] : try await services.cards.helpDesk.findFiles(query, actor: staff.role)
            return (found, try await services.cards.helpDesk.overdueFiles(actor: staff.role))
        }
        context.searched = !query.isEmpty
        context.files = found.map { FileRowView($0.card, overdue: $0.isOverdue) }
        context.hasFiles = !context.files.isEmpty
        context.overdue = overdue.map { FileRowView($0, overdue: true) }
        context.hasOverdue = !context.overdue.isEmpty
        if context.searched { context.title = "Recherche « \(query) » — Guichet unique" }
        return try await PortalViews.render("staff/desk", context, on: request)
    }

    private struct ExpressForm: Content {
        var csrf: String?
        var justification: String?
    }

    func moveToExpress(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        try checkCSRF(request, staff)
        let id = request.parameters.get("file") ?? ""
        let justification = (try request.content.decode(ExpressForm.self).justification ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !justification.isEmpty else {
            var context = try await fileContext(request, staff, title: "Erreur — Dossier")
            context.justificationError = "Indiquez la justification de l'urgence (par exemple : prise de poste le 2 janvier, justificatif reçu)."
            return try await PortalViews.render("staff/file", context, status: .badRequest, on: request)
        }
        return try await perform(staff, on: request) { [services] in
            _ = try await services.cards.helpDesk.moveToExpress(id, justification: justification, actor: staff.role)
            return "/portail/agent/\(staff.key)/dossiers/\(id)?fait=urgence"
        }
    }

    /// The confirmation before an opposition: what happens, and loss or theft.
    func oppositionConfirmation(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        let context = try await fileContext(request, staff, title: "Opposition sur la carte")
        guard context.file?.canOppose == true else {
            return try await refusal("Opposition impossible", "Cette carte ne peut pas faire l'objet d'une opposition dans son état actuel.", status: .conflict, staff, on: request)
        }
        return try await PortalViews.render("staff/opposition", context, on: request)
    }

    private struct OppositionForm: Content {
        var csrf: String?
        var motif: String?
    }

    func declareOpposition(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        try checkCSRF(request, staff)
        let id = request.parameters.get("file") ?? ""
        guard let motif = try request.content.decode(OppositionForm.self).motif, ["perte", "vol"].contains(motif) else {
            var context = try await fileContext(request, staff, title: "Erreur — Opposition sur la carte")
            context.motifError = "Indiquez s'il s'agit d'une perte ou d'un vol."
            return try await PortalViews.render("staff/opposition", context, status: .badRequest, on: request)
        }
        let who = staff.role.isDesk ? "déclarée au guichet unique pour le porteur" : "déclarée par le responsable de la structure"
        return try await perform(staff, on: request) { [services] in
            _ = try await services.cards.blocking.oppose(id, reason: "\(motif == "vol" ? "vol" : "perte") \(who)", actor: staff.role)
            return "/portail/agent/\(staff.key)/dossiers/\(id)?fait=opposition"
        }
    }
}
