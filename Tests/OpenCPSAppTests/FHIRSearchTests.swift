import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import Testing
import Vapor
import VaporTesting

/// The search parameters of the national directory's API (REFERENCE §6) on the fidelity file
/// (DirectoryFidelityTests); every document is checked by `fhir.resources`.
@Suite("FHIR search")
struct FHIRSearchTests {
    /// Fetches documents, keeps them for the validator, and reads bundles.
    final class Client {
        let app: Application
        let folder: URL
        var documents: [URL] = []

        init(app: Application) throws {
            self.app = app
            folder = try ExternalTool.temporaryFolder("fhir-search")
        }

        func get(_ path: String, status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: String? = nil) async throws -> [String: Any] {
            var object: [String: Any] = [:]
            var headers = headers
            if body != nil { headers.contentType = .urlEncodedForm }
            try await app.testing().test(body == nil ? .GET : .POST, path, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                #expect(response.status == status, "\(path): \(response.body.string)")
                object = try jsonObject(response)
                let file = folder.appendingPathComponent("doc-\(documents.count).json")
                try Data(buffer: response.body).write(to: file)
                documents.append(file)
            }
            return object
        }

        /// The ids of a search's matches, and of its included resources (`type/id`).
        func search(_ path: String, body: String? = nil) async throws -> (matches: [String], included: [String]) {
            let bundle = try await get(path, body: body)
            let entries = bundle["entry"] as? [[String: Any]] ?? []
            func ids(_ mode: String) -> [String] {
                entries.filter { ($0["search"] as? [String: Any])?["mode"] as? String == mode }.compactMap {
                    let resource = $0["resource"] as? [String: Any]
                    return (resource?["resourceType"] as? String).map { "\($0)/\(resource?["id"] as? String ?? "")" }
                }
            }
            return (ids("match"), ids("include"))
        }

