/// Where a card stands in its life, from the order to its end.
///
/// The raw values are stable snake_case names, safe to store and to expose in the API.
/// The only way from one state to another is ``applying(_:)``, which lists every allowed
/// transition; everything else is refused.
///
/// ```
/// ordered ─┬─ request_documents ──▶ awaiting_documents ── submit_documents ─┐
///          └─ submit_for_validation ─────────────────────────────────────────┴▶ awaiting_validation
/// awaiting_validation ── validate ▶ validated │ reject ▶ rejected │ request_documents ▶ awaiting_documents
/// rejected ── resubmit ▶ awaiting_validation
/// validated ── start_manufacture ▶ in_manufacture ── ship ▶ shipped ── deliver ▶ delivered ── activate ▶ active
/// in_manufacture ── fail_manufacture ▶ validated
/// active ── suspend ▶ suspended ── reinstate ▶ active
/// shipped, delivered, active, suspended ── oppose ▶ opposed │ revoke ▶ revoked │ expire ▶ expired
/// delivered, active ── supersede ▶ superseded
/// ```
public enum CardState: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The order was entered (by the professional, a manager, or automatically when an order
    /// registers a professional); nothing was checked yet.
    case ordered
    /// The file waits for supporting documents.
    case awaitingDocuments = "awaiting_documents"
    /// The file is complete and waits for the competent instance's decision.
    case awaitingValidation = "awaiting_validation"
    /// The instance refused the file. Not terminal: the file can be completed and resubmitted.
    case rejected
    /// The instance validated a complete file; the delivery delay runs from here.
    case validated
    /// The card is being personalised (keys, certificates, counters).
    case inManufacture = "in_manufacture"
    /// The card left by registered mail; the PIN letter travels separately.
    case shipped
    /// The card reached its holder but is not activated yet.
    case delivered
    /// The card is in service.
    case active
    /// The card is on hold (certificate hold) pending the review of a suspected misuse.
    case suspended
    /// The card was declared lost or stolen and is blocked for good. Terminal: an opposition
    /// is never lifted; the holder gets a replacement card.
    case opposed
    /// The card was revoked. Terminal.
    case revoked
    /// The card reached the end of its validity. Terminal.
    case expired
    /// The card was replaced by a reissued one (change of status, place or activity). Terminal.
    case superseded

    /// The state's stable name, such as `awaiting_documents`.
    public var description: String { rawValue }

    /// The state in French, for the portal and letters.
    public var frenchLabel: String {
        switch self {
        case .ordered: "Commandée"
        case .awaitingDocuments: "En attente de pièces justificatives"
        case .awaitingValidation: "En attente de validation"
        case .rejected: "Dossier refusé"
        case .validated: "Validée"
        case .inManufacture: "En fabrication"
        case .shipped: "Expédiée"
        case .delivered: "Livrée"
        case .active: "Active"
        case .suspended: "Suspendue"
        case .opposed: "En opposition"
        case .revoked: "Révoquée"
        case .expired: "Expirée"
        case .superseded: "Remplacée"
        }
    }

    /// The state in plain English, for error reasons and logs.
    public var englishLabel: String {
        switch self {
        case .ordered: "ordered"
        case .awaitingDocuments: "awaiting documents"
        case .awaitingValidation: "awaiting validation"
        case .rejected: "rejected"
        case .validated: "validated"
        case .inManufacture: "in manufacture"
        case .shipped: "shipped"
        case .delivered: "delivered"
        case .active: "active"
        case .suspended: "suspended"
        case .opposed: "opposed"
        case .revoked: "revoked"
        case .expired: "expired"
        case .superseded: "superseded"
        }
    }

    /// The state after `transition`.
    ///
    /// This is the one place that lists the allowed transitions.
    /// - Parameter transition: what happens to the card.
    /// - Returns: the new state.
    /// - Throws: ``CardLifecycleError`` with code `card.transition-refused` for any transition
    ///   the table does not list, naming the state, the transition and what is allowed instead.
    public func applying(_ transition: CardTransition) throws(CardLifecycleError) -> CardState {
        guard let next = target(of: transition) else {
            let allowed = allowedTransitions
            let instead = allowed.isEmpty
                ? "\(englishLabel) is a terminal state"
                : "allowed from \(englishLabel): " + allowed.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw CardLifecycleError(
                code: "card.transition-refused",
                reason: "a card in state \"\(rawValue)\" cannot \(transition.englishVerb) (transition \"\(transition.rawValue)\"); \(instead)")
        }
        return next
    }

    /// The transitions ``applying(_:)`` accepts from this state, in declaration order.
    public var allowedTransitions: [CardTransition] {
        CardTransition.allCases.filter { target(of: $0) != nil }
    }

    /// Whether no transition leaves this state (opposed, revoked, expired, superseded).
    public var isTerminal: Bool { allowedTransitions.isEmpty }

    /// Whether the card can be used to authenticate and sign (only when active).
    public var isInService: Bool { self == .active }

    /// Whether the card is still being ordered or made (before shipping), so that its file can
    /// still be completed, moved to the express path or followed by the help desk.
    public var isBeforeShipping: Bool {
        switch self {
        case .ordered, .awaitingDocuments, .awaitingValidation, .rejected, .validated, .inManufacture: true
        default: false
        }
    }

    /// The table of allowed transitions; `nil` means refused.
    private func target(of transition: CardTransition) -> CardState? {
        switch (self, transition) {
        case (.ordered, .requestDocuments): .awaitingDocuments
        case (.ordered, .submitForValidation): .awaitingValidation
        case (.awaitingDocuments, .submitDocuments): .awaitingValidation
        case (.awaitingValidation, .validate): .validated
        case (.awaitingValidation, .reject): .rejected
        case (.awaitingValidation, .requestDocuments): .awaitingDocuments
        case (.rejected, .resubmit): .awaitingValidation
        case (.validated, .startManufacture): .inManufacture
        case (.inManufacture, .ship): .shipped
        // A failed personalisation sends the validated order back to be made again.
        case (.inManufacture, .failManufacture): .validated
        case (.shipped, .deliver): .delivered
        case (.delivered, .activate): .active
        case (.active, .suspend): .suspended
        case (.suspended, .reinstate): .active
        case (.shipped, .oppose), (.delivered, .oppose), (.active, .oppose), (.suspended, .oppose): .opposed
        case (.shipped, .revoke), (.delivered, .revoke), (.active, .revoke), (.suspended, .revoke): .revoked
        case (.shipped, .expire), (.delivered, .expire), (.active, .expire), (.suspended, .expire): .expired
        case (.delivered, .supersede), (.active, .supersede): .superseded
        default: nil
        }
    }
}

