import Foundation
import Testing
@testable import OpenCPSDomain

/// A Luhn check written independently of the library's, to cross-check the vectors.
/// Every vector in this file was also checked with a separate Python implementation.
private func independentLuhn(_ text: String) -> Bool {
    let digits = text.compactMap(\.wholeNumberValue)
    var sum = 0
    for (offset, digit) in digits.reversed().enumerated() {
        let doubled = offset % 2 == 1 ? digit * 2 : digit
        sum += doubled > 9 ? doubled - 9 : doubled
    }
    return sum % 10 == 0
}

@Suite("Identifiers")
struct IdentifierTests {
    @Test("valid RPPS numbers are accepted", arguments: ["10000000009", "10100271385", "10001234565", "10999999997"])
    func validRPPS(text: String) throws {
        #expect(independentLuhn(text))
        let rpps = try RPPS(text)
        #expect(rpps.value == text)
        #expect(rpps.description == text)
    }

    @Test("an RPPS with a wrong key names the right key")
    func rppsWrongKey() {
        #expect(throws: IdentifierError(kind: .rpps, code: "identifier.check-digit", reason: "the Luhn key of RPPS 10000000008 should be 9")) {
            try RPPS("10000000008")
        }
    }

    @Test("the fictitious IG examples are refused for their key", arguments: ["10003461033", "10101201234"])
    func igExamplesRefused(text: String) {
        #expect(!independentLuhn(text))
        #expect { try RPPS(text) } throws: { ($0 as? IdentifierError)?.code == "identifier.check-digit" }
    }

    @Test("an RPPS of the wrong length or with letters is refused")
    func rppsFormat() {
        #expect(throws: IdentifierError(kind: .rpps, code: "identifier.length", reason: "an RPPS number has 11 digits, got 10")) {
            try RPPS("1000000000")
        }
        #expect(throws: IdentifierError(kind: .rpps, code: "identifier.characters", reason: "an RPPS number has digits only, got \"1000000000A\"")) {
            try RPPS("1000000000A")
        }
        #expect { try RPPS("") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
        #expect { try RPPS("１0000000009") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
    }

    @Test("withKey appends the Luhn key")
    func rppsWithKey() {
        #expect(RPPS.withKey(sequence: "1010027138")?.value == "10100271385")
        #expect(RPPS.withKey(sequence: "10100") == nil)
    }

    @Test("an RPPS rang exposes its RPPS and rank")
    func rppsRang() throws {
        let rang = try RPPSRang("10000000009124")
        #expect(independentLuhn("10000000009124"))
        #expect(rang.rpps == (try RPPS("10000000009")))
        #expect(rang.rank == 12)
        #expect(try RPPSRang("10000000009017").rank == 1)
    }

    @Test("an RPPS rang is refused when its key or its RPPS is wrong")
    func rppsRangInvalid() {
        #expect { try RPPSRang("10000000009125") } throws: { ($0 as? IdentifierError)?.code == "identifier.check-digit" }
        // Luhn-valid over 14 digits, but 10000000008 is not an RPPS.
        #expect(independentLuhn("10000000008019"))
        #expect { try RPPSRang("10000000008019") } throws: {
            let error = $0 as? IdentifierError
            return error?.kind == .rppsRang && error?.reason == "RPPS rang 10000000008019: the Luhn key of RPPS 10000000008 should be 9"
        }
        #expect { try RPPSRang("1000000000901") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
    }

    @Test("ADELI numbers are checked for format only", arguments: ["012600631", "259999999", "2A9100123", "2B6000017"])
    func validADELI(text: String) throws {
        #expect(try ADELI(text).value == text)
    }

    @Test("malformed ADELI numbers are refused")
    func invalidADELI() {
        #expect(throws: IdentifierError(kind: .adeli, code: "identifier.length", reason: "an ADELI number has 9 characters, got 8")) {
            try ADELI("01260063")
        }
        #expect { try ADELI("01A600631") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
        #expect { try ADELI("2C9100123") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
    }

    @Test("FINESS numbers pass, Corsican ones with the 2A→21 and 2B→22 substitution",
          arguments: ["250000700", "250000452", "010001238", "2A0000121", "2B0000343", "970100228"])
    func validFINESS(text: String) throws {
        let substituted = text.hasPrefix("2A") ? "21" + text.dropFirst(2) : text.hasPrefix("2B") ? "22" + text.dropFirst(2) : text
        #expect(independentLuhn(substituted))
        #expect(try FINESS(text).value == text)
    }

    @Test("a FINESS exposes its department")
    func finessDepartment() throws {
        #expect(try FINESS("2A0000121").department == "2A")
        #expect(try FINESS("2A0000121").departmentCode == (try DepartmentCode("2A")))
        #expect(try FINESS("250000700").departmentCode == (try DepartmentCode("25")))
        #expect(try FINESS("970100228").departmentCode == (try DepartmentCode("971")))
        #expect(FINESS.withKey(body: "2B000034")?.value == "2B0000343")
    }

    @Test("a FINESS with a wrong key or bad characters is refused")
    func invalidFINESS() {
        // The key without substitution would be wrong: 2A0000126 is not valid.
        #expect(throws: IdentifierError(kind: .finess, code: "identifier.check-digit", reason: "the Luhn key of FINESS 2A0000126 should be 1")) {
            try FINESS("2A0000126")
        }
        #expect { try FINESS("25000070") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
        #expect { try FINESS("25A000700") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
        #expect { try FINESS("3A0000121") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
    }

    @Test("SIREN numbers pass the Luhn check", arguments: ["732829320", "552100554", "356000000"])
    func validSIREN(text: String) throws {
        #expect(independentLuhn(text))
        #expect(try SIREN(text).value == text)
    }

    @Test("a SIREN with a wrong key is refused")
    func invalidSIREN() {
        #expect(throws: IdentifierError(kind: .siren, code: "identifier.check-digit", reason: "the Luhn key of SIREN 732829321 should be 0")) {
            try SIREN("732829321")
        }
    }

    @Test("SIRETs pass the Luhn check and expose their SIREN", arguments: ["73282932000074", "26250462400012", "49940088500020"])
    func validSIRET(text: String) throws {
        #expect(independentLuhn(text))
        let siret = try SIRET(text)
        #expect(siret.siren.value == String(text.prefix(9)))
        #expect(siret.nic == String(text.suffix(5)))
    }

    @Test("La Poste's establishments are checked by their digit sum, its head office by Luhn")
    func laPoste() throws {
        // 3+5+6+1 = 15, a multiple of 5, though not Luhn-valid.
        #expect(!independentLuhn("35600000000001"))
        #expect(try SIRET("35600000000001").siren.value == "356000000")
        // The head office: Luhn-valid, digit sum 26.
        #expect(independentLuhn("35600000000048"))
        #expect(try SIRET("35600000000048").value == "35600000000048")
        // Luhn-valid but digit sum 14: refused for La Poste.
        #expect(independentLuhn("35600000000014"))
        #expect(throws: IdentifierError(
            kind: .siret, code: "identifier.check-digit",
            reason: "the digits of La Poste SIRET 35600000000014 should add up to a multiple of 5, got 19")) {
            try SIRET("35600000000014")
        }
    }

    @Test("a SIRET with a wrong key is refused")
    func invalidSIRET() {
        #expect(throws: IdentifierError(kind: .siret, code: "identifier.check-digit", reason: "the Luhn key of SIRET 73282932000075 should be 4")) {
            try SIRET("73282932000075")
        }
        #expect { try SIRET("7328293200007") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
        #expect(SIRET.withKey(siren: try! SIREN("732829320"), nicPrefix: "0007")?.value == "73282932000074")
    }

    @Test("idNat reads the three forms")
    func idNatForms() throws {
        let rpps = try IdNat("810100271385")
        #expect(rpps == .rpps(try RPPS("10100271385")))
        #expect(rpps.typeCode == "8")
        #expect(rpps.identifier == "10100271385")
        let adeli = try IdNat("0012600631")
        #expect(adeli == .adeli(try ADELI("012600631")))
        #expect(adeli.typeCode == "0")
        let staff = try IdNat("3250000700/AB-12_c.d")
        #expect(staff == .establishmentStaff(try FINESS("250000700"), localID: "AB-12_c.d"))
        #expect(staff.typeCode == "3")
        #expect(staff.value == "3250000700/AB-12_c.d")
    }

    @Test("idNat reads the staff forms of types 1, 4, 5 and 6")
    func idNatStaffForms() throws {
        #expect(try IdNat("1012600631/A12") == .structureStaff(.adeliCabinet("012600631"), localID: "A12"))
        #expect(try IdNat("4262504624/0042") == .structureStaff(.siren(try SIREN("262504624")), localID: "0042"))
        #expect(try IdNat("526250462400012/0042") == .structureStaff(.siret(try SIRET("26250462400012")), localID: "0042"))
        #expect(try IdNat("6CAB123/7") == .structureStaff(.rppsCabinet("CAB123"), localID: "7"))
        for text in ["1012600631/A12", "4262504624/0042", "526250462400012/0042", "6CAB123/7"] {
            let idNat = try IdNat(text)
            #expect(idNat.value == text && idNat.typeCode == String(text.prefix(1)) && idNat.isStructureStaff)
        }
        #expect { try IdNat("4262504625/1") } throws: { ($0 as? IdentifierError)?.code == "identifier.check-digit" }
        #expect { try IdNat("526250462400013/1") } throws: { ($0 as? IdentifierError)?.code == "identifier.check-digit" }
        #expect { try IdNat("6CAB-1/7") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
        #expect { try IdNat("4262504624") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
    }

    @Test("structure identifiers of every type: 0, 1, 2, 3, 4 and technical", arguments: [
        ("0012600631", "adeli-cabinet"), ("1250000700", "finess"), ("2262504624", "siren"),
        ("326250462400012", "siret"), ("410000000009017", "rpps-rang"), ("R10100000328372", "technical"),
    ])
    func structureIdentifiers(text: String, kind: String) throws {
        let identifier = try StructureIdentifier(idNatStruct: text)
        #expect(identifier.idNatStruct == text)
        #expect(identifier.kind == kind)
    }

    @Test("a SIRET and a SIREN structure expose their SIREN; bad structure identifiers are refused")
    func structureIdentifierRefusals() throws {
        #expect(try StructureIdentifier(idNatStruct: "326250462400012").siren == (try SIREN("262504624")))
        #expect(try StructureIdentifier(idNatStruct: "2262504624").siren == (try SIREN("262504624")))
        #expect { try StructureIdentifier(idNatStruct: "2262504625") } throws: { ($0 as? IdentifierError)?.code == "identifier.check-digit" }
        #expect { try StructureIdentifier(idNatStruct: "410000000009018") } throws: { ($0 as? IdentifierError)?.code == "identifier.check-digit" }
        #expect { try StructureIdentifier(idNatStruct: "R") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
        #expect { try StructureIdentifier(idNatStruct: "R12-3") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
        #expect { try StructureIdentifier(idNatStruct: "912") } throws: { ($0 as? IdentifierError)?.code == "identifier.prefix" }
    }

    @Test("invalid idNats are refused with the inner reason")
    func idNatInvalid() {
        #expect(throws: IdentifierError(
            kind: .idNat, code: "identifier.check-digit", reason: "idNat 810000000008: the Luhn key of RPPS 10000000008 should be 9")) {
            try IdNat("810000000008")
        }
        #expect { try IdNat("910100271385") } throws: { ($0 as? IdentifierError)?.code == "identifier.prefix" }
        #expect { try IdNat("3250000700") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
        #expect { try IdNat("3250000700/") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
        #expect { try IdNat("3250000700/" + String(repeating: "x", count: 31)) } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
        #expect { try IdNat("3250000700/a b") } throws: { ($0 as? IdentifierError)?.code == "identifier.characters" }
        #expect { try IdNat("") } throws: { ($0 as? IdentifierError)?.code == "identifier.length" }
    }

    @Test("department codes: 01-19, 2A, 2B, 21-95, 971-976; 20 refused")
    func departments() throws {
        for code in ["01", "19", "2A", "2B", "21", "95", "971", "975", "976"] {
            #expect(try DepartmentCode(code).value == code)
        }
        #expect(DepartmentCode.all.count == 102)
        #expect(try DepartmentCode("975").label == "Saint-Pierre-et-Miquelon")
        #expect(try DepartmentCode("2A").label == "Corse-du-Sud")
        for code in ["20", "00", "96", "970", "977", "2C", "1", "1234"] {
            #expect(throws: IdentifierError.self) { try DepartmentCode(code) }
        }
        #expect { try DepartmentCode("20") } throws: { ($0 as? IdentifierError)?.reason.contains("2A") == true }
    }

    @Test("a department is derived from a postal code")
    func departmentFromPostalCode() {
        #expect(DepartmentCode(postalCode: "25304")?.value == "25")
        #expect(DepartmentCode(postalCode: "01000")?.value == "01")
        #expect(DepartmentCode(postalCode: "20000")?.value == "2A")
        #expect(DepartmentCode(postalCode: "20137")?.value == "2A")
        #expect(DepartmentCode(postalCode: "20200")?.value == "2B")
        #expect(DepartmentCode(postalCode: "97110")?.value == "971")
        #expect(DepartmentCode(postalCode: "97500")?.value == "975")
        #expect(DepartmentCode(postalCode: "98000") == nil)
        #expect(DepartmentCode(postalCode: "2500") == nil)
    }

    @Test("identifiers encode as plain strings and refuse invalid ones when decoding")
    func codable() throws {
        struct Holder: Codable, Equatable {
            var rpps: RPPS
            var idNat: IdNat
            var finess: FINESS
            var siret: SIRET
            var department: DepartmentCode
        }
        let holder = Holder(
            rpps: try RPPS("10100271385"), idNat: try IdNat("0012600631"), finess: try FINESS("2A0000121"),
            siret: try SIRET("35600000000001"), department: try DepartmentCode("2B"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(holder), as: UTF8.self)
        #expect(json == #"{"department":"2B","finess":"2A0000121","idNat":"0012600631","rpps":"10100271385","siret":"35600000000001"}"#)
        #expect(try JSONDecoder().decode(Holder.self, from: Data(json.utf8)) == holder)

        let bad = Data(#"["10000000008"]"#.utf8)
        #expect {
            try JSONDecoder().decode([RPPS].self, from: bad)
        } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return context.debugDescription == "the Luhn key of RPPS 10000000008 should be 9"
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([IdNat].self, from: Data(#"["810000000008"]"#.utf8)) }
    }
}
