import Foundation
import Testing
@testable import OpenCPSDomain

/// The two example rows of REFERENCE.md §1. Their identifiers are anonymised placeholders,
/// checked with Python: RPPS 10000000009 passes the Luhn check (so row 1 is valid as
/// published), and ADELI 259999999 is well formed (ADELI has no published key). The
/// structure numbers are real and valid: FINESS 250000700 and 250000452, SIRET
/// 26250462400012 and 49940088500020.
private let exampleRow1 = "8|10000000009|810000000009|DR|Docteur|M|Monsieur|MARTIN|PAUL|10|Médecin|C|Civil|S|Spécialité ordinale|SM53|Spécialiste en Médecine Générale|S|Salarié|26250462400012||250000700|250000452|F250000700|CHI HC SITE RIVES DU DOUBS PONTARLIER||||2||FG|Faubourg|SAINT ETIENNE|CS 10329|25304 PONTARLIER CEDEX|25304|25462|Pontarlier|||0300000000||0300000001|contact@example.fr|||1250000700|CNOM/CNOM/ARS|SA01|Etablissement Public de santé|||"
private let exampleRow2 = "0|259999999|0259999999|||M|Monsieur|DURAND|LUC|26|Audioprothésiste|C|Civil|||||S|Salarié|49940088500020||||C49940088500020|DOUBS OPTIC||DOUBS OPTIC||9||RTE|Route|DE BESANCON||25300 DOUBS|25300|||||||||||349940088500020|ARS/Variable/Variable|SA42|Appareillage médical|||"

/// The 56-column header of the newer variant, with its spelling differences.
private let header56 = ([
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP", "Code civilité d'exercice",
    "Libellé civilité exercice", "Code civilité", "Libellé civilité", "Nom d'exercice", "Prénom d'exercice",
    "Code profession", "Libellé profession", "Code catégorie professionnelle", "Libellé catégorie professionnelle",
    "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site",
    "Numéro FINESS établissement juridique", "Identifiant technique de la structure", "Raison sociale site",
    "Enseigne commerciale site", "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)", "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. Structure)", "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)", "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)", "Code postal (coord. structure)", "Code commune (coord. structure)",
    "Libellé commune (coord. structure)", "Code pays (coord. structure)", "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Code département (coord. structure)", "Libellé département (coord. structure)",
    "Ancien identifiant de la structure", "Autorité d'enregistrement", "Code secteur d'activité",
    "Libellé secteur d'activité", "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
    "Code fonction", "Libellé fonction", "Code genre d'activité", "Libellé genre d'activité",
].map { $0 + "|" }.joined())

/// Replaces field `index` of a row.
private func replacing(_ row: String, field index: Int, with value: String) -> String {
    var fields = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    fields[index] = value
    return fields.joined(separator: "|")
}

@Suite("Extraction header")
struct ExtractionHeaderTests {
    @Test("the standard header has the 52 published names and a trailing separator")
    func standard() throws {
        let header = ExtractionHeader.standard
        #expect(header.columnCount == 52)
        #expect(header.hasTrailingSeparator)
        #expect(ExtractionHeader.standardLine.hasPrefix("Type d'identifiant PP|Identifiant PP|Identification nationale PP|"))
        #expect(ExtractionHeader.standardLine.hasSuffix("|Code section tableau pharmaciens|Libellé section tableau pharmaciens|"))
        #expect(header.index(of: .codeProfession) == 9)
        #expect(header.index(of: .autoriteEnregistrement) == 47)
        #expect(header.index(of: .codeFonction) == nil)
    }

    @Test("the 56-column variant is read by name despite its spellings")
    func variant() throws {
        let header = try ExtractionHeader(line: header56)
        #expect(header.columnCount == 56)
        #expect(header.index(of: .libelleCiviliteExercice) == 4)
        #expect(header.index(of: .indiceRepetitionVoie) == 29)
        #expect(header.index(of: .codeDepartement) == 44)
        #expect(header.index(of: .libelleDepartement) == 45)
        #expect(header.index(of: .codeGenreActivite) == 54)
    }

