import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// "Changer mon adresse postale": the address of one of the holder's activities, the one
/// their card and PIN letter are shipped to, prefilled from the registry and saved through
/// ``RegistryService/changePostalAddress(of:activity:line:postalCode:city:expectedVersion:)``
/// as the holder.
extension PortalController {
    func registerAddressPages(on portal: any RoutesBuilder) {
        portal.get("adresse") { request in try await addressForm(request) }
        portal.post("adresse") { request in try await saveAddress(request) }
    }

    private func addressForm(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        let position = (try? request.query.get(Int.self, at: "activite")) ?? 0
        guard let stored = try await services.registry.professionalIfAny(session.idNat),
              let page = AddressPage(stored, position: position, session: session) else { return try await notFound(request, session) }
        return try await PortalViews.renderPage("address", page, on: request)
    }

    private struct AddressForm: Content {
        var activite: Int?
        var version: Int?
        var ligne: String?
        var codePostal: String?
        var commune: String?
    }

    private func saveAddress(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        try checkCSRF(request, session)
        let form = try request.content.decode(AddressForm.self)
        let position = form.activite ?? 0
        guard let stored = try await services.registry.professionalIfAny(session.idNat),
              var page = AddressPage(stored, position: position, session: session) else { return try await notFound(request, session) }
        do {
            _ = try await services.registry.changePostalAddress(
                of: session.idNat, activity: position, line: form.ligne, postalCode: form.codePostal, city: form.commune,
                expectedVersion: form.version)
        } catch let error as PostalAddressError {
            page.title = "Erreur — " + page.title
            page.line = FormField(value: form.ligne ?? "", error: error.message(for: .line))
            page.postalCode = FormField(value: form.codePostal ?? "", error: error.message(for: .postalCode))
            page.city = FormField(value: form.commune ?? "", error: error.message(for: .city))
            page.message = error.problems.count == 1 ? "Le formulaire contient une erreur." : "Le formulaire contient \(error.problems.count) erreurs."
            return try await PortalViews.renderPage("address", page, status: .badRequest, on: request)
        } catch let error as any DomainError where error.code == "registry.version-conflict" {
            page.message = "Votre fiche a été modifiée entre-temps : voici l'adresse enregistrée. Saisissez de nouveau la vôtre."
            return try await PortalViews.renderPage("address", page, status: .conflict, on: request)
        }
        return PortalViews.seeOther("/portail?fait=adresse", on: request)
    }
}

/// The address form of one activity, with the holder's other activities to choose from.
struct AddressPage: Encodable, Sendable {
    var title = "Changer mon adresse postale"
    var csrf: String
    var loggedIn = true
    /// An error for the form as a whole.
    var message: String?
    /// The activity's position and the record's version the form was filled from.
    var activity: Int
    var version: Int
    /// The activity, in French (profession, mode, structure).
    var activityLabel: String
    /// The holder's activities, when there is more than one to choose from.
    var choices: [Choice]
    var hasChoices: Bool
    var line: FormField
    var postalCode: FormField
    var city: FormField

    struct Choice: Encodable, Sendable {
        var position: Int
        var label: String
        var current: Bool
    }

    /// The page for the activity at `position`, or nil when the holder has no such activity.
    init?(_ stored: StoredProfessional, position: Int, session: PortalSession) {
        let activities = stored.professional.allActivities
        guard activities.indices.contains(position) else { return nil }
        let (_, activity) = activities[position]
        csrf = session.csrfToken
        self.activity = position
        version = stored.version
        activityLabel = Self.label(activities[position])
        choices = activities.enumerated().map { Choice(position: $0.offset, label: Self.label($0.element), current: $0.offset == position) }
        hasChoices = activities.count > 1
        line = FormField(value: activity.address?.line ?? "")
        postalCode = FormField(value: activity.address?.postalCode ?? "")
        city = FormField(value: activity.address?.city ?? "")
    }

    static func label(_ entry: (profession: Profession, activity: Activity)) -> String {
        [entry.profession.label, entry.activity.mode.label.lowercased(), entry.activity.structureName].compactMap { $0 }.filter { !$0.isEmpty }
            .joined(separator: ", ")
    }
}
