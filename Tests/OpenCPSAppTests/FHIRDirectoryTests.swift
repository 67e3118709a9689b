import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import Testing
import Vapor
import VaporTesting

/// Validates FHIR JSON documents with the `fhir.resources` package (R4B models, which
/// share R4's Practitioner, PractitionerRole, Organization, Bundle and OperationOutcome):
/// an independent implementation that refuses unknown elements and wrong types.
let fhirValidator = """
    import json, sys
    from fhir.resources.R4B import get_fhir_model_class
    failures = 0
    for path in sys.argv[1:]:
        document = json.load(open(path))
        resources = [document] + [entry["resource"] for entry in document.get("entry", [])]
        for resource in resources:
            try:
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            except Exception as error:
                failures += 1
                print(f"{path}: {resource.get('resourceType')}/{resource.get('id')}: {error}")
    print(f"checked {len(sys.argv) - 1} documents, {failures} invalid")
    sys.exit(1 if failures else 0)
    """

@Suite("FHIR directory")
struct FHIRDirectoryTests {
    let claire = DemoData.professionals[0]
    var rpps: String { claire.idNat.identifier }

    /// Fetches a FHIR document and keeps it for validation.
    func fetch(_ app: Application, _ path: String, status: HTTPStatus = .ok, into documents: inout [URL], folder: URL) async throws -> [String: Any] {
        var object: [String: Any] = [:]
        try await app.testing().test(.GET, path) { response in
            #expect(response.status == status, "\(path): \(response.body.string)")
            #expect(response.headers.contentType?.description.hasPrefix("application/fhir+json") == true, "\(path)")
            object = try jsonObject(response)
            let file = folder.appendingPathComponent("doc-\(documents.count).json")
            try Data(buffer: response.body).write(to: file)
            documents.append(file)
        }
        return object
    }

    func entries(_ bundle: [String: Any]) -> [[String: Any]] {
        ((bundle["entry"] as? [[String: Any]]) ?? []).compactMap { $0["resource"] as? [String: Any] }
    }

    @Test("Practitioner, PractitionerRole and Organization read and search as the national directory exposes them, and pass an independent validator")
    func directory() async throws {
        try await withTestApp { app in
            _ = try await DemoData(clock: FixedWallClock(testNow)).load(into: app.db)
            let folder = try ExternalTool.temporaryFolder("fhir")
            var documents: [URL] = []

            let practitioner = try await fetch(app, "/fhir/Practitioner/\(claire.idNat.value)", into: &documents, folder: folder)
            #expect(practitioner["resourceType"] as? String == "Practitioner")
            let identifiers = (practitioner["identifier"] as? [[String: Any]]) ?? []
            #expect(identifiers.contains { $0["system"] as? String == "urn:oid:1.2.250.1.71.4.2.1" && $0["value"] as? String == claire.idNat.value })
            #expect(identifiers.contains { $0["system"] as? String == "https://rpps.esante.gouv.fr" && $0["value"] as? String == rpps })

            for query in ["identifier=\(rpps)", "identifier=https://rpps.esante.gouv.fr%7C\(rpps)",
                          "identifier=urn:oid:1.2.250.1.71.4.2.1%7C\(claire.idNat.value)", "name=lambert%20claire"] {
                let bundle = try await fetch(app, "/fhir/Practitioner?\(query)", into: &documents, folder: folder)
                #expect(bundle["resourceType"] as? String == "Bundle")
                #expect(bundle["type"] as? String == "searchset")
                #expect(entries(bundle).map { $0["id"] as? String } == [claire.idNat.value], "\(query)")
            }

            let roles = try await fetch(app, "/fhir/PractitionerRole?practitioner=Practitioner/\(claire.idNat.value)", into: &documents, folder: folder)
            let role = try #require(entries(roles).first)
            #expect((role["practitioner"] as? [String: Any])?["reference"] as? String == "Practitioner/\(claire.idNat.value)")
            let roleID = try #require(role["id"] as? String)
            _ = try await fetch(app, "/fhir/PractitionerRole/\(roleID)", into: &documents, folder: folder)

            let hospital = DemoData.establishments[0]
            let organization = try await fetch(app, "/fhir/Organization/\(hospital.identifier.idNatStruct)", into: &documents, folder: folder)
            #expect(organization["name"] as? String == hospital.name)
            let byFINESS = try await fetch(app, "/fhir/Organization?identifier=\(hospital.identifier.number)", into: &documents, folder: folder)
            #expect(entries(byFINESS).count == 1)
            let byName = try await fetch(app, "/fhir/Organization?name=centre", into: &documents, folder: folder)
            #expect(entries(byName).count >= 2)

            let missing = try await fetch(app, "/fhir/Practitioner/810000000009", status: .notFound, into: &documents, folder: folder)
            #expect(missing["resourceType"] as? String == "OperationOutcome")
            let invalid = try await fetch(app, "/fhir/Practitioner?_count=0", status: .badRequest, into: &documents, folder: folder)
            #expect(invalid["resourceType"] as? String == "OperationOutcome")

            let result = try ExternalTool.run(TestTools.python(), ["-c", fhirValidator] + documents.map(\.path))
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("checked \(documents.count) documents, 0 invalid"), "\(result.output)")
        }
    }

    @Test("an unknown search parameter is refused with an OperationOutcome that names it, unless the client asks for lenient handling")
    func unknownParameters() async throws {
        try await withTestApp { app in
            _ = try await DemoData(clock: FixedWallClock(testNow)).load(into: app.db)
            for path in ["/fhir/Practitioner?gender=female", "/fhir/Organization?name=centre&pharmacy-licence=1",
                         "/fhir/PractitionerRole?specialty=SM53", "/fhir/Practitioner?family:text=lambert",
                         "/fhir/Practitioner?_include=Practitioner:organization", "/fhir/Organization?_revinclude=Device:organization"] {
                try await app.testing().test(.GET, path) { response in
                    #expect(response.status == .badRequest, "\(path)")
                    let outcome = try jsonObject(response)
                    let issue = (outcome["issue"] as? [[String: Any]])?.first
                    #expect(outcome["resourceType"] as? String == "OperationOutcome" && issue?["code"] as? String == "not-supported", "\(path)")
                    #expect((issue?["diagnostics"] as? String)?.contains("not supported") == true, "\(path)")
                }
            }
            var lenient = HTTPHeaders()
            lenient.add(name: "Prefer", value: "handling=lenient")
            try await app.testing().test(.GET, "/fhir/Practitioner?gender=female&_count=5", headers: lenient) { response in
                #expect(response.status == .ok)
                let bundle = try jsonObject(response)
                #expect(bundle["resourceType"] as? String == "Bundle")
            }
        }
    }
}
