import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// Applying for a card (issue 25, item 2): for a non-ordinal profession, the documents the
/// holder's profession and mode of activity require, their upload, what is sent and what is
/// missing, the submission, and the resubmission after a rejection with the instance's reason.
/// Everything goes through ``CardOrdering`` as the holder: the domain decides who may add a
/// document or submit, and when; the page says it in French.
extension PortalController {
    func registerApplicationPages(on portal: any RoutesBuilder) {
        portal.get("demandes") { request in try await applications(request) }
        portal.post("demandes") { request in try await apply(request) }
        portal.get("demandes", ":card") { request in try await applicationFile(request) }
        // The upload is read by the server's own multipart reader, never Vapor's decoder.
        portal.on(.POST, "demandes", ":card", "pieces", body: .collect(maxSize: "12mb")) { request in try await upload(request) }
        portal.post("demandes", ":card", "envoi") { request in try await submitApplication(request) }
    }

    // MARK: The list, and a new application

    private func applications(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        let page = try await applicationsPage(session)
        return try await PortalViews.renderPage("applications", page, on: request)
    }

    private func applicationsPage(_ session: PortalSession) async throws -> ApplicationsPage {
        let cards = try await services.cards.reading.cards(of: session.idNat, actor: .holder(session.idNat))
        let professional = try await services.registry.professionalIfAny(session.idNat)?.professional
        var page = ApplicationsPage(csrf: session.csrfToken)
        page.files = cards.filter { $0.manufacture == nil && !$0.state.isTerminal && !$0.kind.isStaffCard }.map(ApplicationSummary.init)
        // A card is applied for here for a non-ordinal profession without a card or a file
        // still going: an ordinal profession's card follows the order's registration.
        page.choices = (professional?.exercises ?? []).filter { exercise in
            !exercise.profession.isOrdinal && !cards.contains { $0.profession == exercise.profession && !$0.state.isTerminal && !$0.kind.isStaffCard }
        }.map { exercise in
            let mode = exercise.activities.first?.mode ?? .salarie
            return ApplicationChoice(
                code: exercise.profession.code, label: exercise.profession.label, mode: mode.label.lowercased(),
                documents: RequiredDocuments(kind: Self.kind(for: exercise), profession: exercise.profession, mode: mode, orderMode: .manual)
                    .kinds.map(\.frenchLabel).joined(separator: " ; "))
        }
        page.hasFiles = !page.files.isEmpty
        page.hasChoices = !page.choices.isEmpty
        return page
    }

    private static func kind(for exercise: Exercise) -> CardKind {
        exercise.categoryCode == "E" ? .cpf : .cps
    }

    private struct ApplyForm: Content {
        var profession: String?
    }

    private func apply(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        try checkCSRF(request, session)
        let form = try request.content.decode(ApplyForm.self)
        var page = try await applicationsPage(session)
        guard let code = form.profession, page.choices.contains(where: { $0.code == code }),
              let exercise = try await services.registry.professionalIfAny(session.idNat)?.professional.exercises.first(where: { $0.profession.code == code })
        else {
            page.title = "Erreur — " + page.title
            page.professionError = "Choisissez la profession pour laquelle vous demandez une carte."
            return try await PortalViews.renderPage("applications", page, status: .badRequest, on: request)
        }
        let card = try await services.cards.ordering.apply(
            idNat: session.idNat, kind: Self.kind(for: exercise), professionCode: code, structureID: nil, actor: .holder(session.idNat))
        return PortalViews.seeOther("/portail/demandes/\(card.id)?fait=demande", on: request)
    }

    // MARK: One file

    private func applicationFile(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        guard let page = try await filePage(request, session) else { return try await notFound(request, session) }
        return try await PortalViews.renderPage("application", page, on: request)
    }

    /// The file named in the URL, if the service lets the holder see it and it is one they apply for.
    private func filePage(_ request: Request, _ session: PortalSession) async throws -> ApplicationPage? {
        guard let card = try await ownCard(request, session), !card.kind.isStaffCard else { return nil }
        let actor = CardActor.holder(session.idNat)
        let file = try await services.cards.reading.file(card.id, actor: actor)
        let required = try await services.cards.reading.requiredDocuments(card.id, actor: actor)
        var page = ApplicationPage(
            file: file, required: required, csrf: session.csrfToken, maximumByteCount: services.cards.settings.documentPolicy.maximumByteCount)
        page.notice = (try? request.query.get(String.self, at: "fait")).flatMap(ApplicationPage.notices)
        return page
    }

    private func upload(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        var form = try PortalDocumentForm(request, session: session)
        guard var page = try await filePage(request, session) else { return try await notFound(request, session) }
        let (id, actor) = (page.id, CardActor.holder(session.idNat))
        let added = try await form.add(maximum: services.cards.settings.documentPolicy.maximumByteCount) { [services] kind, mediaType, content in
            _ = try await services.cards.ordering.addDocument(to: id, kind: kind, mediaType: mediaType, content: content, actor: actor)
        }
        if added { return PortalViews.seeOther("/portail/demandes/\(page.id)?fait=piece", on: request) }
        page.selectedKind = form.selectedKind
        page.kindError = form.kindError
        page.fileError = form.fileError
        page.title = "Erreur — " + page.title
        return try await PortalViews.renderPage("application", page, status: .badRequest, on: request)
    }

    private func submitApplication(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        try checkCSRF(request, session)
        guard var page = try await filePage(request, session) else { return try await notFound(request, session) }
        do {
            _ = try await services.cards.ordering.submit(page.id, actor: .holder(session.idNat))
        } catch let error as CardLifecycleError {
            request.logger.notice("portal submission refused", metadata: ["code": "\(error.code)"])
            page.title = "Erreur — " + page.title
            page.message = switch error.code {
            case "card.documents-missing": "Votre dossier est incomplet. Il manque : \(page.missing.joined(separator: " ; "))."
            default: "Ce dossier ne peut pas être envoyé dans son état actuel (\(page.state))."
            }
            return try await PortalViews.renderPage("application", page, status: .conflict, on: request)
        }
        return PortalViews.seeOther("/portail/demandes/\(page.id)?fait=envoi", on: request)
    }
}
