/// A kind of card: the four card types, and the managers' cards CDE and CDA.
///
/// A CDE (*carte de directeur d'établissement*) is a CPE-typed card that also carries the
/// right to order and manage the CPE of an establishment's staff; a CDA is the same for the
/// CPA of another structure. Certificates carry only the ``cardType`` code, so a CDE shows as
/// type 2 and a CDA as type 3. The raw values are the stable codes `CPS`, `CPF`, `CPE`, `CPA`,
/// `CDE`, `CDA`.
public enum CardKind: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// CPS, for a health professional.
    case cps = "CPS"
    /// CPF, for a professional in training.
    case cpf = "CPF"
    /// CPE, for establishment staff; ordered by the establishment's manager.
    case cpe = "CPE"
    /// CPA, for the staff of another authorised structure; ordered by its manager.
    case cpa = "CPA"
    /// CDE, the card of an establishment's manager: a CPE with manager rights.
    case cde = "CDE"
    /// CDA, the card of another structure's manager: a CPA with manager rights.
    case cda = "CDA"

    /// The kind for a card type, with or without manager rights.
    /// - Parameters:
    ///   - type: the card type.
    ///   - managerRights: whether the card is a manager's card (CDE or CDA).
    /// - Throws: ``CardLifecycleError`` with code `card.kind-invalid` when manager rights are
    ///   asked for a CPS or a CPF.
    public init(type: CardType, managerRights: Bool = false) throws(CardLifecycleError) {
        switch (type, managerRights) {
        case (.cps, false): self = .cps
        case (.cpf, false): self = .cpf
        case (.cpe, false): self = .cpe
        case (.cpa, false): self = .cpa
        case (.cpe, true): self = .cde
        case (.cpa, true): self = .cda
        case (.cps, true), (.cpf, true):
            throw CardLifecycleError(
                code: "card.kind-invalid",
                reason: "only a CPE (as a CDE) or a CPA (as a CDA) can carry manager rights, not a \(type.code)")
        }
    }

    /// The card type written in certificates: CDE is a CPE, CDA is a CPA.
    public var cardType: CardType {
        switch self {
        case .cps: .cps
        case .cpf: .cpf
        case .cpe, .cde: .cpe
        case .cpa, .cda: .cpa
        }
    }

    /// Whether the card carries manager rights (CDE, CDA).
    public var hasManagerRights: Bool { self == .cde || self == .cda }

    /// Whether the card belongs to a structure's staff rather than to a registered
    /// professional (CPE, CPA, CDE, CDA).
    public var isStaffCard: Bool { self != .cps && self != .cpf }

    /// The stable code, such as `CDE`.
    public var code: String { rawValue }

    /// The kind's name in French.
    public var frenchLabel: String {
        switch self {
        case .cps: "Carte de Professionnel de Santé"
        case .cpf: "Carte de Professionnel de Santé en Formation"
        case .cpe: "Carte de Personnel d'Établissement"
        case .cpa: "Carte de Personnel Autorisé"
        case .cde: "Carte de Directeur d'Établissement"
        case .cda: "Carte de Directeur d'Autre structure"
        }
    }

    /// The code, such as `CPS`.
    public var description: String { rawValue }

    /// The `title` of the card's certificates.
    ///
    /// A personal card (CPS, CPF) shows the holder's profession, as real IGC-Santé personal
    /// certificates do: it is what a relying service reads, with the card type, to know who
    /// may prescribe. A staff card shows the role it gives in its structure, never a profession,
    /// so that no establishment card can be read as a prescriber's; a temporary card says so.
    /// The staff titles are OpenCPS's wording (no published list was found).
    /// - Parameters:
    ///   - profession: the holder's profession, when the holder has one.
    ///   - temporary: whether the card is a temporary card for internal use.
    public func certificateTitle(profession: Profession?, temporary: Bool = false) -> String {
        let title = switch self {
        case .cps, .cpf: profession?.label ?? frenchLabel
        case .cpe: "Personnel d'établissement"
        case .cde: "Directeur d'établissement"
        case .cpa: "Personnel autorisé"
        case .cda: "Responsable de structure"
        }
        return temporary ? title + " (carte temporaire)" : title
    }

    /// Whether a card of this kind carries prescriber rights for a holder of `profession`.
    ///
    /// Only CPS and CPF do, and only for a prescribing profession (``Profession/isPrescriber``).
    /// A CPE or a CDE never does, so that no establishment card can be taken for a
    /// prescriber's; CPA and CDA holders are not registered professionals either.
    /// - Parameter profession: the holder's profession, when the holder has one.
    public func carriesPrescriberRights(for profession: Profession?) -> Bool {
        switch self {
        case .cps, .cpf: profession?.isPrescriber ?? false
        case .cpe, .cpa, .cde, .cda: false
        }
    }

    /// Refuses prescriber rights on a card that cannot carry them.
    /// - Parameters:
    ///   - requested: whether the order asks for prescriber rights.
    ///   - profession: the holder's profession, when the holder has one.
    /// - Throws: ``CardLifecycleError`` with code `card.prescriber-rights-refused`.
    public func checkPrescriberRights(requested: Bool, profession: Profession?) throws(CardLifecycleError) {
        guard requested, !carriesPrescriberRights(for: profession) else { return }
        let why = isStaffCard
            ? "a \(code) never carries prescriber rights"
            : "profession \(profession.map(\.description) ?? "(none)") does not prescribe"
        throw CardLifecycleError(code: "card.prescriber-rights-refused", reason: "prescriber rights refused: \(why)")
    }
}

