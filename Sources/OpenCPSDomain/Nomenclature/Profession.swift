/// The code system a profession code comes from.
public enum ProfessionCodeSystem: String, Hashable, Sendable, Codable, CaseIterable {
    /// TRE_G15-ProfessionSante, the health professions.
    case g15ProfessionSante
    /// TRE_R95-UsagerTitre, the protected titles (*usagers de titre*) outside G15.
    case r95UsagerTitre

    /// The FHIR CodeSystem URL.
    public var url: String {
        switch self {
        case .g15ProfessionSante: Nomenclature.codeSystemURL("TRE_G15-ProfessionSante")
        case .r95UsagerTitre: Nomenclature.codeSystemURL("TRE_R95-UsagerTitre")
        }
    }

    /// The OID, when known.
    public var oid: String? {
        switch self {
        case .g15ProfessionSante: "1.2.250.1.71.1.2.7"
        case .r95UsagerTitre: nil
        }
    }
}

/// A professional order (*ordre*), with which registration is mandatory to practise.
///
/// Only CNOM and CNOPP appear in the directory's fixtures; the other abbreviations (ONCD,
/// CNOSF, CNOP, ONI, CNOMK) are the usual ones but were not confirmed in a published file.
public enum Ordre: String, Hashable, Sendable, Codable, CaseIterable {
    /// Ordre des médecins.
    case cnom = "CNOM"
    /// Ordre des chirurgiens-dentistes.
    case oncd = "ONCD"
    /// Ordre des sages-femmes.
    case cnosf = "CNOSF"
    /// Ordre des pharmaciens.
    case cnop = "CNOP"
    /// Ordre des infirmiers.
    case oni = "ONI"
    /// Ordre des masseurs-kinésithérapeutes.
    case cnomk = "CNOMK"
    /// Ordre des pédicures-podologues.
    case cnopp = "CNOPP"

    /// The abbreviation, such as `CNOM`.
    public var abbreviation: String { rawValue }

    /// Whether the abbreviation was seen in a published directory file.
    public var isAbbreviationConfirmed: Bool { self == .cnom || self == .cnopp }

    /// The order's name in French.
    public var name: String {
        switch self {
        case .cnom: "Conseil national de l'ordre des médecins"
        case .oncd: "Ordre national des chirurgiens-dentistes"
        case .cnosf: "Conseil national de l'ordre des sages-femmes"
        case .cnop: "Conseil national de l'ordre des pharmaciens"
        case .oni: "Ordre national des infirmiers"
        case .cnomk: "Conseil national de l'ordre des masseurs-kinésithérapeutes"
        case .cnopp: "Conseil national de l'ordre des pédicures-podologues"
        }
    }
}

