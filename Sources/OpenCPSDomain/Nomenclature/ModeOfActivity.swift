/// How an activity is exercised (TRE_R23-ModeExercice).
public enum ModeOfActivity: String, Hashable, Sendable, Codable, CaseIterable {
    /// `S` Salarié.
    case salarie = "S"
    /// `L` Libéral, indépendant, artisan, commerçant.
    case liberal = "L"
    /// `B` Bénévole.
    case benevole = "B"
    /// `I` Indirect (added to the nomenclature on 2026-02-02).
    case indirect = "I"

    /// The FHIR CodeSystem URL of TRE_R23-ModeExercice.
    public static let codeSystem = Nomenclature.codeSystemURL("TRE_R23-ModeExercice")
    /// The OID of TRE_R23-ModeExercice.
    public static let oid = "1.2.250.1.213.1.6.1.18"

    /// The mode with this code.
    /// - Throws: ``NomenclatureError`` with code `mode-of-activity.unknown`.
    public init(code: String) throws(NomenclatureError) {
        guard let mode = ModeOfActivity(rawValue: code) else {
            throw NomenclatureError(
                code: "mode-of-activity.unknown", reason: "\"\(code)\" is not a mode of activity (S, L, B or I)")
        }
        self = mode
    }

    /// The code: `S`, `L`, `B` or `I`.
    public var code: String { rawValue }

    /// The display label of the nomenclature, in French.
    public var label: String {
        switch self {
        case .salarie: "Salarié"
        case .liberal: "Libéral, indépendant, artisan, commerçant"
        case .benevole: "Bénévole"
        case .indirect: "Indirect"
        }
    }

    /// The short label the directory's extraction files use (`Libéral` for `L`).
    public var shortLabel: String {
        self == .liberal ? "Libéral" : label
    }
}

/// The professional category of an exercise (TRE_R09-CategorieProfessionnelle).
public enum ProfessionalCategory: String, Hashable, Sendable, Codable, CaseIterable {
    /// `C` Civil.
    case civil = "C"
    /// `E` Etudiant.
    case etudiant = "E"
    /// `F` Fonctionnaire d'Etat ou de collectivité locale (deprecated on 2026-02-23).
    case fonctionnaire = "F"
    /// `M` Agent public (labelled "Militaire" before 2024-03-29, unconfirmed).
    case agentPublic = "M"

    /// The FHIR CodeSystem URL of TRE_R09-CategorieProfessionnelle.
    public static let codeSystem = Nomenclature.codeSystemURL("TRE_R09-CategorieProfessionnelle")
    /// The OID of TRE_R09-CategorieProfessionnelle.
    public static let oid = "1.2.250.1.213.1.6.1.10"

    /// The category with this code.
    /// - Throws: ``NomenclatureError`` with code `professional-category.unknown`.
    public init(code: String) throws(NomenclatureError) {
        guard let category = ProfessionalCategory(rawValue: code) else {
            throw NomenclatureError(
                code: "professional-category.unknown",
                reason: "\"\(code)\" is not a professional category (C, E, F or M)")
        }
        self = category
    }

    /// The code.
    public var code: String { rawValue }

    /// The display label, in French.
    public var label: String {
        switch self {
        case .civil: "Civil"
        case .etudiant: "Etudiant"
        case .fonctionnaire: "Fonctionnaire d'Etat ou de collectivité locale"
        case .agentPublic: "Agent public"
        }
    }

    /// Whether the code is deprecated (`F`, since 2026-02-23).
    public var isDeprecated: Bool { self == .fonctionnaire }
}

/// The title used in practice (TRE_R11-CiviliteExercice), such as `DR` Docteur.
public enum CiviliteExercice: String, Hashable, Sendable, Codable, CaseIterable {
    /// `DR` Docteur.
    case docteur = "DR"
    /// `MC` Médecin chef.
    case medecinChef = "MC"
    /// `MG` Médecin général.
    case medecinGeneral = "MG"
    /// `PC` Pharmacien chef.
    case pharmacienChef = "PC"
    /// `PG` Pharmacien général.
    case pharmacienGeneral = "PG"
    /// `PR` Professeur.
    case professeur = "PR"

    /// The FHIR CodeSystem URL of TRE_R11-CiviliteExercice.
    public static let codeSystem = Nomenclature.codeSystemURL("TRE_R11-CiviliteExercice")
    /// The OID of TRE_R11-CiviliteExercice.
    public static let oid = "1.2.250.1.213.1.6.1.11"

    /// The code.
    public var code: String { rawValue }

    /// The display label, in French.
    public var label: String {
        switch self {
        case .docteur: "Docteur"
        case .medecinChef: "Médecin chef"
        case .medecinGeneral: "Médecin général"
        case .pharmacienChef: "Pharmacien chef"
        case .pharmacienGeneral: "Pharmacien général"
        case .professeur: "Professeur"
        }
    }
}

/// The civil-status title (TRE_R81-Civilite): `M` Monsieur, `MME` Madame; `MLLE`
/// Mademoiselle exists in the nomenclature but is no longer used by the directory.
public enum Civilite: String, Hashable, Sendable, Codable, CaseIterable {
    /// `M` Monsieur.
    case monsieur = "M"
    /// `MME` Madame.
    case madame = "MME"
    /// `MLLE` Mademoiselle (legacy).
    case mademoiselle = "MLLE"

    /// The FHIR CodeSystem URL of TRE_R81-Civilite.
    public static let codeSystem = Nomenclature.codeSystemURL("TRE_R81-Civilite")
    /// The OID of TRE_R81-Civilite.
    public static let oid = "1.2.250.1.213.1.6.1.69"

    /// The code.
    public var code: String { rawValue }

    /// The display label, in French.
    public var label: String {
        switch self {
        case .monsieur: "Monsieur"
        case .madame: "Madame"
        case .mademoiselle: "Mademoiselle"
        }
    }
}
