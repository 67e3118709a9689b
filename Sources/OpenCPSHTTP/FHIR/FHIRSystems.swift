import OpenCPSDomain

/// The code systems and identifier systems of the national directory (REFERENCE.md §4, §6).
enum FHIRSystem {
    static let nos = "https://mos.esante.gouv.fr/NOS/"
    static let identifierType = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
    static let idNatPS = "urn:oid:1.2.250.1.71.4.2.1"
    static let idNatStruct = "urn:oid:1.2.250.1.71.4.2.2"
    static let rpps = "https://rpps.esante.gouv.fr"
    static let adeli = "https://adeli.esante.gouv.fr"
    static let finess = "https://finess.esante.gouv.fr"
    static let sirene = "https://sirene.fr"
    static let rppsRang = "https://rppsrang.esante.gouv.fr"
    static let adeliRang = "https://adelirang.esante.gouv.fr"
    /// TRE_G08: the type codes of staff identifiers (1, 3, 4, 5, 6), per the IG's Practitioner profile.
    static let personIdentifierTypeG08 = nos + "TRE_G08-TypeIdentifiantPersonne/FHIR/TRE-G08-TypeIdentifiantPersonne"
    /// fr-core-cs-v2-3307: `LEGAL-ENTITY` / `GEOGRAPHICAL-ENTITY` on Organization.type.
    static let organizationTypeV23307 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-3307"
    /// Identifiers of activities are OpenCPS's own: no national system exists for them here.
    static let activity = "urn:opencps:activity"
    static let professionG15 = nos + "TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
    static let usagerTitreR95 = nos + "TRE_R95-UsagerTitre/FHIR/TRE-R95-UsagerTitre"
    static let categoryR09 = nos + "TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle"
    static let modeR23 = nos + "TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
    static let sectorR02 = nos + "TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
    static let savoirFaireTypeR04 = nos + "TRE_R04-TypeSavoirFaire/FHIR/TRE-R04-TypeSavoirFaire"
    static let genreR22 = nos + "TRE_R22-GenreActivite/FHIR/TRE-R22-GenreActivite"
    static let fonctionR21 = nos + "TRE_R21-Fonction/FHIR/TRE-R21-Fonction"
    static let sectionPharmacienR06 = nos + "TRE_R06-SectionTableauCNOP/FHIR/TRE-R06-SectionTableauCNOP"
    static let cardTypeR87 = nos + "TRE_R87-TypeCarte/FHIR/TRE-R87-TypeCarte"
    /// The code system of a savoir-faire by its type (TRE_R04), as the IG's slices pair them
    /// (`specialty[savoirFaireRnn]`); nil for the types the IG gives no system (CM, SH, SST).
    static func savoirFaireSystem(type: String) -> String? {
        let table: String? = switch type {
        case "S": "TRE_R38-SpecialiteOrdinale"
        case "C": "TRE_R39-Competence"
        case "CEX": "TRE_R40-CompetenceExclusive"
        case "DNQ": "TRE_R42-DESCnonQualifiant"
        case "CAPA": "TRE_R43-CapaciteSavoirFaire"
        case "PAC": "TRE_R44-QualificationPAC"
        case "FQ": "TRE_R45-FonctionQualifiee"
        case "DEC": "TRE_R97-DroitExerciceCompl"
        case "OP": "TRE_G13-OrientationParticuliere"
        default: nil
        }
        return table.map(Nomenclature.codeSystemURL)
    }
    static let structureDefinitions = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/"
    static let practitionerProfile = structureDefinitions + "as-dp-practitioner"
    static let practitionerRoleProfile = structureDefinitions + "as-dp-practitionerrole"
    static let organizationProfile = structureDefinitions + "as-dp-organization"
    static let organizationTypesExtension = structureDefinitions + "as-ext-organization-types"
    static let smartCardExtension = structureDefinitions + "as-ext-smartcard"

    /// Systems under which an RPPS number may be searched, current and older.
    static let rppsSystems: Set<String> = [rpps, "http://rpps.esante.gouv.fr", "http://rpps.fr"]
    /// Systems under which an ADELI number may be searched.
    static let adeliSystems: Set<String> = [adeli, "http://adeli.esante.gouv.fr", "http://adeli.fr"]
    /// Systems under which a FINESS number may be searched.
    static let finessSystems: Set<String> = [finess, "http://finess.esante.gouv.fr"]
    /// Systems under which a SIRET may be searched.
    static let sireneSystems: Set<String> = [sirene, "http://sirene.fr"]
}