/// A health profession, from the national nomenclature (TRE_G15, plus the usagers de titre
/// of TRE_R95).
///
/// Seven professions have an order (``isOrdinal``); their cards are ordered automatically
/// when the order registers them, the others prove eligibility with documents.
/// ``isPrescriber`` marks the prescribers of medicines (médecin, chirurgien-dentiste,
/// sage-femme); the limited prescription rights of other professions (infirmiers,
/// masseurs-kinésithérapeutes, pédicures-podologues...) are not modelled.
///
/// Encodes as its code and decodes only known codes.
public struct Profession: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The code, such as `10`.
    public let code: String
    /// The display label, exactly as in the nomenclature, such as `Médecin`.
    public let label: String
    /// The order the profession registers with, for the seven ordinal professions.
    public let ordre: Ordre?
    /// Whether the profession prescribes medicines (see the type's documentation).
    public let isPrescriber: Bool
    /// Whether the code is deprecated in its nomenclature (kept to read old records).
    public let isDeprecated: Bool
    /// The code system the code belongs to.
    public let codeSystem: ProfessionCodeSystem
    /// Whether the code is in the nomenclature; false for a code the directory file gives
    /// that OpenCPS does not know (kept, and flagged, rather than losing the row).
    public let isListed: Bool

    /// Whether the profession has an order (médecin, pharmacien, chirurgien-dentiste,
    /// sage-femme, infirmier, masseur-kinésithérapeute, pédicure-podologue).
    public var isOrdinal: Bool { ordre != nil }

    /// The profession with this code.
    /// - Throws: ``NomenclatureError`` with code `profession.unknown`.
    public init(code: String) throws(NomenclatureError) {
        guard let profession = Profession.named(code: code) else {
            throw NomenclatureError(code: "profession.unknown", reason: "\"\(code)\" is not a known profession code")
        }
        self = profession
    }

    /// The profession with this code, or nil.
    public static func named(code: String) -> Profession? {
        byCode[code]
    }

    /// The profession with this code, listed or not: a code outside the nomenclature gives
    /// an unlisted profession (no order, no prescription rights, no label) rather than an error.
    ///
    /// For what the directory file and the stored registry say; input from a person is read
    /// with ``init(code:)``, which refuses unknown codes.
    public static func listedOrNot(code: String) -> Profession {
        byCode[code] ?? Profession(
            code: code, label: "", ordre: nil, isPrescriber: false, isDeprecated: false, codeSystem: .g15ProfessionSante,
            isListed: false)
    }

    /// `code label`, such as `10 Médecin`.
    public var description: String { label.isEmpty ? code : "\(code) \(label)" }

    /// Every profession known: TRE_G15 (current, then deprecated) and the usagers de titre.
    ///
    /// Code 93 (Psychologue) is listed once, as a TRE_R95 usager de titre; TRE_G15 also has
    /// a deprecated 93 kept for the CPS card lists.
    public static let all: [Profession] = [
        g15("10", "Médecin", ordre: .cnom, prescriber: true),
        g15("21", "Pharmacien", ordre: .cnop),
        g15("26", "Audioprothésiste"),
        g15("28", "Opticien-Lunetier"),
        g15("31", "Assistant dentaire"),
        g15("32", "Physicien médical"),
        g15("40", "Chirurgien-Dentiste", ordre: .oncd, prescriber: true),
        g15("50", "Sage-Femme", ordre: .cnosf, prescriber: true),
        g15("60", "Infirmier", ordre: .oni),
        g15("69", "Infirmier psychiatrique"),
        g15("70", "Masseur-Kinésithérapeute", ordre: .cnomk),
        g15("80", "Pédicure-Podologue", ordre: .cnopp),
        g15("81", "Orthoprothésiste"),
        g15("82", "Podo-Orthésiste"),
        g15("83", "Orthopédiste-Orthésiste"),
        g15("84", "Oculariste"),
        g15("85", "Epithésiste"),
        g15("86", "Technicien de laboratoire médical"),
        g15("91", "Orthophoniste"),
        g15("92", "Orthoptiste"),
        g15("94", "Ergothérapeute"),
        g15("95", "Diététicien"),
        g15("96", "Psychomotricien"),
        g15("98", "Manipulateur ERM"),
        g15("35", "Aide-soignant", deprecated: true),
        g15("36", "Ambulancier", deprecated: true),
        g15("37", "Auxiliaire de puériculture", deprecated: true),
        g15("38", "Préparateur en pharmacie hospitalière", deprecated: true),
        g15("39", "Préparateur en pharmacie (officine)", deprecated: true),
        r95("71", "Ostéopathe"),
        r95("72", "Psychothérapeute"),
        r95("73", "Chiropracteur"),
        r95("93", "Psychologue"),
    ]

    private static let byCode: [String: Profession] = Dictionary(uniqueKeysWithValues: all.map { ($0.code, $0) })

    private static func g15(
        _ code: String, _ label: String, ordre: Ordre? = nil, prescriber: Bool = false, deprecated: Bool = false
    ) -> Profession {
        Profession(code: code, label: label, ordre: ordre, isPrescriber: prescriber, isDeprecated: deprecated, codeSystem: .g15ProfessionSante)
    }

    private static func r95(_ code: String, _ label: String) -> Profession {
        Profession(code: code, label: label, ordre: nil, isPrescriber: false, isDeprecated: false, codeSystem: .r95UsagerTitre)
    }

    private init(
        code: String, label: String, ordre: Ordre?, isPrescriber: Bool, isDeprecated: Bool, codeSystem: ProfessionCodeSystem,
        isListed: Bool = true
    ) {
        self.isListed = isListed
        self.code = code
        self.label = label
        self.ordre = ordre
        self.isPrescriber = isPrescriber
        self.isDeprecated = isDeprecated
        self.codeSystem = codeSystem
    }

    /// Decodes a profession from its code, refusing unknown codes.
    public init(from decoder: any Decoder) throws {
        let code = try decoder.singleValueContainer().decode(String.self)
        guard let profession = Profession.named(code: code) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "\"\(code)\" is not a known profession code"))
        }
        self = profession
    }

    /// Encodes the profession as its code.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
