import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The validating instance's queue (an order, a regional agency, an establishment manager):
/// the files waiting for its decision, overdue ones first, a file with its documents, and
/// the decision, validate or reject with a reason.
extension StaffPortalController {
    func queue(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        guard !staff.role.isDesk else { return PortalViews.seeOther(RoleView(staff.role).href, on: request) }
        let items = try await acting(staff) { [services] in try await services.cards.instances.queue(actor: staff.role) }
        var context = frame("Dossiers à traiter", staff)
        context.files = items.map { FileRowView($0.card, overdue: $0.isOverdue) }
        context.hasFiles = !context.files.isEmpty
        context.notice = (try? request.query.get(String.self, at: "fait")).flatMap(Self.notices)
        return try await PortalViews.render("staff/queue", context, on: request)
    }

    /// The confirmations a finished action leaves on the next page (`?fait=`).
    static func notices(_ key: String) -> String? {
        switch key {
        case "validation": "Le dossier est validé : la carte part en fabrication."
        case "refus": "Le dossier est refusé ; le demandeur voit le motif et peut le compléter."
        case "urgence": "Le dossier passe en urgence : sa date prévue est recalculée."
        case "opposition": "L'opposition est enregistrée : la carte est bloquée et une carte de remplacement est commandée."
        case "temporaire": "La carte temporaire est commandée."
        case "commande": "La commande est enregistrée. Ajoutez les pièces justificatives puis envoyez le dossier."
        case "piece": "La pièce est ajoutée au dossier."
        case "envoi": "Le dossier est envoyé : il attend votre validation."
        default: nil
        }
    }

    /// A file with its documents and what the role may do on it.
    func file(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        var context = try await fileContext(request, staff, title: "Dossier")
        context.notice = (try? request.query.get(String.self, at: "fait")).flatMap(Self.notices)
        return try await PortalViews.render("staff/file", context, on: request)
    }

    /// The file page's context, read as the role (a file out of scope is the 404 page).
    func fileContext(_ request: Request, _ staff: Staff, title: String) async throws -> StaffPageContext {
        let id = request.parameters.get("file") ?? ""
        let file = try await acting(staff) { [services] in try await services.cards.reading.file(id, actor: staff.role) }
        let name = try await services.registry.professionalIfAny(file.card.holder).map { "\($0.professional.firstName) \($0.professional.lastName)" } ?? ""
        var context = frame("\(title) \(file.card.kind.code) de \(file.card.holder.value)", staff)
        let view = FileView(file, holderName: name, role: staff.role, roleKey: staff.key)
        context.file = view
        if view.canAddDocuments {
            let required = try await acting(staff) { [services] in try await services.cards.reading.requiredDocuments(id, actor: staff.role) }
            context.uploadAction = "/portail/agent/\(staff.key)/dossiers/\(file.card.id)/pieces"
            context.kinds = PortalDocumentForm.choices(required: required)
            context.maximumSize = "\(services.cards.settings.documentPolicy.maximumByteCount / (1024 * 1024)) Mio"
        }
        return context
    }

    /// A document, shown in the browser: its stored content type, inline, and a policy that
    /// lets nothing in it run.
    func document(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        let fileID = request.parameters.get("file") ?? "", documentID = request.parameters.get("document") ?? ""
        let (document, content) = try await acting(staff) { [services] in
            try await services.cards.instances.document(documentID, of: fileID, actor: staff.role)
        }
        let response = Response(status: .ok, body: .init(data: Data(content)))
        response.headers.replaceOrAdd(name: .contentType, value: document.mediaType)
        response.headers.replaceOrAdd(name: .contentDisposition, value: "inline; filename=\"\(document.kind)-\(document.id.prefix(8)).\(Self.fileExtension(document.mediaType))\"")
        response.headers.replaceOrAdd(name: "Content-Security-Policy", value: Self.documentPolicy)
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// A document's policy: nothing loads, nothing runs, no form goes anywhere, never framed.
    static let documentPolicy = "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"

    private static func fileExtension(_ mediaType: String) -> String {
        switch mediaType {
        case "application/pdf": "pdf"
        case "image/jpeg": "jpg"
        case "image/png": "png"
        default: "bin"
        }
    }

    private struct DecisionForm: Content {
        var csrf: String?
        var motif: String?
    }

    func validate(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        try checkCSRF(request, staff)
        let id = request.parameters.get("file") ?? ""
        return try await perform(staff, on: request) { [services] in
            _ = try await services.cards.ordering.validate(id, actor: staff.role)
            return "/portail/agent/\(staff.key)/dossiers?fait=validation"
        }
    }

    func reject(_ request: Request) async throws -> Response {
        let staff = try await requireStaff(request)
        try checkCSRF(request, staff)
        let id = request.parameters.get("file") ?? ""
        let reason = (try request.content.decode(DecisionForm.self).motif ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            // Read first, so that a file out of scope stays a 404 whatever the form says.
            var context = try await fileContext(request, staff, title: "Erreur — Dossier")
            context.reasonError = "Indiquez le motif du refus : le demandeur le verra pour compléter son dossier."
            return try await PortalViews.render("staff/file", context, status: .badRequest, on: request)
        }
        return try await perform(staff, on: request) { [services] in
            _ = try await services.cards.ordering.reject(id, reason: reason, actor: staff.role)
            return "/portail/agent/\(staff.key)/dossiers?fait=refus"
        }
    }

    /// Runs an action on a file as the role and sends the browser to the page `work` names;
    /// a refusal of the services about the file's state is the conflict page, a file out of
    /// the role's scope the 404 page (``acting(_:_:)``).
    func perform(_ staff: Staff, on request: Request, _ work: @Sendable () async throws -> String) async throws -> Response {
        let next: String
        do {
            next = try await acting(staff, work)
        } catch let error as CardLifecycleError {
            return try await conflict(error, staff, on: request)
        }
        return PortalViews.seeOther(next, on: request)
    }

    /// A refusal of the services about the file's state (not about who asks), as a page.
    func conflict(_ error: CardLifecycleError, _ staff: Staff, on request: Request) async throws -> Response {
        request.logger.notice("staff action refused", metadata: ["code": "\(error.code)"])
        let text = switch error.code {
        case "card.documents-missing", "card.incomplete": "Le dossier est incomplet : il manque des pièces justificatives."
        case "card.express-too-late": "Ce dossier a dépassé l'étape où l'urgence aide (la carte est déjà partie)."
        case "card.temporary-not-salaried": "Une carte temporaire est réservée au personnel salarié de la structure ; cette personne attend sa carte de remplacement."
        default: "Cette action n'est pas possible dans l'état actuel du dossier."
        }
        return try await refusal("Action impossible", text, status: .conflict, staff, on: request)
    }
}

extension CardActor {
    /// Whether the role is a desk (the help desk) rather than an instance with a queue.
    var isDesk: Bool { self == .helpDesk }
}
