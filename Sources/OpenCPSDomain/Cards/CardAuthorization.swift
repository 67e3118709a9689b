/// Who acts on a card.
public enum CardActor: Hashable, Sendable, CustomStringConvertible {
    /// The card's holder, or a professional ordering their own card.
    case holder(IdNat)
    /// A professional order, the instance for its profession's cards.
    case ordre(Ordre)
    /// A regional health agency (ARS), the instance for non-ordinal professions' cards of the
    /// professionals the registry places in its region (see ``CardAuthorization/checkRegion(_:holder:)``).
    case agenceRegionale(Region)
    /// The manager (CDE or CDA holder) of a structure, the instance for its staff's cards.
    case establishmentManager(StructureIdentifier)
    /// An operator of the single help desk (*guichet unique*).
    case helpDesk
    /// An operator of the agency that runs the card programme, in one role.
    case agencyOperator(AgencyOperatorRole)
    /// The platform itself: scheduled jobs and automatic consequences (expiry, supersession).
    case platform

    /// The actor in English, for reasons and logs, such as `order CNOM`.
    public var description: String {
        switch self {
        case .holder(let idNat): "holder \(idNat)"
        case .ordre(let ordre): "order \(ordre.abbreviation)"
        case .agenceRegionale(let region): "regional health agency of \(region.label)"
        case .establishmentManager(let structure): "manager of structure \(structure)"
        case .helpDesk: "help desk"
        case .agencyOperator(let role): "agency operator (\(role.rawValue))"
        case .platform: "platform"
        }
    }
}

/// The roles of the card agency's operators.
public enum AgencyOperatorRole: String, Hashable, Sendable, Codable, CaseIterable {
    /// Personalisation and dispatch: starts manufacture, records failures, ships, records delivery.
    case production
    /// Security: suspends, reinstates, declares opposition, revokes.
    case security
    /// Registration: the instance for managers' cards (CDE, CDA; see ``ValidatingInstance/cardAgency``).
    case registration
}

/// What an actor wants to do with a card.
public enum CardAction: Hashable, Sendable, CustomStringConvertible {
    /// See the card and its order file.
    case view
    /// Order a card (first card, renewal or replacement).
    case order
    /// Move an order to the express path.
    case moveToExpress
    /// Apply a lifecycle transition.
    case transition(CardTransition)

    /// Declare the card lost or stolen: the `oppose` transition.
    public static let declareOpposition = CardAction.transition(.oppose)

    /// The action's stable name: `view`, `order`, `move_to_express`, or the transition's name.
    public var description: String {
        switch self {
        case .view: "view"
        case .order: "order"
        case .moveToExpress: "move_to_express"
        case .transition(let transition): transition.rawValue
        }
    }
}

/// What the authorisation rules need to know about a card (or a card about to be ordered).
public struct CardContext: Hashable, Sendable {
    /// The holder's national identifier.
    public let holder: IdNat
    /// The card's kind.
    public let kind: CardKind
    /// The instance competent for the card's order.
    public let instance: ValidatingInstance

    /// Creates a context from its parts.
    public init(holder: IdNat, kind: CardKind, instance: ValidatingInstance) {
        self.holder = holder
        self.kind = kind
        self.instance = instance
    }

    /// Creates a context, finding the competent instance with
    /// ``ValidatingInstance/competent(for:profession:structure:)``.
    /// - Throws: ``CardLifecycleError`` with code `card.instance-undetermined`.
    public init(holder: IdNat, kind: CardKind, profession: Profession?, structure: StructureIdentifier?) throws(CardLifecycleError) {
        self.init(holder: holder, kind: kind, instance: try .competent(for: kind, profession: profession, structure: structure))
    }
}