/// Something that happens to a card and may change its state (see ``CardState/applying(_:)``).
///
/// The raw values are stable snake_case names, safe to store in the audit log.
public enum CardTransition: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The file needs supporting documents (from `ordered`, or when the instance finds the
    /// file incomplete while `awaiting_validation`).
    case requestDocuments = "request_documents"
    /// The requested documents were provided.
    case submitDocuments = "submit_documents"
    /// A file that needs no further document goes to the competent instance (automatic orders).
    case submitForValidation = "submit_for_validation"
    /// The competent instance validates the file.
    case validate
    /// The competent instance refuses the file.
    case reject
    /// A rejected file, completed, goes back to the instance.
    case resubmit
    /// Personalisation of the card starts.
    case startManufacture = "start_manufacture"
    /// Personalisation failed; the validated order waits to be made again.
    case failManufacture = "fail_manufacture"
    /// The card is sent by registered mail.
    case ship
    /// The card reached its holder.
    case deliver
    /// The holder activates the card.
    case activate
    /// The card is put on hold pending review of a suspected misuse.
    case suspend
    /// A suspended card returns to service after review.
    case reinstate
    /// The card is declared lost or stolen.
    case oppose
    /// The card is revoked for good.
    case revoke
    /// The card reached the end of its validity.
    case expire
    /// A reissued card replaces this one.
    case supersede

    /// The transition's stable name, such as `submit_documents`.
    public var description: String { rawValue }

    /// The transition in French, for the portal and the audit trail.
    public var frenchLabel: String {
        switch self {
        case .requestDocuments: "Demander des pièces justificatives"
        case .submitDocuments: "Déposer les pièces justificatives"
        case .submitForValidation: "Soumettre à validation"
        case .validate: "Valider"
        case .reject: "Refuser"
        case .resubmit: "Soumettre à nouveau"
        case .startManufacture: "Lancer la fabrication"
        case .failManufacture: "Signaler un échec de fabrication"
        case .ship: "Expédier"
        case .deliver: "Constater la livraison"
        case .activate: "Activer"
        case .suspend: "Suspendre"
        case .reinstate: "Rétablir"
        case .oppose: "Mettre en opposition"
        case .revoke: "Révoquer"
        case .expire: "Constater l'expiration"
        case .supersede: "Remplacer"
        }
    }

    /// The transition as an English verb phrase, for error reasons.
    public var englishVerb: String {
        switch self {
        case .requestDocuments: "be asked for documents"
        case .submitDocuments: "receive documents"
        case .submitForValidation: "be submitted for validation"
        case .validate: "be validated"
        case .reject: "be rejected"
        case .resubmit: "be resubmitted"
        case .startManufacture: "go into manufacture"
        case .failManufacture: "fail manufacture"
        case .ship: "be shipped"
        case .deliver: "be delivered"
        case .activate: "be activated"
        case .suspend: "be suspended"
        case .reinstate: "be reinstated"
        case .oppose: "be opposed"
        case .revoke: "be revoked"
        case .expire: "expire"
        case .supersede: "be superseded"
        }
    }
}