        func validate() throws {
            let result = try ExternalTool.run(TestTools.python(), ["-c", fhirValidator] + documents.map(\.path))
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("checked \(documents.count) documents, 0 invalid"), "\(result.output)")
        }
    }

    func withDirectory(_ body: (Client) async throws -> Void) async throws {
        try await withTestApp { app in
            let report = try await DirectoryImporter(database: app.db, clock: FixedWallClock(testNow))
                .run(reader: ExtractionLineReader(bytes: FidelityFile.bytes), source: "fidelity.txt", actor: "test")
            #expect(report.rejectedCount == 0)
            let client = try Client(app: app)
            try await body(client)
            try client.validate()
        }
    }

    @Test("Practitioner: family, given and name with :exact and :contains, active, _lastUpdated, qualification-code, identifier-type, _revinclude, and POST _search")
    func practitioners() async throws {
        try await withDirectory { client in
            let martin = "Practitioner/810000000009"
            #expect(try await client.search("/fhir/Practitioner?family=martin").matches == [martin])
            #expect(try await client.search("/fhir/Practitioner?family:exact=MARTIN").matches == [martin])
            #expect(try await client.search("/fhir/Practitioner?family:exact=MART").matches.isEmpty)
            #expect(try await client.search("/fhir/Practitioner?family:contains=ominoc").matches == ["Practitioner/\(FidelityFile.liberal)"])
            #expect(try await client.search("/fhir/Practitioner?given=fistin").matches == ["Practitioner/\(FidelityFile.liberal)"])
            #expect(try await client.search("/fhir/Practitioner?given:contains=istinie&family=grominoch").matches == ["Practitioner/\(FidelityFile.liberal)"])
            #expect(try await client.search("/fhir/Practitioner?name:contains=minoch%20fist").matches == ["Practitioner/\(FidelityFile.liberal)"])
            #expect(try await client.search("/fhir/Practitioner?family=martin&active=true").matches == [martin])
            #expect(try await client.search("/fhir/Practitioner?family=martin&active=false").matches.isEmpty)
            #expect(try await client.search("/fhir/Practitioner?family=martin&_lastUpdated=ge2026-11-24").matches == [martin])
            #expect(try await client.search("/fhir/Practitioner?family=martin&_lastUpdated=eq2026-11-24").matches == [martin])
            #expect(try await client.search("/fhir/Practitioner?family=martin&_lastUpdated=gt2026-11-24").matches.isEmpty)
            #expect(try await client.search("/fhir/Practitioner?family=martin&_lastUpdated=lt2026").matches.isEmpty)
            #expect(try await client.search("/fhir/Practitioner?qualification-code=SM53&family=martin").matches == [martin])
            #expect(try await client.search("/fhir/Practitioner?qualification-code=99").matches == ["Practitioner/\(FidelityFile.unknownProfession)"])
            let g15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
            #expect(try await client.search("/fhir/Practitioner?qualification-code=\(g15)%7C80&family=grominoch").matches == ["Practitioner/\(FidelityFile.liberal)"])
            #expect(try await client.search("/fhir/Practitioner?identifier-type=5").matches == ["Practitioner/526250462400012.0042"])
            #expect(try await client.search("/fhir/Practitioner?identifier-type=ADELI&family=durand").matches == ["Practitioner/0259999999"])
            #expect(try await client.search("/fhir/Practitioner?identifier-type=RPPS&family=durand").matches.isEmpty)
            #expect(try await client.search("/fhir/Practitioner?identifier-type=IDNPS&family=durand").matches == ["Practitioner/0259999999"])
            let withRoles = try await client.search("/fhir/Practitioner?family=grominoch&_revinclude=PractitionerRole:practitioner")
            #expect(withRoles.matches == ["Practitioner/\(FidelityFile.liberal)"])
            #expect(withRoles.included.count == 1 && withRoles.included[0].hasPrefix("PractitionerRole/"))
            let posted = try await client.search("/fhir/Practitioner/_search", body: "family=martin&qualification-code=SM53")
            #expect(posted.matches == [martin])

            // The staff identifier carries its TRE_G08 type; the savoir-faire is a qualification.
            let staff = try await client.get("/fhir/Practitioner/526250462400012.0042")
            let types = (staff["identifier"] as? [[String: Any]] ?? []).compactMap {
                (($0["type"] as? [String: Any])?["coding"] as? [[String: Any]])?.first?["code"] as? String
            }
            #expect(types == ["IDNPS", "5"])
            let doctor = try await client.get("/fhir/\(martin)")
            let codings = (doctor["qualification"] as? [[String: Any]] ?? []).flatMap {
                (($0["code"] as? [String: Any])?["coding"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
            }
            #expect(codings == ["10", "C", "S", "SM53"])
        }
    }

    @Test("PractitionerRole: practitioner, organization, role (mode, genre, function), _include of the organization and practitioner")
    func roles() async throws {
        try await withDirectory { client in
            let cabinet = "Organization/\(FidelityFile.cabinet)"
            let byOrganization = try await client.search("/fhir/PractitionerRole?organization=\(cabinet)&_include=PractitionerRole:organization")
            #expect(byOrganization.matches.count == 1)
            #expect(byOrganization.included == [cabinet])
            let liberal = try await client.search("/fhir/PractitionerRole?role=L&practitioner=Practitioner/\(FidelityFile.liberal)&_include=*")
            #expect(liberal.matches.count == 1)
            #expect(Set(liberal.included) == [cabinet, "Practitioner/\(FidelityFile.liberal)"])
            #expect(try await client.search("/fhir/PractitionerRole?role=B&practitioner=Practitioner/\(FidelityFile.liberal)").matches.isEmpty)
            let mode = "https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
            #expect(try await client.search("/fhir/PractitionerRole?role=\(mode)%7CL&organization=\(cabinet)").matches.count == 1)
            #expect(try await client.search("/fhir/PractitionerRole?organization=\(cabinet)&active=false").matches.isEmpty)
            #expect(try await client.search("/fhir/PractitionerRole?organization=\(cabinet)&_lastUpdated=ge2026-11-24").matches.count == 1)
            let posted = try await client.search("/fhir/PractitionerRole/_search", body: "organization=\(cabinet)")
            #expect(posted.matches.count == 1)
        }
    }

    @Test("Organization: identifier (a SIREN under https://sirene.fr is 2 + SIREN), name, partof, type, address-*, identifier-type, _include and _revinclude")
    func organizations() async throws {
        try await withDirectory { client in
            #expect(try await client.search("/fhir/Organization?identifier=https://sirene.fr%7C262504624").matches == ["Organization/2262504624"])
            #expect(try await client.search("/fhir/Organization?identifier=https://sirene.fr%7C49940088500020").matches == ["Organization/349940088500020"])
            #expect(try await client.search("/fhir/Organization?identifier=urn:oid:1.2.250.1.71.4.2.2%7C\(FidelityFile.cabinet)").matches == ["Organization/\(FidelityFile.cabinet)"])
            #expect(try await client.search("/fhir/Organization?name:exact=CABINET%20INDIVIDUEL%20PEDI%20PODO").matches == ["Organization/\(FidelityFile.cabinet)"])
            #expect(try await client.search("/fhir/Organization?name:contains=pedi%20podo").matches == ["Organization/\(FidelityFile.cabinet)"])
            let sites = try await client.search("/fhir/Organization?partof=Organization/1250000452&_include=Organization:partof")
            #expect(sites.matches == ["Organization/1250000700"])
            #expect(sites.included == ["Organization/1250000452"])
            #expect(try await client.search("/fhir/Organization?type=SA07").matches == ["Organization/\(FidelityFile.cabinet)"])
            #expect(try await client.search("/fhir/Organization?type=LEGAL-ENTITY&name=entite").matches == ["Organization/1250000452"])
            #expect(try await client.search("/fhir/Organization?address-city=pontarlier&identifier-type=FINEG").matches == ["Organization/1250000700"])
            #expect(try await client.search("/fhir/Organization?address-postalcode=25304&identifier-type=FINEG").matches == ["Organization/1250000700"])
            #expect(try await client.search("/fhir/Organization?address-line:contains=etienne&identifier-type=FINEG").matches == ["Organization/1250000700"])
            #expect(try await client.search("/fhir/Organization?address=pontarlier&active=true&identifier-type=FINEG").matches == ["Organization/1250000700"])
            #expect(try await client.search("/fhir/Organization?identifier-type=FINEJ").matches == ["Organization/1250000452"])
            #expect(try await client.search("/fhir/Organization?identifier-type=SIREN&name=societe").matches == ["Organization/2262504624"])
            let withRoles = try await client.search("/fhir/Organization?_id=\(FidelityFile.cabinet)&_revinclude=PractitionerRole:organization")
            #expect(withRoles.matches == ["Organization/\(FidelityFile.cabinet)"])
            #expect(withRoles.included.count == 1 && withRoles.included[0].hasPrefix("PractitionerRole/"))
            let posted = try await client.search("/fhir/Organization/_search", body: "type=SA07")
            #expect(posted.matches == ["Organization/\(FidelityFile.cabinet)"])

            // The site is part of its legal entity, which exists; both say which they are.
            let site = try await client.get("/fhir/Organization/1250000700")
            #expect((site["partOf"] as? [String: Any])?["reference"] as? String == "Organization/1250000452")
            let legal = try await client.get("/fhir/Organization/1250000452")
            let kind = ((legal["type"] as? [[String: Any]])?.first?["coding"] as? [[String: Any]])?.first?["code"] as? String
            #expect(kind == "LEGAL-ENTITY")
        }
    }

    @Test("the CapabilityStatement lists exactly the parameters, includes and revincludes each search accepts")
    func capabilityStatement() async throws {
        try await withTestApp { app in
            var statement: [String: Any] = [:]
            try await app.testing().test(.GET, "/fhir/metadata") { statement = try jsonObject($0) }
            let resources = ((statement["rest"] as? [[String: Any]])?.first?["resource"] as? [[String: Any]]) ?? []
            func listed(_ type: String) -> (params: Set<String>, include: Set<String>, revinclude: Set<String>) {
                let resource = resources.first { $0["type"] as? String == type } ?? [:]
                return (Set((resource["searchParam"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }),
                        Set(resource["searchInclude"] as? [String] ?? []), Set(resource["searchRevInclude"] as? [String] ?? []))
            }
            #expect(listed("Practitioner").params == ["_id", "identifier", "name", "family", "given", "active", "_lastUpdated",
                                                       "qualification-code", "identifier-type", "number-smartcard"])
            #expect(listed("Practitioner").revinclude == ["PractitionerRole:practitioner"])
            #expect(listed("PractitionerRole").params == ["_id", "identifier", "practitioner", "organization", "role", "active",
                                                           "_lastUpdated", "name", "family"])
            #expect(listed("PractitionerRole").include == ["*", "PractitionerRole:organization", "PractitionerRole:practitioner"])
            #expect(listed("Organization").params == ["_id", "identifier", "name", "partof", "type", "address", "address-city",
                                                       "address-postalcode", "address-line", "identifier-type", "active", "_lastUpdated"])
            #expect(listed("Organization").include == ["*", "Organization:partof"])
            #expect(listed("Organization").revinclude == ["PractitionerRole:organization"])
            // Each listed parameter is accepted, and nothing else.
            for (type, parameter) in [("Practitioner", "number-smartcard=1"), ("Organization", "address-line=x"), ("PractitionerRole", "role=L")] {
                try await app.testing().test(.GET, "/fhir/\(type)?\(parameter)") { #expect($0.status == .ok, "\(type)?\(parameter)") }
            }
        }
    }

    @Test("a Practitioner carries as-ext-smartcard for each card made (type, number, validity, opposition date), and number-smartcard finds its holder")
    func smartCards() async throws {
        let holderID = "810100271385"
        // One instant for the app's clock and the expected dates, so a run across midnight agrees with itself.
        let now = Date()
        try await withConfiguredTestApp(
            clock: FixedWallClock(now), pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [holderID])
        ) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            var headers = HTTPHeaders.operatorHeaders
            headers.contentType = .json
            try await app.testing().test(.POST, "/api/v1/professionals", headers: headers, body: jsonBody(professionalJSON())) {
                #expect($0.status == .created)
            }
            try await app.testing().test(.POST, "/api/v1/professionals/\(holderID)/registrations", headers: headers,
                                         body: jsonBody(#"{"professionCode": "10", "registeredOn": "2026-11-02"}"#)) {
                #expect($0.status == .ok)
            }
            let holder = TestActors.holder(holderID)
            let client = try Client(app: app)
            // Ordered but not made: no card to show yet.
            #expect(try await client.get("/fhir/Practitioner/\(holderID)")["extension"] == nil)
            let card = try #require(try await api.call(.GET, "/api/v1/cards?idNat=\(holderID)", as: holder).array.first)
            let id = try #require(card["id"] as? String)
            let serial = try await api.makeActive(id, holder: holder)

            func smartCard() async throws -> [String: Any] {
                let practitioner = try await client.get("/fhir/Practitioner/\(holderID)")
                let extensions = practitioner["extension"] as? [[String: Any]] ?? []
                #expect(extensions.count == 1)
                let smartCard = try #require(extensions.first)
                #expect(smartCard["url"] as? String == "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-smartcard")
                var parts: [String: Any] = [:]
                for part in smartCard["extension"] as? [[String: Any]] ?? [] {
                    if let url = part["url"] as? String { parts[url] = part }
                }
                return parts
            }
            var parts = try await smartCard()
            let type = ((parts["type"] as? [String: Any])?["valueCodeableConcept"] as? [String: Any])?["coding"] as? [[String: Any]]
            #expect(type?.first?["code"] as? String == "CPS")
            #expect(type?.first?["system"] as? String == "https://mos.esante.gouv.fr/NOS/TRE_R87-TypeCarte/FHIR/TRE-R87-TypeCarte")
            #expect((parts["number"] as? [String: Any])?["valueString"] as? String == serial)
            let period = (parts["period"] as? [String: Any])?["valuePeriod"] as? [String: String]
            let file = try await api.file(id, as: holder)
            #expect(period?["end"] == (file["card"] as? [String: Any])?["expiresOn"] as? String)
            #expect(period?["start"] == CivilDate(now).description)
            #expect(parts["oppositionDate"] == nil)
            #expect(try await client.search("/fhir/Practitioner?number-smartcard=\(serial)").matches == ["Practitioner/\(holderID)"])
            #expect(try await client.search("/fhir/Practitioner?number-smartcard=0000000001").matches.isEmpty)

            try await api.act(id, "opposition", as: holder, json: #"{"reason": "carte perdue"}"#)
            parts = try await smartCard()
            #expect((parts["oppositionDate"] as? [String: Any])?["valueDateTime"] as? String == CivilDate(now).description)
            try client.validate()
        }
    }
}
