import Foundation

/// A card, from its order file to its end: the aggregate the card services load, change with
/// one transition and store again.
///
/// Every field is typed; the state changes only through ``apply(_:)`` (the table of
/// ``CardState``), and what the lifecycle asks of a card (is it in service, may it still take
/// documents, is it late) is answered here, not by comparing names.
public struct Card: Sendable, Equatable, Identifiable {
    /// The identifier of the file (a lowercase UUID), stable from the order to the card's end.
    public let id: String
    /// The holder.
    public var holder: IdNat
    /// CPS, CPF, CPE, CPA, CDE or CDA.
    public var kind: CardKind
    /// Where the card stands.
    public private(set) var state: CardState
    /// How it was ordered, why, and who validates it.
    public var order: CardOrder
    /// The profession the card is for (none for some managers' cards).
    public var profession: Profession?
    /// The structure: the employer of a staff card, the activity's structure otherwise.
    public var structure: StructureIdentifier?
    /// The emergency that put the file on the express path, if it is on it.
    public var expressJustification: String?
    /// Why the file was last rejected.
    public var rejectionReason: String?
    /// When the complete file was validated.
    public var validatedOn: CivilDate?
    /// When the card is due.
    public var dueOn: CivilDate?
    /// What the card carries once made: serial, validity, certificates, address.
    public var manufacture: CardManufacture?
    /// Whether it is a temporary card for internal use while the holder's card is replaced.
    public var temporary: Bool
    /// A digest of what the card carries (name, profession, structure), to tell when a
    /// registry change needs a new card.
    public var contentDigest: String?
    /// When the file was created. Stores keep it to the millisecond and keep their own text of
    /// it when they rewrite a card, so that a card read back compares equal to itself.
    public let createdAt: Date
    /// Incremented by every stored change; 1 for a new file.
    public var version: Int

    /// A new file in the `ordered` state.
    public init(
        id: String, holder: IdNat, kind: CardKind, order: CardOrder, profession: Profession?,
        structure: StructureIdentifier?, temporary: Bool = false, createdAt: Date
    ) {
        self.init(
            id: id, holder: holder, kind: kind, state: .ordered, order: order, profession: profession, structure: structure,
            expressJustification: nil, rejectionReason: nil, validatedOn: nil, dueOn: nil, manufacture: nil,
            temporary: temporary, contentDigest: nil, createdAt: createdAt, version: 1)
    }

    /// A card as stored, field by field: for repositories that read it back.
    public init(
        id: String, holder: IdNat, kind: CardKind, state: CardState, order: CardOrder, profession: Profession?,
        structure: StructureIdentifier?, expressJustification: String?, rejectionReason: String?, validatedOn: CivilDate?,
        dueOn: CivilDate?, manufacture: CardManufacture?, temporary: Bool, contentDigest: String?, createdAt: Date, version: Int
    ) {
        self.id = id
        self.holder = holder
        self.kind = kind
        self.state = state
        self.order = order
        self.profession = profession
        self.structure = structure
        self.expressJustification = expressJustification
        self.rejectionReason = rejectionReason
        self.validatedOn = validatedOn
        self.dueOn = dueOn
        self.manufacture = manufacture
        self.temporary = temporary
        self.contentDigest = contentDigest
        self.createdAt = createdAt
        self.version = version
    }

    // MARK: Transitions

    /// Applies one transition of the state machine.
    /// - Throws: ``CardLifecycleError`` `card.transition-refused` when the state does not allow it.
    public mutating func apply(_ transition: CardTransition) throws(CardLifecycleError) {
        state = try state.applying(transition)
    }

    /// The card after `transition`, without changing this one.
    public func applying(_ transition: CardTransition) throws(CardLifecycleError) -> Card {
        var card = self
        try card.apply(transition)
        return card
    }