    @Test("names match without regard to case, accents or a BOM")
    func tolerant() throws {
        let header = try ExtractionHeader(line: "\u{FEFF}TYPE D'IDENTIFIANT PP|identifiant pp|Identification Nationale PP|NOM D’EXERCICE|Prenom d'exercice|code PROFESSION|Colonne inconnue|")
        #expect(header.index(of: .prenomExercice) == 4)
        #expect(header.index(of: .nomExercice) == 3)
        #expect(header.columnCount == 7)
    }

    @Test("a header without a required column is refused, naming it")
    func missing() {
        #expect(throws: ExtractionError(
            lineNumber: 1, code: "extraction.header",
            message: "the header lacks the required column(s) \"Identification nationale PP\", \"Code profession\"")) {
            try ExtractionHeader(line: "Type d'identifiant PP|Identifiant PP|Nom d'exercice|Prénom d'exercice|")
        }
    }
}

@Suite("Extraction rows")
struct ExtractionRowTests {
    let parser = ExtractionRow(header: .standard)

    @Test("the first example row: a salaried médecin in a FINESS establishment")
    func example1() throws {
        let record = try parser.record(from: exampleRow1, lineNumber: 2)
        #expect(record.idNat == .rpps(try RPPS("10000000009")))
        #expect(record.identifierTypeCode == "8")
        #expect(record.civiliteExerciceCode == "DR")
        #expect(record.civiliteCode == "M")
        #expect(record.lastName == "MARTIN")
        #expect(record.firstName == "PAUL")
        #expect(record.profession.code == "10")
        #expect(record.categoryCode == "C")
        #expect(record.savoirFaire == SavoirFaire(typeCode: "S", code: "SM53", label: "Spécialiste en Médecine Générale"))
        #expect(record.mode == .salarie)
        #expect(record.siret == (try SIRET("26250462400012")))
        #expect(record.siren == nil)
        #expect(record.finessSite == (try FINESS("250000700")))
        #expect(record.finessJuridique == (try FINESS("250000452")))
        #expect(record.technicalStructureID == "F250000700")
        #expect(record.raisonSociale == "CHI HC SITE RIVES DU DOUBS PONTARLIER")
        #expect(record.enseigne == nil)
        #expect(record.address.streetNumber == "2")
        #expect(record.address.streetTypeCode == "FG")
        #expect(record.address.streetName == "SAINT ETIENNE")
        #expect(record.address.distributionMention == "CS 10329")
        #expect(record.address.bureauCedex == "25304 PONTARLIER CEDEX")
        #expect(record.address.postalCode == "25304")
        #expect(record.address.communeCode == "25462")
        #expect(record.address.communeName == "Pontarlier")
        #expect(record.address.postalAddress == PostalAddress(line: "2 Faubourg SAINT ETIENNE", postalCode: "25304", city: "Pontarlier"))
        // The department column is empty: derived from the postal code.
        #expect(record.department == (try DepartmentCode("25")))
        #expect(record.secteurCode == "SA01")
        #expect(record.autoriteEnregistrement == "CNOM/CNOM/ARS")
        #expect(record.phone == "0300000000")
        #expect(record.email == "contact@example.fr")
        #expect(record.structureIdentifier == .finess(try FINESS("250000700")))
        #expect(record.activity?.structureName == "CHI HC SITE RIVES DU DOUBS PONTARLIER")
    }

    @Test("the second example row: an audioprothésiste known by ADELI")
    func example2() throws {
        let record = try parser.record(from: exampleRow2, lineNumber: 3)
        #expect(record.idNat == .adeli(try ADELI("259999999")))
        #expect(record.civiliteExerciceCode == nil)
        #expect(record.profession.label == "Audioprothésiste")
        #expect(record.savoirFaire == nil)
        #expect(record.siret == (try SIRET("49940088500020")))
        #expect(record.finessSite == nil)
        #expect(record.structureIdentifier == .siret(try SIRET("49940088500020")))
        #expect(record.raisonSociale == "DOUBS OPTIC")
        #expect(record.enseigne == nil)
        #expect(record.address.recipientComplement == "DOUBS OPTIC")
        #expect(record.address.communeName == nil)
        #expect(record.address.postalAddress.city == "DOUBS")
        #expect(record.department == (try DepartmentCode("25")))
        #expect(record.secteurCode == "SA42")
    }

