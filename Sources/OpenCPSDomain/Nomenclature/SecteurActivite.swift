/// A sector of activity of a structure (TRE_R02-SecteurActivite), such as `SA07` Cabinet individuel.
///
/// Extraction files may carry short or older labels: key on the code.
public struct SecteurActivite: Hashable, Sendable, CustomStringConvertible {
    /// The code, such as `SA07`.
    public let code: String
    /// The nomenclature's label.
    public let label: String

    /// The FHIR CodeSystem URL of TRE_R02-SecteurActivite.
    public static let codeSystem = Nomenclature.codeSystemURL("TRE_R02-SecteurActivite")

    /// The sector with this code.
    /// - Throws: ``NomenclatureError`` with code `secteur-activite.unknown`.
    public init(code: String) throws(NomenclatureError) {
        guard let label = SecteurActivite.labels[code] else {
            throw NomenclatureError(code: "secteur-activite.unknown", reason: "\"\(code)\" is not a sector of activity code")
        }
        self.code = code
        self.label = label
    }

    /// The sector with this code, or nil.
    public static func named(code: String) -> SecteurActivite? { try? SecteurActivite(code: code) }

    /// `code label`.
    public var description: String { "\(code) \(label)" }

    /// Every sector, in code order (SA11 and SA62 do not exist).
    public static let all: [SecteurActivite] = labels.keys.sorted().map { try! SecteurActivite(code: $0) }

    static let labels: [String: String] = [
        "SA01": "Etablissement public de santé",
        "SA02": "Hôpital militaire du Service de santé des armées",
        "SA03": "Etablissement privé PSPH",
        "SA04": "Etablissement privé non PSPH",
        "SA05": "Centre de santé",
        "SA06": "Autre structure du Service de santé des armées",
        "SA07": "Cabinet individuel",
        "SA08": "Cabinet de groupe",
        "SA09": "Exercice en société",
        "SA10": "Transporteur sanitaire",
        "SA12": "Etablissement de soins et prévention",
        "SA13": "Prévention et soins en entreprise",
        "SA14": "Etablissements scolaires, universitaires et de formation hors champ FINESS",
        "SA15": "PMI et Planification familiale",
        "SA16": "Etablissement pour personnes handicapées",
        "SA17": "Etablissement pour personnes âgées",
        "SA18": "Etablissement aide à la famille",
        "SA19": "Etablissements FINESS de formation aux professions sanitaires et sociales",
        "SA20": "Etablissement pour la protection de l'enfance",
        "SA21": "Etablissement d'hébergement et de réadaptation",
        "SA22": "Recherche",
        "SA23": "Assurance privée",
        "SA24": "Organisme de sécurité sociale",
        "SA25": "Laboratoire de biologie médicale",
        "SA26": "Ministère ou Service déconcentré",
        "SA27": "Collectivité territoriale",
        "SA28": "Association ou organisme humanitaire",
        "SA29": "Laboratoire d'analyses et de biologie médicale",
        "SA30": "Autre établissement sanitaire",
        "SA31": "Répartition et Distribution de médicaments et dispositifs médicaux",
        "SA32": "Fabrication, Exploitation et Importation de médicaments et dispositifs médicaux",
        "SA33": "Pharmacie d'officine",
        "SA34": "Centre de dialyse",
        "SA35": "Para-pharmacie",
        "SA36": "Centre anti-cancer",
        "SA37": "Centre de transfusion sanguine",
        "SA38": "Pharmacie minière",
        "SA39": "Pharmacie mutualiste",
        "SA40": "Secteur privé, praticien hospitalier",
        "SA41": "Autre établissement du domaine social ou médico-social",
        "SA42": "Appareillage médical",
        "SA43": "Secteur non défini",
        "SA44": "Recrutement ou Gestion RH",
        "SA45": "Communication, Marketing, Consulting, Média",
        "SA46": "Fabrication, Exploitation, Importation, Répartition, Distribution médicaments et dispositifs médicaux",
        "SA47": "Incendie et secours",
        "SA48": "Entreprise industrielle et tertiaire hors industrie pharmaceutique",
        "SA49": "Entité Outre-Mer",
        "SA50": "Permanence des soins ambulatoires hors cabinet",
        "SA51": "Structure de coopération avec autorisation de soins",
        "SA52": "Maison de santé ou Pôle de santé",
        "SA53": "Siège administratif d'un établissement de santé",
        "SA54": "Centre de dépistage et de prévention",
        "SA55": "Laboratoire pharmaceutique préparant et délivrant des allergènes",
        "SA56": "Propharmacie",
        "SA57": "Structure de coopération avec mission de coordination de soins",
        "SA58": "Entreprise de taxis",
        "SA59": "Laboratoire de biologie médicale hors catégorie standard",
        "SA60": "Centres médicaux SNCF",
        "SA61": "Structure Dispensatrice à domicile d'Oxygène à usage médical",
        "SA63": "Structures de coordination et d'orientation",
        "SA64": "Société de téléconsultation",
        "SA65": "Antenne de pharmacie",
        "SA66": "Services de Prévention et de Santé au Travail (SPST)",
        "SA67": "Maisons médicales de garde (MMG)",
        "SA68": "Services départementaux d'incendie et de secours",
        "SA69": "Maisons de naissance",
    ]
}