    /// Validates the complete file on `day`: the due date runs from then, on the file's path.
    public mutating func validate(on day: CivilDate, delay: DeliveryDelay) throws(CardLifecycleError) {
        try apply(.validate)
        validatedOn = day
        dueOn = delay.deadline(validatedOn: day, path: deliveryPath).due
        rejectionReason = nil
    }

    /// Rejects the file with its reason.
    public mutating func reject(reason: String) throws(CardLifecycleError) {
        try apply(.reject)
        rejectionReason = reason
    }

    /// Puts the file on the express path; a validated file's due date is recomputed.
    /// - Throws: `card.express-too-late` once the card has left the factory.
    public mutating func moveToExpress(justification: String, delay: DeliveryDelay) throws(CardLifecycleError) {
        guard state.isBeforeShipping else {
            throw CardLifecycleError(
                code: "card.express-too-late", reason: "a card in state \(state) is past the point where express helps")
        }
        expressJustification = justification
        if let validatedOn {
            dueOn = delay.deadline(validatedOn: validatedOn, path: .express).due
        }
    }

    /// Records the manufacture: in manufacture, then shipped with what the card carries.
    public mutating func ship(_ made: CardManufacture, contentDigest: String) throws(CardLifecycleError) {
        try apply(.startManufacture)
        try apply(.ship)
        manufacture = made
        self.contentDigest = contentDigest
    }

    // MARK: Predicates

    /// Whether the file is on the express path.
    public var isExpress: Bool { expressJustification != nil }

    /// The delivery path of the file.
    public var deliveryPath: DeliveryPath { isExpress ? .express : .standard }

    /// Whether the file still takes documents: while it is put together or after a rejection.
    public var acceptsDocuments: Bool {
        switch state {
        case .ordered, .awaitingDocuments, .rejected: true
        default: false
        }
    }

    /// The transition that sends the file to its instance: documents provided, a resubmission
    /// after a rejection, or a first submission.
    public var submission: CardTransition {
        switch state {
        case .awaitingDocuments: .submitDocuments
        case .rejected: .resubmit
        default: .submitForValidation
        }
    }

    /// Whether the file is over: rejected, or the card's life has ended. A holder with only
    /// closed files for a profession has neither a card nor an order for it.
    public var isClosed: Bool { state == .rejected || state.isTerminal }

    /// Whether the card was made and has not ended: shipped, delivered, active or suspended.
    public var isIssued: Bool { state.isIssued }

    /// Whether the card is in service: delivered, active or suspended (a new card that
    /// replaces it retires it on activation).
    public var isInService: Bool {
        switch state {
        case .delivered, .active, .suspended: true
        default: false
        }
    }

    /// Refuses the renewal of this card on `day` unless it is delivered or active and its
    /// renewal window is open (DESIGN.md §1: renewal starts 3 months before expiry).
    ///
    /// A suspended card is blocked, and a blocked card is never renewed: its review ends in a
    /// reinstatement or a revocation. A replacement before the window goes through the reissue
    /// (registry change) or opposition (loss, theft) paths, with their reason.
    /// - Parameters:
    ///   - day: the day of the request.
    ///   - windowMonths: how many months before expiry the window opens.
    /// - Throws: ``CardLifecycleError`` `card.not-renewable` (state) or
    ///   `card.renewal-not-open` (before the window, with its opening day).
    public func checkRenewal(on day: CivilDate, windowMonths: Int = RenewalSchedule.standardWindowMonths) throws(CardLifecycleError) {
        switch state {
        case .delivered, .active:
            break
        case .suspended:
            throw CardLifecycleError(
                code: "card.not-renewable",
                reason: "a suspended card is blocked and is not renewed: its review ends in a reinstatement or a revocation")
        default:
            throw CardLifecycleError(code: "card.not-renewable", reason: "a card in state \(state) is not renewed")
        }
        guard let expiresOn = manufacture?.expiresOn else {
            throw CardLifecycleError(code: "card.not-renewable", reason: "the card has no expiry date")
        }
        let schedule = RenewalSchedule(expiresOn: expiresOn, windowMonths: windowMonths)
        guard day >= schedule.windowOpensOn else {
            throw CardLifecycleError(
                code: "card.renewal-not-open",
                reason: "the renewal of a card expiring on \(expiresOn) opens on \(schedule.windowOpensOn); "
                    + "before that, a card is replaced only after an opposition or a change in the registry")
        }
    }