/// The authorisation rules of cards, as pure functions.
///
/// - A holder acts only on their own cards: sees them, orders their CPS, CPF, CDE or CDA,
///   provides documents and resubmits that file, activates a card and declares its opposition.
/// - An instance (order, ARS, structure manager, or the registration operators for managers'
///   cards) acts only on the cards it is competent for: sees them, asks for documents,
///   validates, rejects and revokes; an order also places the automatic orders, and a
///   manager also orders its staff's cards, provides their documents and declares their
///   opposition (the authorised person for a non-nominative CPE).
/// - The help desk sees every file, declares oppositions and moves orders to the express path.
/// - Production operators make, ship and deliver; security operators suspend, reinstate,
///   declare oppositions and revoke; both see every card.
/// - The platform sees every card, expires cards and supersedes replaced ones.
///
/// Whether the card's state allows a transition is a separate question, answered by
/// ``CardState/applying(_:)``.
public enum CardAuthorization {
    /// Refuses an action the actor may not take on the card.
    /// - Parameters:
    ///   - actor: who acts.
    ///   - action: what they want to do.
    ///   - card: the card, or the card about to be ordered.
    /// - Throws: ``CardLifecycleError`` with code `card.forbidden`, saying who, what and why.
    public static func check(_ actor: CardActor, _ action: CardAction, on card: CardContext) throws(CardLifecycleError) {
        if let why = refusal(actor, action, on: card) {
            throw CardLifecycleError(
                code: "card.forbidden", reason: "\(actor) may not perform \"\(action)\" on this card: \(why)")
        }
    }

    /// Whether the actor may take the action on the card (to show or hide it in a portal).
    public static func isAllowed(_ actor: CardActor, _ action: CardAction, on card: CardContext) -> Bool {
        refusal(actor, action, on: card) == nil
    }

    /// Why the action is refused, or `nil` when it is allowed.
    private static func refusal(_ actor: CardActor, _ action: CardAction, on card: CardContext) -> String? {
        let notARight = "this is not a right of the \(actor.roleName)"
        switch actor {
        case .holder(let idNat):
            guard idNat == card.holder else { return "a holder acts only on their own cards" }
            return holderMay(action, kind: card.kind) ? nil : notARight
        case .ordre, .agenceRegionale, .establishmentManager, .agencyOperator(.registration):
            guard let instance = actor.instance, instance == card.instance else {
                return "the card is outside its scope"
            }
            return instanceMay(action, instance: instance) ? nil : notARight
        case .helpDesk:
            switch action {
            case .view, .moveToExpress, .transition(.oppose): return nil
            default: return notARight
            }
        case .agencyOperator(.production):
            switch action {
            case .view, .transition(.startManufacture), .transition(.failManufacture), .transition(.ship), .transition(.deliver):
                return nil
            default: return notARight
            }
        case .agencyOperator(.security):
            switch action {
            case .view, .transition(.suspend), .transition(.reinstate), .transition(.oppose), .transition(.revoke): return nil
            default: return notARight
            }
        case .platform:
            switch action {
            case .view, .transition(.expire), .transition(.supersede): return nil
            default: return notARight
            }
        }
    }

    private static func holderMay(_ action: CardAction, kind: CardKind) -> Bool {
        // Staff cards (CPE, CPA) are ordered and documented by the structure's manager.
        let ownsTheFile = kind != .cpe && kind != .cpa
        switch action {
        case .view, .transition(.activate), .transition(.oppose): return true
        case .order, .transition(.submitDocuments), .transition(.submitForValidation), .transition(.resubmit): return ownsTheFile
        default: return false
        }
    }

    private static func instanceMay(_ action: CardAction, instance: ValidatingInstance) -> Bool {
        switch action {
        case .view, .transition(.requestDocuments), .transition(.validate), .transition(.reject), .transition(.revoke):
            return true
        case .order, .transition(.submitForValidation):
            // Orders place automatic orders; managers order for their staff.
            switch instance {
            case .ordre, .establishmentManager: return true
            case .agenceRegionale, .cardAgency: return false
            }
        case .transition(.submitDocuments), .transition(.resubmit), .transition(.oppose):
            if case .establishmentManager = instance { return true }
            return false
        default:
            return false
        }
    }
}

extension CardAuthorization {
    /// Refuses a structure's manager acting for a person who does not work in that structure
    /// according to the registry: a manager orders staff cards, and temporary cards, for their
    /// own staff only.
    /// - Throws: ``CardLifecycleError`` with code `card.forbidden`.
    public static func checkStaff(_ actor: CardActor, holder: Professional) throws(CardLifecycleError) {
        guard case .establishmentManager(let structure) = actor else { return }
        let worksThere = holder.exercises.contains { exercise in exercise.activities.contains { $0.structure == structure } }
        guard worksThere else {
            throw CardLifecycleError(
                code: "card.forbidden",
                reason: "\(actor) may not act for \(holder.idNat): the registry shows no activity of theirs in structure \(structure)")
        }
    }
}