    @Test("a row of the 56-column variant is read by its header")
    func variantRow() throws {
        let parser = ExtractionRow(header: try ExtractionHeader(line: header56))
        let row = replacing(exampleRow1, field: 44, with: "25") + "FON-05|Fonction|GENR01|Activité de soin et de pharmacie|"
        let record = try parser.record(from: row, lineNumber: 2)
        #expect(record.department == (try DepartmentCode("25")))
        #expect(record.lastName == "MARTIN")
    }

    @Test("a row without its trailing separator is accepted")
    func noTrailingSeparator() throws {
        let record = try parser.record(from: String(exampleRow1.dropLast()), lineNumber: 2)
        #expect(record.profession.code == "10")
    }

    @Test("a wrong key is reported with its line, column and reason")
    func badKey() {
        let row = replacing(replacing(exampleRow1, field: 1, with: "10000000008"), field: 2, with: "810000000008")
        #expect(throws: ExtractionError(
            lineNumber: 17, column: "Identifiant PP", code: "extraction.invalid-identifier", causeCode: "identifier.check-digit",
            message: "the Luhn key of RPPS 10000000008 should be 9")) {
            try parser.record(from: row, lineNumber: 17)
        }
        #expect { try parser.record(from: row, lineNumber: 17) } throws: {
            ($0 as? ExtractionError)?.reason == "line 17: Identifiant PP: the Luhn key of RPPS 10000000008 should be 9"
        }
    }

    @Test("an idNat that is not type + identifier is refused")
    func idNatMismatch() {
        let row = replacing(exampleRow1, field: 2, with: "810100271385")
        #expect { try parser.record(from: row, lineNumber: 5) } throws: {
            let error = $0 as? ExtractionError
            return error?.code == "extraction.idnat-mismatch"
                && error?.reason == "line 5: Identification nationale PP: expected 810000000009 (type 8 + identifier 10000000009), got 810100271385"
        }
    }

    @Test("missing fields, unknown identifier types and modes are refused", arguments: [
        (9, "", "extraction.missing-value"),
        (1, "", "extraction.missing-value"),
        (7, "", "extraction.missing-value"),
        (0, "7", "extraction.identifier-type"),
        (0, "2", "extraction.identifier-type"),
        (17, "X", "extraction.mode-unknown"),
    ])
    func refused(field: Int, value: String, code: String) {
        let row = replacing(exampleRow1, field: field, with: value)
        #expect { try parser.record(from: row, lineNumber: 9) } throws: {
            let error = $0 as? ExtractionError
            return error?.code == code && error?.lineNumber == 9
        }
    }

    @Test("an unknown profession code and invalid optional identifiers are kept, each flagged with its column and reason", arguments: [
        (9, "99", "Code profession", "extraction.profession-unknown"),
        (19, "26250462400013", "Numéro SIRET site", "extraction.invalid-identifier"),
        (20, "26250462X", "Numéro SIREN site", "extraction.invalid-identifier"),
        (21, "2500007", "Numéro FINESS site", "extraction.invalid-identifier"),
        (22, "25000045", "Numéro FINESS établissement juridique", "extraction.invalid-identifier"),
        (23, "r-12", "Identifiant technique de la structure", "extraction.invalid-identifier"),
    ])
    func flagged(field: Int, value: String, column: String, code: String) throws {
        let record = try parser.record(from: replacing(exampleRow1, field: field, with: value), lineNumber: 9)
        #expect(record.idNat.value == "810000000009")
        let flag = try #require(record.flags.first)
        #expect(record.flags.count == 1)
        #expect(flag.column == column && flag.code == code && flag.value == value && !flag.reason.isEmpty, "\(flag)")
        switch field {
        case 9: #expect(record.profession.code == "99" && !record.profession.isListed && !record.profession.isPrescriber)
        case 19:
            let finess = try FINESS("250000700")
            #expect(record.siret == nil && record.structureIdentifier == .finess(finess))
        case 21:
            let siret = try SIRET("26250462400012")
            #expect(record.finessSite == nil && record.structureIdentifier == .siret(siret))
        default: break
        }
    }

    @Test("staff identifier types 1, 3, 4, 5 and 6 give their idNat", arguments: [
        ("1", "012600631/A12", "1012600631/A12"),
        ("3", "250000700/IDE-042", "3250000700/IDE-042"),
        ("4", "262504624/0042", "4262504624/0042"),
        ("5", "26250462400012/0042", "526250462400012/0042"),
        ("6", "CAB123/7", "6CAB123/7"),
    ])
    func staffTypes(type: String, identifier: String, idNat: String) throws {
        var row = replacing(exampleRow1, field: 0, with: type)
        row = replacing(row, field: 1, with: identifier)
        row = replacing(row, field: 2, with: idNat)
        let record = try parser.record(from: row, lineNumber: 3)
        #expect(record.idNat.value == idNat)
        #expect(record.idNat.typeCode == type)
        #expect(record.identifierTypeCode == type)
        #expect(FHIRIdentifier.idNat(FHIRIdentifier.of(record.idNat)) == record.idNat)
    }

    @Test("a libéral cabinet known only by its technical identifier is the row's structure, with its former identifier kept")
    func technicalStructure() throws {
        var row = exampleRow1
        for (field, value) in [(17, "L"), (18, "Libéral"), (19, ""), (21, ""), (22, ""), (23, "R10100000328372"),
                               (24, "CABINET DU DR MARTIN"), (46, "410000000009017"), (48, "SA07")] {
            row = replacing(row, field: field, with: value)
        }
        let record = try parser.record(from: row, lineNumber: 4)
        #expect(record.structureIdentifier == .technical("R10100000328372"))
        #expect(record.formerStructureID == "410000000009017")
        #expect(record.flags.isEmpty)
        let activity = try #require(record.activity)
        #expect(activity.structure?.idNatStruct == "R10100000328372")
        #expect(activity.mode == .liberal)
    }

    @Test("the function, activity genre and pharmacists' section are kept")
    func fonctionGenreSection() throws {
        let parser = ExtractionRow(header: try ExtractionHeader(line: header56))
        var row = replacing(exampleRow1, field: 9, with: "21")
        row = replacing(row, field: 50, with: "H")
        row = replacing(row, field: 51, with: "Pharmaciens des établissements de santé")
        let record = try parser.record(from: row + "FON-05|Fonction|GENR01|Activité de soin et de pharmacie|", lineNumber: 2)
        #expect(record.fonctionCode == "FON-05")
        #expect(record.genreCode == "GENR01")
        #expect(record.sectionCode == "H")
        let activity = try #require(record.activity)
        #expect(activity.fonctionCode == "FON-05" && activity.genreCode == "GENR01" && activity.sectionCode == "H")
    }

    @Test("a wrong number of fields is refused")
    func fieldCount() {
        let short = exampleRow1.split(separator: "|", omittingEmptySubsequences: false).prefix(40).joined(separator: "|") + "|"
        #expect(throws: ExtractionError(lineNumber: 4, code: "extraction.field-count", message: "expected 52 fields each followed by \"|\", got 40 fields")) {
            try parser.record(from: short, lineNumber: 4)
        }
        #expect { try parser.record(from: exampleRow1 + "extra|", lineNumber: 4) } throws: { ($0 as? ExtractionError)?.code == "extraction.field-count" }
        #expect { try parser.record(from: exampleRow1 + "extra", lineNumber: 4) } throws: { ($0 as? ExtractionError)?.code == "extraction.field-count" }
    }

    @Test("an invalid department code falls back to the postal code")
    func badDepartment() throws {
        let record = try parser.record(from: replacing(exampleRow1, field: 44, with: "20"), lineNumber: 2)
        #expect(record.department == (try DepartmentCode("25")))
    }

    @Test("bytes, slices and substrings parse alike")
    func inputs() throws {
        let bytes = Array(exampleRow1.utf8)
        let fromBytes = try parser.record(from: bytes, lineNumber: 2)
        let fromSlice = try parser.record(from: ([0x41] + bytes)[1...], lineNumber: 2)
        let fromSubstring = try parser.record(from: ("x" + exampleRow1).dropFirst(), lineNumber: 2)
        #expect(fromBytes == fromSlice)
        #expect(fromBytes == fromSubstring)
    }
}

