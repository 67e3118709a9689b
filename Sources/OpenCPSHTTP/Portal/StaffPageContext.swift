import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// What a staff page shows. The layout's fields (`title`, `csrf`, `loggedIn`) are those of
/// ``PageContext``, so the staff pages share the portal's `base` template.
struct StaffPageContext: Encodable {
    var title: String
    var csrf: String?
    var loggedIn = true
    var notice: String?
    var message: String?

    /// The role acted in, and whether the person may switch to another.
    var role: RoleView?
    var hasSeveralRoles = false
    /// The role chooser.
    var roles: [RoleView] = []

    /// A queue, an overdue list or search results.
    var files: [FileRowView] = []
    var hasFiles = false
    var overdue: [FileRowView] = []
    var hasOverdue = false

    /// One file.
    var file: FileView?
    /// The help desk's search.
    var query: String?
    var searched = false

    /// A form's field errors, each tied to its field.
    var reasonError: String?
    var justificationError: String?
    var idNatError: String?
    var motifError: String?
    /// A form's values, kept after an error.
    var reason: String?
    var justification: String?
    var idNat: String?

    /// The manager's staff.
    var staff: [StaffMemberView] = []
    var hasStaff = false

    /// The upload form of a staff order (the same `document-form` template as the applicant's).
    var uploadAction: String?
    var kinds: [DocumentChoice] = []
    var selectedKind = ""
    var kindError: String?
    var fileError: String?
    var maximumSize: String?

    init(title: String, csrf: String?) {
        self.title = title
        self.csrf = csrf
    }
}

/// A role the person holds, in French, with its first page.
struct RoleView: Encodable {
    var key: String
    var label: String
    var href: String
    var isHelpDesk: Bool
    var isManager: Bool
    var isInstance: Bool

    init(_ role: CardActor) {
        key = StaffRoleKey.key(role)
        switch role {
        case .ordre(let ordre): label = "\(ordre.name) (\(ordre.abbreviation))"
        case .agenceRegionale(let region): label = "Agence régionale de santé — \(region.label)"
        case .establishmentManager(let structure): label = "Responsable de la structure \(structure.idNatStruct)"
        case .helpDesk: label = "Guichet unique"
        default: label = role.description
        }
        isHelpDesk = role == .helpDesk
        if case .establishmentManager = role { isManager = true } else { isManager = false }
        isInstance = !isHelpDesk
        let base = "/portail/agent/\(key)"
        href = isHelpDesk ? "\(base)/guichet" : isManager ? "\(base)/personnel" : "\(base)/dossiers"
    }
}

/// A file in a list.
struct FileRowView: Encodable {
    var id: String
    var holder: String
    var kind: String
    var state: String
    var dueOn: String
    var submittedOn: String
    var overdue: Bool
    var express: Bool

    init(_ card: Card, overdue: Bool) {
        id = card.id
        holder = card.holder.value
        kind = card.kind.frenchLabel
        state = card.state.frenchLabel
        dueOn = card.dueOn.map(French.date) ?? ""
        submittedOn = French.date(CivilDate(card.createdAt))
        self.overdue = overdue
        express = card.isExpress
    }
}

/// One file as staff see it, with what the role may do on it.
struct FileView: Encodable {
    var id: String
    var holder: String
    var holderName: String
    var kind: String
    var state: String
    var serial: String
    var dueOn: String
    var overdue: Bool
    var express: Bool
    var expressJustification: String
    var rejectionReason: String
    var diagnosis: String
    var missing: [String]
    var hasMissing: Bool
    var documents: [DocumentView]
    var hasDocuments: Bool
    var canDecide: Bool
    var canMoveToExpress: Bool
    var canOppose: Bool
    var canIssueTemporaryCard: Bool
    /// A staff order the manager documents and sends (the holder does not: it is the structure's card).
    var canAddDocuments: Bool

    init(_ file: CardFile, holderName: String, role: CardActor, roleKey: String) {
        let card = file.card
        id = card.id
        holder = card.holder.value
        self.holderName = holderName
        kind = card.kind.frenchLabel
        state = card.state.frenchLabel
        serial = card.manufacture?.serial.value ?? ""
        dueOn = card.dueOn.map(French.date) ?? ""
        overdue = file.isOverdue
        express = card.isExpress
        expressJustification = card.expressJustification ?? ""
        rejectionReason = card.rejectionReason ?? ""
        diagnosis = file.diagnosis
        missing = file.missingDocuments.map(\.frenchLabel)
        hasMissing = !missing.isEmpty
        documents = file.documents.map { DocumentView($0, href: "/portail/agent/\(roleKey)/dossiers/\(card.id)/pieces/\($0.id)") }
        hasDocuments = !documents.isEmpty
        let context = card.context
        canDecide = card.state == .awaitingValidation && CardAuthorization.isAllowed(role, .transition(.validate), on: context)
        canMoveToExpress = card.state.isBeforeShipping && !card.isExpress && CardAuthorization.isAllowed(role, .moveToExpress, on: context)
        canOppose = (try? card.state.applying(.oppose)) != nil && CardAuthorization.isAllowed(role, .declareOpposition, on: context)
        if case .establishmentManager = role {
            canIssueTemporaryCard = card.state == .opposed && !card.temporary
            canAddDocuments = card.acceptsDocuments && CardAuthorization.isAllowed(role, .transition(.submitDocuments), on: context)
        } else {
            canIssueTemporaryCard = false
            canAddDocuments = false
        }
    }
}

/// A document of a file.
struct DocumentView: Encodable {
    var kind: String
    var mediaType: String
    var size: String
    var uploadedAt: String
    var href: String

    init(_ document: CardDocument, href: String) {
        kind = DocumentKind(rawValue: document.kind)?.frenchLabel ?? document.kind
        mediaType = document.mediaType
        size = document.byteCount < 1024 ? "\(document.byteCount) octets" : "\(document.byteCount / 1024) Ko"
        uploadedAt = French.timestamp(document.uploadedAt)
        self.href = href
    }
}

/// A person of the manager's structure, with their staff cards.
struct StaffMemberView: Encodable {
    var idNat: String
    var name: String
    var salaried: Bool
    var cards: [FileRowView]
    var hasCards: Bool

    init(_ member: InstanceDesk.StaffMember) {
        idNat = member.professional.idNat.value
        name = "\(member.professional.firstName) \(member.professional.lastName)"
        salaried = member.isSalaried
        cards = member.cards.map { FileRowView($0, overdue: false) }
        hasCards = !cards.isEmpty
    }
}

extension PortalViews {
    /// Renders a staff page with the security headers.
    static func render(_ template: String, _ context: StaffPageContext, status: HTTPStatus = .ok, on request: Request) async throws -> Response {
        let view = try await request.view.render(template, context)
        let response = try await view.encodeResponse(status: status, for: request)
        secure(response)
        return response
    }
}