extension CardType {
    /// The manager's card that orders cards of this type: CDE for CPE, CDA for CPA, none for
    /// CPS and CPF (ordered by the professional or their order).
    public var managerKind: CardKind? {
        switch self {
        case .cpe: .cde
        case .cpa: .cda
        case .cps, .cpf: nil
        }
    }
}

/// The instance competent to validate a card order.
///
/// Encodes to and from ``code`` (`ordre:CNOM`, `ars`, `manager:1250000700`, `agency`) so that
/// persistence can store it in one column.
public enum ValidatingInstance: Hashable, Sendable, CustomStringConvertible {
    /// The order of an ordinal profession.
    case ordre(Ordre)
    /// The regional health agency (ARS), for non-ordinal professions.
    case agenceRegionale
    /// The manager (holder of a CDE or a CDA) of the structure, for CPE and CPA.
    case establishmentManager(StructureIdentifier)
    /// The agency that runs the card programme, for the managers' own cards (CDE, CDA), which
    /// have no manager above them. This is this project's choice; the official circuit of a
    /// manager's card was not confirmed.
    case cardAgency

    /// The instance competent for an order.
    /// - Parameters:
    ///   - kind: the card ordered.
    ///   - profession: the holder's profession (needed for CPS and CPF).
    ///   - structure: the structure the holder works for (needed for CPE and CPA).
    /// - Returns: the order of an ordinal profession, the ARS for other professions, the
    ///   structure's manager for CPE and CPA, the card agency for CDE and CDA.
    /// - Throws: ``CardLifecycleError`` with code `card.instance-undetermined` when the
    ///   profession or the structure it needs is missing.
    public static func competent(
        for kind: CardKind, profession: Profession?, structure: StructureIdentifier?
    ) throws(CardLifecycleError) -> ValidatingInstance {
        switch kind {
        case .cps, .cpf:
            guard let profession else {
                throw CardLifecycleError(
                    code: "card.instance-undetermined",
                    reason: "a \(kind.code) order needs the holder's profession to find the instance that validates it")
            }
            return profession.ordre.map(ValidatingInstance.ordre) ?? .agenceRegionale
        case .cpe, .cpa:
            guard let structure else {
                throw CardLifecycleError(
                    code: "card.instance-undetermined",
                    reason: "a \(kind.code) order needs the holder's structure, whose manager validates it")
            }
            return .establishmentManager(structure)
        case .cde, .cda:
            return .cardAgency
        }
    }

    /// The stable code: `ordre:<abbreviation>`, `ars`, `manager:<idNatStruct>` or `agency`.
    public var code: String {
        switch self {
        case .ordre(let ordre): "ordre:" + ordre.abbreviation
        case .agenceRegionale: "ars"
        case .establishmentManager(let structure): "manager:" + structure.idNatStruct
        case .cardAgency: "agency"
        }
    }

    /// Reads an instance from its ``code``.
    /// - Throws: ``CardLifecycleError`` with code `card.instance-undetermined` for an unknown code
    ///   or an invalid structure identifier.
    public init(code: String) throws(CardLifecycleError) {
        func unknown(_ detail: String) -> CardLifecycleError {
            CardLifecycleError(code: "card.instance-undetermined", reason: "\"\(code)\" is not a validating instance: \(detail)")
        }
        if code == "ars" {
            self = .agenceRegionale
        } else if code == "agency" {
            self = .cardAgency
        } else if code.hasPrefix("ordre:") {
            guard let ordre = Ordre(rawValue: String(code.dropFirst("ordre:".count))) else {
                throw unknown("unknown order")
            }
            self = .ordre(ordre)
        } else if code.hasPrefix("manager:") {
            do throws(IdentifierError) {
                self = .establishmentManager(try StructureIdentifier(idNatStruct: String(code.dropFirst("manager:".count))))
            } catch {
                throw unknown(error.reason)
            }
        } else {
            throw unknown("expected ordre:<order>, ars, manager:<structure> or agency")
        }
    }

    /// The code, such as `ordre:CNOM`.
    public var description: String { code }
}

extension ValidatingInstance: Codable {
    /// Decodes an instance from its code.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do throws(CardLifecycleError) {
            try self.init(code: text)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.reason, underlyingError: error))
        }
    }

    /// Encodes the instance as its code.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// How a card order starts: by itself when an order registers a professional, or by hand with
/// supporting documents.
public enum OrderMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// The order registered the professional: the order is placed and checked automatically,
    /// and no supporting document is needed.
    case automatic
    /// The order is entered by hand and the holder's eligibility is proven with documents.
    case manual

    /// The mode of an order.
    ///
    /// Automatic only for a CPS of an ordinal profession registered with that profession's
    /// order; every other order (non-ordinal professions, CPF, staff and managers' cards, a
    /// professional whose registration is not known) is manual.
    /// - Parameters:
    ///   - kind: the card ordered.
    ///   - profession: the holder's profession, when the holder has one.
    ///   - registration: the holder's registration with an order, when known.
    public init(kind: CardKind, profession: Profession?, registration: OrderRegistration?) {
        if kind == .cps, let ordre = profession?.ordre, registration?.ordre == ordre {
            self = .automatic
        } else {
            self = .manual
        }
    }
}