@Suite("Extraction line reader")
struct ExtractionLineReaderTests {
    @Test("BOM, CRLF, blank lines and Windows-1252 lines are handled")
    func mixedFile() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array((ExtractionHeader.standardLine + "\r\n").utf8)
        bytes += Array((exampleRow1 + "\r\n").utf8)
        bytes += Array("\r\n".utf8)
        // Row 2 in Windows-1252: "Audioprothésiste" and "Salarié" with é = 0xE9.
        bytes += Array(exampleRow2.utf8).windows1252Encoded() + [0x0A]
        let reader = ExtractionLineReader(bytes: bytes)

        let header = try #require(try reader.nextLine())
        #expect(header.number == 1)
        #expect(header.text == ExtractionHeader.standardLine)
        let parser = ExtractionRow(header: try ExtractionHeader(bytes: header.bytes))
        let first = try #require(try reader.nextLine())
        #expect(first.number == 2)
        #expect(!first.wasWindows1252)
        #expect(try parser.record(from: first).lastName == "MARTIN")
        let second = try #require(try reader.nextLine())
        #expect(second.number == 4)
        #expect(second.wasWindows1252)
        let record = try parser.record(from: second)
        #expect(record.profession.code == "26")
        #expect(second.text.contains("Audioprothésiste|C|Civil|||||S|Salarié|"))
        #expect(try reader.nextLine() == nil)
        #expect(reader.bytesConsumed == bytes.count)
        #expect(reader.windows1252LineCount == 1)
    }

    @Test("Windows-1252 specials become their Unicode characters")
    func windows1252() {
        let line: [UInt8] = [0x80, 0x20, 0x8C, 0x9C, 0x92, 0xE9, 0xFF]
        #expect(TextDecoding.string(fromLine: line) == "€ Œœ’éÿ")
        #expect(TextDecoding.isValidUTF8(Array("Œuvre €".utf8)))
        #expect(!TextDecoding.isValidUTF8([0xC3]))
        #expect(!TextDecoding.isValidUTF8([0xED, 0xA0, 0x80]))
        #expect(!TextDecoding.isValidUTF8([0xC0, 0xAF]))
    }

    @Test("UTF-8 validation agrees with the standard library's on ASCII runs mixed with good and bad sequences")
    func utf8AgreesWithTheStandardLibrary() {
        // Pieces that straddle the validator's eight-byte steps at every offset.
        let pieces: [[UInt8]] = [
            Array("é".utf8), Array("€".utf8), Array("😀".utf8), Array("Œ".utf8),
            [0x80], [0xBF], [0xC0, 0xAF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xE0, 0x80, 0x80],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xC3, 0x28],
        ]
        var random = SplitMix64(seed: 2026)
        var invalid = 0
        for _ in 0..<5_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(random.next() % 5) {
                for _ in 0..<Int(random.next() % 13) { bytes.append(UInt8(0x20 + random.next() % 0x5F)) }
                if random.next() % 2 == 0 { bytes += pieces[Int(random.next() % UInt64(pieces.count))] }
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if !expected { invalid += 1 }
            #expect(TextDecoding.isValidUTF8(bytes) == expected, "\(bytes)")
        }
        #expect(invalid > 500 && invalid < 4_500)
    }

    @Test("a file is read in chunks smaller than its lines")
    func smallChunks() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-reader-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        let text = ExtractionHeader.standardLine + "\n" + exampleRow1 + "\n" + exampleRow2
        try Data(text.utf8).write(to: url)
        let reader = try ExtractionLineReader(path: url.path, chunkSize: 100)
        var lines: [String] = []
        while let line = try reader.nextLine() { lines.append(line.text) }
        #expect(lines == [ExtractionHeader.standardLine, exampleRow1, exampleRow2])
        #expect(reader.totalBytes == text.utf8.count)
        #expect(reader.bytesConsumed == text.utf8.count)
    }

    @Test("a missing file is reported")
    func missingFile() {
        #expect { try ExtractionLineReader(path: "/nonexistent/opencps.txt") } throws: { ($0 as? ExtractionError)?.code == "extraction.read" }
    }
}

extension [UInt8] {
    /// The UTF-8 text re-encoded in Windows-1252 (Latin-1 range only, enough for the fixtures).
    fileprivate func windows1252Encoded() -> [UInt8] {
        String(decoding: self, as: UTF8.self).unicodeScalars.map { UInt8($0.value) }
    }
}