extension CardAuthorization {
    /// Refuses a regional health agency acting on the file of a professional whom the registry
    /// does not place in its region: none of their activities is in one of the region's
    /// departments (the activity's department, else its address's postal code). The reason names
    /// the agency's region and nothing of the file.
    /// - Parameter holder: the file's holder as the registry has them; nil when the registry does not know them.
    /// - Throws: ``CardLifecycleError`` with code `card.forbidden`.
    public static func checkRegion(_ actor: CardActor, holder: Professional?) throws(CardLifecycleError) {
        guard case .agenceRegionale(let region) = actor else { return }
        guard let holder, holder.regions.contains(region) else {
            throw CardLifecycleError(
                code: "card.forbidden", reason: "the regional health agency of \(region.label) acts only on files of its region")
        }
    }
}

extension Professional {
    /// The regions of the professional's activities: each activity's department, else the
    /// department of its address's postal code.
    public var regions: Set<Region> {
        Set(exercises.flatMap(\.activities).compactMap { activity in
            (activity.department ?? activity.address?.postalCode.flatMap { DepartmentCode(postalCode: $0) }).flatMap { Region(department: $0) }
        })
    }
}

extension CardAuthorization {
    /// Refuses a temporary card for someone who is not salaried staff of the establishment
    /// (DESIGN.md §1): the card is for limited internal use while the holder's card is
    /// replaced, and a libéral professional, or one who works elsewhere, waits for the
    /// replacement.
    /// - Parameters:
    ///   - holder: the holder of the opposed card, as the registry has them.
    ///   - structure: the establishment of the manager who issues it.
    /// - Throws: ``CardLifecycleError`` `card.forbidden` when the registry shows no activity of
    ///   the holder in the structure, `card.temporary-not-salaried` when none of them is salaried.
    public static func checkTemporaryCard(for holder: Professional, in structure: StructureIdentifier) throws(CardLifecycleError) {
        let activities = holder.exercises.flatMap(\.activities).filter { $0.structure == structure }
        guard !activities.isEmpty else {
            throw CardLifecycleError(
                code: "card.forbidden",
                reason: "the registry shows no activity of the card's holder in structure \(structure)")
        }
        guard activities.contains(where: { $0.mode == .salarie }) else {
            throw CardLifecycleError(
                code: "card.temporary-not-salaried",
                reason: "a temporary card is for the establishment's salaried staff; "
                    + "\(holder.idNat) is not salaried there and waits for the replacement card")
        }
    }
}

extension CardAuthorization {
    /// Refuses a production run (several files manufactured at once) to anyone but the
    /// production operators, before the run's list is read.
    /// - Throws: ``CardLifecycleError`` with code `card.forbidden`.
    public static func checkProductionRun(_ actor: CardActor) throws(CardLifecycleError) {
        guard case .agencyOperator(.production) = actor else {
            throw CardLifecycleError(code: "card.forbidden", reason: "production runs are the production operators'")
        }
    }
}

/// What an actor does across the cards rather than on one of them.
public enum CardDeskAction: String, Hashable, Sendable, CaseIterable {
    /// Search every file by idNat, serial or file identifier.
    case searchFiles = "search_files"
    /// List the files past their due date.
    case listOverdueFiles = "list_overdue_files"
}

extension CardAuthorization {
    /// Refuses a desk action to anyone but the help desk (*guichet unique*), which follows
    /// every file.
    /// - Throws: ``CardLifecycleError`` with code `card.forbidden`.
    public static func check(_ actor: CardActor, _ action: CardDeskAction) throws(CardLifecycleError) {
        guard case .helpDesk = actor else {
            let what = switch action {
            case .searchFiles: "the file search"
            case .listOverdueFiles: "the overdue list"
            }
            throw CardLifecycleError(code: "card.forbidden", reason: "\(what) is the help desk's")
        }
    }
}

extension CardActor {
    /// The instance the actor stands for, if it is one.
    var instance: ValidatingInstance? {
        switch self {
        case .ordre(let ordre): .ordre(ordre)
        case .agenceRegionale: .agenceRegionale
        case .establishmentManager(let structure): .establishmentManager(structure)
        case .agencyOperator(.registration): .cardAgency
        case .holder, .helpDesk, .agencyOperator, .platform: nil
        }
    }

    /// The role's name in reasons, without identifiers.
    var roleName: String {
        switch self {
        case .holder: "holder"
        case .ordre: "order"
        case .agenceRegionale: "regional health agency"
        case .establishmentManager: "structure manager"
        case .helpDesk: "help desk"
        case .agencyOperator(let role): "\(role.rawValue) operators"
        case .platform: "platform"
        }
    }
}
