import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import Testing
import Vapor
import VaporTesting

/// A directory file with a row of every identifier type, a libéral cabinet known by its
/// technical identifier, an unknown profession code and a bad optional SIRET (issue 26).
enum FidelityFile {
    /// The first example row of REFERENCE.md §1 (a salaried médecin in a FINESS site whose
    /// legal entity is FINESS 250000452), the template every row is made from.
    static let template = "8|10000000009|810000000009|DR|Docteur|M|Monsieur|MARTIN|PAUL|10|Médecin|C|Civil|S|Spécialité ordinale|SM53|Spécialiste en Médecine Générale|S|Salarié|26250462400012||250000700|250000452|F250000700|CHI HC SITE RIVES DU DOUBS PONTARLIER||||2||FG|Faubourg|SAINT ETIENNE|CS 10329|25304 PONTARLIER CEDEX|25304|25462|Pontarlier|||0300000000||0300000001|contact@example.fr|||1250000700|CNOM/CNOM/ARS|SA01|Etablissement Public de santé|||"

    static func row(_ changes: [Int: String]) -> String {
        var fields = template.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        for (index, value) in changes { fields[index] = value }
        return fields.joined(separator: "|")
    }

    /// A staff row: identifier type and identifier, a salaried nurse's profession.
    static func staff(_ type: String, _ identifier: String, name: String) -> String {
        row([0: type, 1: identifier, 2: type + identifier, 3: "", 4: "", 7: name, 8: "ANNE", 9: "60", 10: "Infirmier",
             13: "", 14: "", 15: "", 16: ""])
    }

    /// The libéral cabinet's idNat and technical identifier.
    static let liberal = "810100271385"
    static let cabinet = "R10100000328372"
    /// The person with a profession code outside the nomenclature, and the one with a bad SIRET.
    static let unknownProfession = "810000000017"
    static let badSIRET = "810000000025"

    static let rows: [String] = [
        template,
        "0|259999999|0259999999|||M|Monsieur|DURAND|LUC|26|Audioprothésiste|C|Civil|||||S|Salarié|49940088500020||||C49940088500020|DOUBS OPTIC||DOUBS OPTIC||9||RTE|Route|DE BESANCON||25300 DOUBS|25300|||||||||||349940088500020|ARS/Variable/Variable|SA42|Appareillage médical|||",
        staff("1", "012600631/A12", name: "ADELICAB"),
        staff("3", "250000700/IDE-042", name: "FINESSTAFF"),
        staff("4", "262504624/0042", name: "SIRENSTAFF"),
        staff("5", "26250462400012/0042", name: "SIRETSTAFF"),
        staff("6", "CAB123/7", name: "RPPSCAB"),
        // A libéral pédicure-podologue in a cabinet that has no FINESS nor SIRET, only the
        // directory's technical id, as in the PSC fixture of REFERENCE §5.
        row([1: "10100271385", 2: liberal, 3: "", 4: "", 7: "GROMINOCH", 8: "FISTINIEN", 9: "80", 10: "Pédicure-Podologue",
             13: "", 14: "", 15: "", 16: "", 17: "L", 18: "Libéral", 19: "", 21: "", 22: "", 23: cabinet,
             24: "CABINET INDIVIDUEL PEDI PODO", 46: "410100271385029", 47: "CNOPP/CNOPP/CNOPP", 48: "SA07",
             49: "Cabinet individuel"]),
        row([1: "10000000017", 2: unknownProfession, 7: "INCONNU", 9: "99", 10: "Profession nouvelle"]),
        row([1: "10000000025", 2: badSIRET, 7: "MAUVAIS", 19: "26250462400013", 21: "", 22: "", 23: "C26250462400013"]),
        // A structure known by its SIREN alone.
        row([1: "10000000033", 2: sirenOnly, 7: "SIRENONLY", 19: "", 20: "262504624", 21: "", 22: "", 23: "",
             24: "SOCIETE DU DOUBS", 48: "SA09"]),
    ]
    static let sirenOnly = "810000000033"

    static var bytes: [UInt8] { Array((ExtractionHeader.standardLine + "\n" + rows.joined(separator: "\n") + "\n").utf8) }
}

