import Foundation
import OpenCPSDomain

/// What a portal or login page shows. One shape for every template keeps the layout's
/// fields (title, CSRF token) in one place; each page fills what it uses.
struct PageContext: Encodable {
    /// The page's title (before " — OpenCPS").
    var title: String
    /// The session's CSRF token, for the forms (logout included) of a logged-in page.
    var csrf: String?
    /// Whether a professional is logged in (the header shows the logout button).
    var loggedIn = false
    /// A sentence shown at the top, such as a confirmation.
    var notice: String?
    /// An error for the page as a whole.
    var message: String?

    // Login pages.
    var clientName: String?
    var challengeId: String?
    var idNat: String?
    var idNatError: String?
    var requestId: String?
    var bindingMessage: String?

    // The professional's space.
    var identity: IdentityView?
    var cards: [CardView] = []
    var hasCards = false
    var orders: [CardView] = []
    var hasOrders = false
    var devices: [DeviceView] = []
    var hasDevices = false
    var reminders: [String] = []
    var hasReminders = false
    var card: CardView?
    var history: [HistoryView] = []
    var hasHistory = false
    /// Whether the person holds a staff role: the space then links to `/portail/agent`.
    var isStaff = false

    init(title: String) {
        self.title = title
    }
}

/// The professional as the registry holds them.
struct IdentityView: Encodable {
    var idNat: String
    var civilite: String
    var name: String
    var professions: [String]
    /// The postal address of each activity, on one line.
    var addresses: [String]

    static func addressLine(_ address: PostalAddress?) -> String {
        guard let address, !address.isEmpty else { return "non renseignée" }
        return [address.line, [address.postalCode, address.city].compactMap { $0 }.joined(separator: " ")].compactMap { $0 }.joined(separator: ", ")
    }
}

/// A card or an order, in French.
struct CardView: Encodable {
    var id: String
    var kind: String
    var state: String
    var serial: String
    var expiresOn: String
    var dueOn: String
    var express: Bool
    var canDeclareLoss: Bool

    init(_ card: Card) {
        id = card.id
        kind = card.kind.frenchLabel
        state = card.state.frenchLabel
        serial = card.manufacture.map { $0.serial.value } ?? ""
        expiresOn = card.manufacture.map { French.date($0.expiresOn) } ?? ""
        dueOn = card.dueOn.map(French.date) ?? ""
        express = card.isExpress
        canDeclareLoss = (try? card.state.applying(.oppose)) != nil
    }
}

/// An e-CPS device.
struct DeviceView: Encodable {
    var id: String
    var label: String
    var status: String
    var enrolledOn: String
    var expiresOn: String
    var active: Bool

    init(_ device: ECPSDevice, now: Date) {
        id = device.id
        label = device.label
        let status = device.status(at: now)
        self.status = switch status {
        case .active: "Actif"
        case .expired: "Expiré"
        case .revoked: "Révoqué"
        }
        enrolledOn = French.date(CivilDate(device.enrolledAt))
        expiresOn = French.date(CivilDate(device.expiresAt))
        active = status == .active
    }
}

/// One line of a card's history, in French.
struct HistoryView: Encodable {
    var when: String
    var what: String
    var who: String

    init(_ entry: AuditEntry, holder: IdNat) {
        when = French.timestamp(entry.recordedAt)
        let name = entry.action.hasPrefix("card.") ? String(entry.action.dropFirst(5)) : entry.action
        what = Self.actions[name] ?? name
        // A staff member's own idNat (`;person:`) is for the audit, not for the holder's page.
        let role = entry.actor.split(separator: ";").first.map(String.init) ?? entry.actor
        who = switch role {
        case CardActor.holder(holder).auditName: "Vous"
        case "platform": "La plateforme"
        case "helpdesk": "Le guichet unique"
        case "ars": "L'agence régionale de santé"
        case let actor where actor.hasPrefix("ordre:"): "L'ordre (\(actor.dropFirst(6)))"
        case let actor where actor.hasPrefix("manager:"): "Le responsable de la structure"
        case let actor where actor.hasPrefix("operator:"): "L'opérateur des cartes"
        default: role
        }
    }

    /// The card's transitions and uses, in French.
    static let actions: [String: String] = [
        "order": "Commande", "request_documents": "Pièces justificatives demandées", "submit_documents": "Pièces justificatives déposées",
        "submit_for_validation": "Dossier soumis à validation", "validate": "Dossier validé", "reject": "Dossier refusé",
        "resubmit": "Dossier soumis de nouveau", "start_manufacture": "Fabrication", "manufacture": "Fabrication", "fail_manufacture": "Échec de fabrication",
        "ship": "Expédition", "deliver": "Remise", "activate": "Activation", "suspend": "Suspension", "reinstate": "Remise en service",
        "oppose": "Opposition (perte ou vol)", "revoke": "Révocation", "expire": "Expiration", "supersede": "Remplacement",
        "express": "Passage en urgence", "document": "Pièce justificative déposée", "pin-verify": "Vérification du code PIN",
        "pin-change": "Changement du code PIN", "pin-unblock": "Déblocage du code PIN",
    ]
}

/// Dates as a French reader writes them.
enum French {
    static func date(_ date: CivilDate) -> String {
        String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
    }

    /// A stored timestamp (ISO 8601, UTC) as `dd/MM/yyyy HH:mm UTC`; anything else as it is.
    static func timestamp(_ text: String) -> String {
        let parts = text.split(separator: "T")
        guard parts.count == 2, let day = try? CivilDate(String(parts[0])) else { return text }
        return "\(date(day)) \(parts[1].prefix(5)) UTC"
    }
}
