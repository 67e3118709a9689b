/// The columns of `PS_LibreAcces_Personne_activite`, in the order of the 52-column file,
/// then the 4 columns of the newer 56-column variant.
public enum ExtractionColumn: Int, CaseIterable, Sendable {
    /// Identifier type, identifier and national identifier of the person.
    case typeIdentifiantPP, identifiantPP, identificationNationalePP
    /// Practice title and civil-status title, codes and labels.
    case codeCiviliteExercice, libelleCiviliteExercice, codeCivilite, libelleCivilite
    /// Names the person practises under.
    case nomExercice, prenomExercice
    /// Profession code and label (TRE_G15).
    case codeProfession, libelleProfession
    /// Professional category code and label (TRE_R09).
    case codeCategorieProfessionnelle, libelleCategorieProfessionnelle
    /// Savoir-faire type and savoir-faire, codes and labels.
    case codeTypeSavoirFaire, libelleTypeSavoirFaire, codeSavoirFaire, libelleSavoirFaire
    /// Mode of activity code and label (TRE_R23).
    case codeModeExercice, libelleModeExercice
    /// Structure numbers: SIRET, SIREN, FINESS site and FINESS of the legal entity.
    case siretSite, sirenSite, finessSite, finessEtablissementJuridique
    /// The directory's structure id, the site's name and trade name.
    case identifiantTechniqueStructure, raisonSocialeSite, enseigneCommercialeSite
    /// Address of the structure.
    case complementDestinataire, complementPointGeographique, numeroVoie, indiceRepetitionVoie
    /// Address of the structure (continued).
    case codeTypeVoie, libelleTypeVoie, libelleVoie, mentionDistribution, bureauCedex
    /// Postal code, commune and country of the structure.
    case codePostal, codeCommune, libelleCommune, codePays, libellePays
    /// Phones, fax and e-mail of the structure.
    case telephone, telephone2, telecopie, email
    /// Department of the structure, code and label.
    case codeDepartement, libelleDepartement
    /// Former structure identifier (idNat_Struct) and registration authority.
    case ancienIdentifiantStructure, autoriteEnregistrement
    /// Sector of activity code and label (TRE_R02).
    case codeSecteurActivite, libelleSecteurActivite
    /// Section of the pharmacists' table, code and label.
    case codeSectionTableauPharmaciens, libelleSectionTableauPharmaciens
    /// Function and activity genre, codes and labels (56-column variant only).
    case codeFonction, libelleFonction, codeGenreActivite, libelleGenreActivite

    /// The column's name as written in the 52-column header (or in the 56-column variant
    /// for its last four columns).
    public var name: String { ExtractionColumn.names[rawValue] }

    /// Whether a file without this column is refused.
    public var isRequired: Bool {
        switch self {
        case .typeIdentifiantPP, .identifiantPP, .identificationNationalePP, .nomExercice, .prenomExercice, .codeProfession:
            true
        default:
            false
        }
    }

    /// The 52 column names of the standard header, exactly as published.
    public static let standardNames: [String] = Array(names.prefix(52))

    /// The normalised forms (see ``normalise(_:)``) accepted for each column: its name,
    /// and the spellings of the 56-column variant.
    static let accepted: [String: ExtractionColumn] = {
        var map: [String: ExtractionColumn] = [:]
        for column in ExtractionColumn.allCases { map[normalise(column.name)] = column }
        let variants: [(String, ExtractionColumn)] = [
            ("Libellé civilité exercice", .libelleCiviliteExercice),
            ("Code civilité exercice", .codeCiviliteExercice),
            ("Code département (coord. structure)", .codeDepartement),
            ("Libellé département (coord. structure)", .libelleDepartement),
            ("Code département (structure)", .codeDepartement),
            ("Libellé département (structure)", .libelleDepartement),
            ("Adresse e-mail", .email),
            ("Adresse email (coord. structure)", .email),
        ]
        for (name, column) in variants { map[normalise(name)] = column }
        return map
    }()

    /// A column name folded for comparison: accents and case removed, every character but
    /// letters and digits dropped (`Libellé civilité d'exercice` → `LIBELLECIVILITEDEXERCICE`).
    static func normalise(_ name: String) -> String {
        String(NameKey.normalise(name).filter { $0 != " " })
    }

    private static let names: [String] = [
        "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
        "Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité", "Libellé civilité",
        "Nom d'exercice", "Prénom d'exercice", "Code profession", "Libellé profession",
        "Code catégorie professionnelle", "Libellé catégorie professionnelle",
        "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
        "Code mode exercice", "Libellé mode exercice",
        "Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site", "Numéro FINESS établissement juridique",
        "Identifiant technique de la structure", "Raison sociale site", "Enseigne commerciale site",
        "Complément destinataire (coord. structure)", "Complément point géographique (coord. structure)",
        "Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
        "Code type de voie (coord. structure)", "Libellé type de voie (coord. structure)",
        "Libellé Voie (coord. structure)", "Mention distribution (coord. structure)",
        "Bureau cedex (coord. structure)", "Code postal (coord. structure)", "Code commune (coord. structure)",
        "Libellé commune (coord. structure)", "Code pays (coord. structure)", "Libellé pays (coord. structure)",
        "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
        "Adresse e-mail (coord. structure)", "Code Département (structure)", "Libellé Département (structure)",
        "Ancien identifiant de la structure", "Autorité d'enregistrement",
        "Code secteur d'activité", "Libellé secteur d'activité",
        "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
        "Code fonction", "Libellé fonction", "Code genre d'activité", "Libellé genre d'activité",
    ]
}