@Suite("Directory fidelity")
struct DirectoryFidelityTests {
    @Test("rows of every identifier type, a libéral cabinet with a technical identifier, an unknown profession and a bad SIRET are all imported; flagged fields are reported; the cabinet is linked from the PractitionerRole")
    func importEveryKind() async throws {
        try await withTestApp { app in
            let report = try await DirectoryImporter(database: app.db, clock: FixedWallClock(testNow))
                .run(reader: ExtractionLineReader(bytes: FidelityFile.bytes), source: "fidelity.txt", actor: "test")
            #expect(report.rowsRead == FidelityFile.rows.count)
            #expect(report.rejectedCount == 0, "\(report.rejected.map(\.message))")
            #expect(report.rowsImported == FidelityFile.rows.count)
            #expect(report.professionals == FidelityFile.rows.count)
            #expect(report.flaggedCount == 2)
            #expect(report.flagged.map(\.lineNumber) == [10, 11])
            #expect(report.flagged.map(\.field.code) == ["extraction.profession-unknown", "extraction.invalid-identifier"])
            #expect(report.flagged.map(\.field.column) == ["Code profession", "Numéro SIRET site"])
            #expect(report.flagged[1].field.value == "26250462400013")
            #expect(report.flagged[1].message.contains("line 11") && report.flagged[1].message.contains("Luhn"))

            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            for idNat in ["810000000009", "0259999999", "1012600631/A12", "3250000700/IDE-042", "4262504624/0042",
                          "526250462400012/0042", "6CAB123/7", FidelityFile.liberal, FidelityFile.unknownProfession, FidelityFile.badSIRET,
                          FidelityFile.sirenOnly] {
                let stored = try await registry.professional(try IdNat(idNat))
                #expect(stored != nil, "\(idNat)")
            }
            let unknown = try #require(try await registry.professional(try IdNat(FidelityFile.unknownProfession)))
            #expect(unknown.professional.exercises.map(\.profession.code) == ["99"])
            #expect(unknown.professional.flags.map(\.code) == ["extraction.profession-unknown"])
            let badSIRET = try #require(try await registry.professional(try IdNat(FidelityFile.badSIRET)))
            #expect(badSIRET.professional.flags.first?.value == "26250462400013")
            // The row keeps its technical structure id, since its SIRET did not check.
            #expect(badSIRET.professional.exercises.first?.activities.first?.structure == .technical("C26250462400013"))

            // The cabinet is stored with its former identifier, and the legal entity the site names exists.
            let cabinet = try #require(try await registry.structure(id: FidelityFile.cabinet))
            #expect(cabinet.formerID == "410100271385029" && cabinet.sectorCode == "SA07")
            let legal = try #require(try await registry.structure(id: "1250000452"))
            #expect(legal.entity == .legal)
            #expect(try await registry.structure(id: "1250000700")?.legalEntity == (try FINESS("250000452")))

            // The libéral's PractitionerRole points at the cabinet, which FHIR serves.
            let practitioner = "Practitioner/\(FidelityFile.liberal)"
            try await app.testing().test(.GET, "/fhir/PractitionerRole?practitioner=\(practitioner)") { response in
                #expect(response.status == .ok)
                let entries = try jsonObject(response)["entry"] as? [[String: Any]] ?? []
                let role = try #require(entries.first?["resource"] as? [String: Any])
                #expect((role["organization"] as? [String: Any])?["reference"] as? String == "Organization/\(FidelityFile.cabinet)")
            }
            try await app.testing().test(.GET, "/fhir/Organization/\(FidelityFile.cabinet)") { response in
                #expect(response.status == .ok)
                let organization = try jsonObject(response)
                #expect(organization["name"] as? String == "CABINET INDIVIDUEL PEDI PODO")
            }
        }
    }

    @Test("the JSON API shows the flags, function, genre and section, and an update sent back from what it read keeps them")
    func apiRoundTrip() async throws {
        try await withTestApp { app in
            _ = try await DirectoryImporter(database: app.db, clock: FixedWallClock(testNow))
                .run(reader: ExtractionLineReader(bytes: FidelityFile.bytes), source: "fidelity.txt", actor: "test")
            let path = "/api/v1/professionals/\(FidelityFile.badSIRET)"
            var read: [String: Any] = [:]
            try await app.testing().test(.GET, path) { response in
                #expect(response.status == .ok)
                read = try jsonObject(response)
            }
            let flags = try #require(read["flags"] as? [[String: Any]])
            #expect(flags.map { $0["code"] as? String } == ["extraction.invalid-identifier"])
            #expect(flags.first?["value"] as? String == "26250462400013")
            // The operator sets the activity's function, genre and section and sends the record back.
            var exercises = try #require(read["exercises"] as? [[String: Any]])
            var activities = try #require(exercises[0]["activities"] as? [[String: Any]])
            activities[0]["fonctionCode"] = "FON-05"
            activities[0]["genreCode"] = "GENR01"
            activities[0]["sectionCode"] = "A"
            exercises[0]["activities"] = activities
            read["exercises"] = exercises
            read["flags"] = nil
            var headers = HTTPHeaders.operatorHeaders
            headers.contentType = .json
            try await app.testing().test(.PUT, path, headers: headers, body: ByteBuffer(data: try JSONSerialization.data(withJSONObject: read))) {
                #expect($0.status == .ok)
            }
            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            let stored = try #require(try await registry.professional(try IdNat(FidelityFile.badSIRET)))
            let activity = try #require(stored.professional.exercises.first?.activities.first)
            #expect(activity.fonctionCode == "FON-05" && activity.genreCode == "GENR01" && activity.sectionCode == "A")
            #expect(stored.professional.flags.map(\.value) == ["26250462400013"])
            try await app.testing().test(.GET, path) { response in
                let again = try jsonObject(response)
                let activity = ((again["exercises"] as? [[String: Any]])?.first?["activities"] as? [[String: Any]])?.first
                #expect(activity?["fonctionCode"] as? String == "FON-05")
                #expect((again["flags"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test("importing the file again changes nothing: flags and structures are kept, not doubled")
    func reimport() async throws {
        try await withTestApp { app in
            let importer = DirectoryImporter(database: app.db, clock: FixedWallClock(testNow))
            _ = try await importer.run(reader: ExtractionLineReader(bytes: FidelityFile.bytes), source: "a.txt", actor: "test")
            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            let before = try await registry.counts()
            let again = try await importer.run(reader: ExtractionLineReader(bytes: FidelityFile.bytes), source: "b.txt", actor: "test")
            #expect(again.flaggedCount == 2)
            #expect(try await registry.counts() == before)
            let unknown = try #require(try await registry.professional(try IdNat(FidelityFile.unknownProfession)))
            #expect(unknown.professional.flags.count == 1)
        }
    }
}