    /// Whether the card is with its holder and working or about to (delivered or active): the
    /// cards a registry change reissues.
    public var isWithHolder: Bool { state == .delivered || state == .active }

    /// Whether the card is being made after validation (validated or in manufacture), where
    /// its due date is watched.
    public var isInProduction: Bool { state == .validated || state == .inManufacture }

    /// Whether the file is in production past its due date on `day`.
    public func isOverdue(on day: CivilDate) -> Bool {
        guard isInProduction, let dueOn else { return false }
        return dueOn < day
    }

    /// Whether the card's last day of validity is before `day`.
    public func hasExpired(on day: CivilDate) -> Bool {
        guard let expiresOn = manufacture?.expiresOn else { return false }
        return expiresOn < day
    }

    /// What the authorisation rules need to know of the card.
    public var context: CardContext {
        CardContext(holder: holder, kind: kind, instance: order.instance)
    }
}

/// How a card was ordered, why, and which instance validates it.
public struct CardOrder: Sendable, Hashable {
    /// Automatic (the order's registration) or manual (with documents).
    public var mode: OrderMode
    /// First card, renewal, replacement, reissue or temporary card.
    public var reason: OrderReason
    /// The instance competent to validate it.
    public var instance: ValidatingInstance
    /// The card this one renews, replaces or reissues.
    public var replaces: String?

    /// Creates an order.
    public init(mode: OrderMode, reason: OrderReason, instance: ValidatingInstance, replaces: String? = nil) {
        self.mode = mode
        self.reason = reason
        self.instance = instance
        self.replaces = replaces
    }
}

/// Why a card is ordered. The raw values are stable names, stored and shown in the API.
public enum OrderReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The holder's first card for this profession or structure.
    case first
    /// The renewal of a card close to its expiry.
    case renewal
    /// The replacement of an opposed card.
    case replacement
    /// A new card after a registry change altered what the card carries.
    case reissue
    /// A temporary card while the holder's card is replaced.
    case temporary
}

/// What a card carries once made.
public struct CardManufacture: Sendable, Hashable {
    /// The card serial.
    public var serial: CardSerial
    /// The last day of validity.
    public var expiresOn: CivilDate
    /// Its two certificates.
    public var certificates: CardCertificates
    /// Where it was shipped (one line).
    public var shippingAddress: String

    /// Creates the description of a made card.
    public init(serial: CardSerial, expiresOn: CivilDate, certificates: CardCertificates, shippingAddress: String) {
        self.serial = serial
        self.expiresOn = expiresOn
        self.certificates = certificates
        self.shippingAddress = shippingAddress
    }
}

/// The certificates on a card: both from one issuing CA.
public struct CardCertificates: Sendable, Hashable {
    /// The issuing CA's slug, such as `forte-personnes`.
    public var issuer: String
    /// The authentication certificate's serial, hex.
    public var authentication: String
    /// The signature certificate's serial, hex.
    public var signature: String

    /// Creates the pair.
    public init(issuer: String, authentication: String, signature: String) {
        self.issuer = issuer
        self.authentication = authentication
        self.signature = signature
    }

    /// Both serials, authentication first.
    public var serials: [String] { [authentication, signature] }
}

extension CardState {
    /// Whether a card in this state was made and has not ended: shipped, delivered, active or
    /// suspended (the cards whose certificates are in service or on hold).
    public var isIssued: Bool {
        switch self {
        case .shipped, .delivered, .active, .suspended: true
        default: false
        }
    }
}
