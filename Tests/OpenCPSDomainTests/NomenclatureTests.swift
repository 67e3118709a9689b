import Foundation
import Testing
@testable import OpenCPSDomain

@Suite("Nomenclatures")
struct NomenclatureTests {
    @Test("the seven ordinal professions and their orders")
    func ordinal() {
        let ordinal = Profession.all.filter(\.isOrdinal).map(\.code).sorted()
        #expect(ordinal == ["10", "21", "40", "50", "60", "70", "80"])
        #expect(Profession.named(code: "10")?.ordre == .cnom)
        #expect(Profession.named(code: "80")?.ordre?.abbreviation == "CNOPP")
        #expect(Profession.named(code: "21")?.ordre == .cnop)
        #expect(Ordre.allCases.filter(\.isAbbreviationConfirmed) == [.cnom, .cnopp])
    }

    @Test("médecins, chirurgiens-dentistes and sages-femmes prescribe")
    func prescribers() {
        #expect(Profession.all.filter(\.isPrescriber).map(\.code).sorted() == ["10", "40", "50"])
    }

    @Test("labels are exactly those of TRE_G15")
    func labels() throws {
        #expect(try Profession(code: "10").label == "Médecin")
        #expect(try Profession(code: "70").label == "Masseur-Kinésithérapeute")
        #expect(try Profession(code: "98").label == "Manipulateur ERM")
        #expect(try Profession(code: "28").label == "Opticien-Lunetier")
        #expect(Profession.all.filter { $0.codeSystem == .g15ProfessionSante && !$0.isDeprecated }.count == 24)
        #expect(Set(Profession.all.map(\.code)).count == Profession.all.count)
    }

    @Test("deprecated codes and usagers de titre are known, with their system")
    func deprecatedAndUsagers() throws {
        #expect(try Profession(code: "35").isDeprecated)
        #expect(try Profession(code: "39").label == "Préparateur en pharmacie (officine)")
        let osteo = try Profession(code: "71")
        #expect(osteo.codeSystem == .r95UsagerTitre)
        #expect(osteo.codeSystem.url == "https://mos.esante.gouv.fr/NOS/TRE_R95-UsagerTitre/FHIR/TRE-R95-UsagerTitre")
        #expect(try Profession(code: "93").label == "Psychologue")
        #expect(ProfessionCodeSystem.g15ProfessionSante.url == "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante")
    }

    @Test("an unknown profession code is refused")
    func unknownProfession() {
        #expect(throws: NomenclatureError(code: "profession.unknown", reason: "\"99\" is not a known profession code")) {
            try Profession(code: "99")
        }
        #expect(Profession.named(code: "") == nil)
    }

    @Test("a profession encodes as its code")
    func professionCodable() throws {
        let data = try JSONEncoder().encode([try Profession(code: "60")])
        #expect(String(decoding: data, as: UTF8.self) == #"["60"]"#)
        #expect(try JSONDecoder().decode([Profession].self, from: data) == [try Profession(code: "60")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Profession].self, from: Data(#"["99"]"#.utf8)) }
    }

    @Test("modes of activity, categories and civilités carry their code systems")
    func codedValues() throws {
        #expect(try ModeOfActivity(code: "L") == .liberal)
        #expect(ModeOfActivity.liberal.shortLabel == "Libéral")
        #expect(ModeOfActivity.salarie.label == "Salarié")
        #expect(ModeOfActivity.codeSystem == "https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice")
        #expect(throws: NomenclatureError.self) { try ModeOfActivity(code: "X") }
        #expect(ProfessionalCategory.fonctionnaire.isDeprecated)
        #expect(try ProfessionalCategory(code: "M").label == "Agent public")
        #expect(ProfessionalCategory.codeSystem.hasSuffix("TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle"))
        #expect(CiviliteExercice.docteur.label == "Docteur")
        #expect(CiviliteExercice.codeSystem.hasSuffix("/FHIR/TRE-R11-CiviliteExercice"))
        #expect(Civilite(rawValue: "MME")?.label == "Madame")
        #expect(Civilite.codeSystem == "https://mos.esante.gouv.fr/NOS/TRE_R81-Civilite/FHIR/TRE-R81-Civilite")
    }

    @Test("sectors of activity are keyed on their code, SA11 and SA62 absent")
    func sectors() throws {
        #expect(try SecteurActivite(code: "SA01").label == "Etablissement public de santé")
        #expect(try SecteurActivite(code: "SA42").label == "Appareillage médical")
        #expect(SecteurActivite.named(code: "SA11") == nil)
        #expect(SecteurActivite.named(code: "SA62") == nil)
        #expect(SecteurActivite.all.count == 67)
        #expect(SecteurActivite.codeSystem == "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite")
    }

    @Test("card types have their TRE_R87 code and numeric code")
    func cardTypes() throws {
        #expect(CardType.allCases.map(\.numericCode) == [0, 1, 2, 3])
        #expect(CardType.allCases.map(\.code) == ["CPS", "CPF", "CPE", "CPA"])
        #expect(try CardType(code: "CPE") == .cpe)
        #expect(CardType.cpa.display == "Carte de Personnel Autorisé (CDA/CPA)")
        #expect(CardType.codeSystem == "https://mos.esante.gouv.fr/NOS/TRE_R87-TypeCarte/FHIR/TRE-R87-TypeCarte")
        #expect(throws: NomenclatureError.self) { try CardType(code: "CPX") }
    }
}
