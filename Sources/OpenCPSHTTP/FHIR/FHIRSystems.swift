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
    /// Identifiers of activities are OpenCPS's own: no national system exists for them here.
    static let activity = "urn:opencps:activity"
    static let professionG15 = nos + "TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
    static let usagerTitreR95 = nos + "TRE_R95-UsagerTitre/FHIR/TRE-R95-UsagerTitre"
    static let categoryR09 = nos + "TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle"
    static let modeR23 = nos + "TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
    static let sectorR02 = nos + "TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
    static let savoirFaireR38 = nos + "TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
    static let structureDefinitions = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/"
    static let practitionerProfile = structureDefinitions + "as-dp-practitioner"
    static let practitionerRoleProfile = structureDefinitions + "as-dp-practitionerrole"
    static let organizationProfile = structureDefinitions + "as-dp-organization"
    static let organizationTypesExtension = structureDefinitions + "as-ext-organization-types"

    /// Systems under which an RPPS number may be searched, current and older.
    static let rppsSystems: Set<String> = [rpps, "http://rpps.esante.gouv.fr", "http://rpps.fr"]
    /// Systems under which an ADELI number may be searched.
    static let adeliSystems: Set<String> = [adeli, "http://adeli.esante.gouv.fr", "http://adeli.fr"]
    /// Systems under which a FINESS number may be searched.
    static let finessSystems: Set<String> = [finess, "http://finess.esante.gouv.fr"]
    /// Systems under which a SIRET may be searched.
    static let sireneSystems: Set<String> = [sirene, "http://sirene.fr"]
}
