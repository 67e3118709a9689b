import Foundation
import OpenCPSApp
import Testing
import Vapor
import VaporTesting

/// A professional body: a médecin with one salaried activity.
func professionalJSON(idNat: String = "810100271385", lastName: String = "MARTIN", firstName: String = "PAUL",
                      profession: String = "10", department: String = "25", structureId: String? = nil) -> String {
    let structure = structureId.map { #", "structureId": "\#($0)", "structureName": "CH TEST""# } ?? ""
    return """
        {"idNat": "\(idNat)", "civilite": "M", "lastName": "\(lastName)", "firstName": "\(firstName)",
         "exercises": [{"professionCode": "\(profession)", "activities": [
            {"mode": "S", "department": "\(department)", "sectorCode": "SA01"\(structure),
             "address": {"line": "2 Faubourg SAINT ETIENNE", "postalCode": "25300", "city": "Pontarlier"}}]}]}
        """
}

@Suite("Registry API")
struct RegistryAPITests {
    @Test("a professional is created, read back by idNat, and the change is audited")
    func createAndRead() async throws {
        try await withTestApp { app in
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON())) { response in
                #expect(response.status == .created)
                #expect(response.headers.first(name: .location) == "/api/v1/professionals/810100271385")
                #expect(response.headers.first(name: .eTag) == "\"1\"")
                #expect(response.headers.first(name: "X-Request-ID") != nil)
            }
            try await app.testing().test(.GET, "/api/v1/professionals/810100271385") { response in
                #expect(response.status == .ok)
                let body = try jsonObject(response)
                #expect(body["lastName"] as? String == "MARTIN")
                let exercise = try #require((body["exercises"] as? [[String: Any]])?.first)
                #expect(exercise["professionLabel"] as? String == "Médecin")
                #expect((exercise["activities"] as? [[String: Any]])?.first?["id"] as? String != nil)
            }
            let history = try await OpenCPSPersistenceProbe.auditActions(app.db, entityID: "810100271385")
            #expect(history == ["professional.create"])
        }
    }

    @Test("creating the same idNat twice is a 409 conflict")
    func duplicate() async throws {
        try await withTestApp { app in
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON())) {
                #expect($0.status == .created)
            }
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON())) { response in
                #expect(response.status == .conflict)
                #expect(response.headers.contentType?.description.hasPrefix("application/problem+json") == true)
                let json51 = try jsonObject(response)
                #expect(json51["code"] as? String == "registry.duplicate")
            }
        }
    }

    @Test("malformed JSON is a 400 problem document")
    func malformedJSON() async throws {
        try await withTestApp { app in
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(#"{"idNat": "8101"#)) { response in
                #expect(response.status == .badRequest)
                let problem = try jsonObject(response)
                #expect(problem["status"] as? Int == 400)
                #expect(problem["code"] as? String == "request.malformed-body")
                #expect(problem["type"] as? String == "urn:opencps:problem:request.malformed-body")
            }
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(#"{"idNat": 810100271385}"#)) { response in
                #expect(response.status == .badRequest)
                let json68 = try jsonObject(response)
                #expect((json68["detail"] as? String)?.contains("idNat") == true)
            }
            // A body of another media type is refused as such, and nothing is written.
            var plain = HTTPHeaders.operatorHeaders
            plain.replaceOrAdd(name: .contentType, value: "text/plain")
            try await app.testing().test(.POST, "/api/v1/professionals", headers: plain, body: jsonBody(professionalJSON())) { response in
                #expect(response.status == .unsupportedMediaType)
                let problem = try jsonObject(response)
                #expect(problem["code"] as? String == "http.415")
            }
            try await app.testing().test(.GET, "/api/v1/professionals/810100271385") { #expect($0.status == .notFound) }
        }
    }

    @Test("an invalid RPPS key is a 422 naming the field and the reason, and nothing is stored")
    func invalidIdentifier() async throws {
        try await withTestApp { app in
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON(idNat: "810100271386"))) { response in
                #expect(response.status == .unprocessableEntity)
                let problem = try jsonObject(response)
                let error = try #require((problem["errors"] as? [[String: Any]])?.first)
                #expect(error["field"] as? String == "idNat")
                #expect(error["code"] as? String == "identifier.check-digit")
                #expect((error["reason"] as? String)?.contains("Luhn") == true)
            }
            try await app.testing().test(.GET, "/api/v1/professionals/810100271386") { #expect($0.status == .unprocessableEntity) }
            try await app.testing().test(.GET, "/api/v1/professionals?limit=5") { response in
                let json86 = try jsonObject(response)
                #expect((json86["items"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test("a body with a bad activity deep inside names its path, and no half of it is written")
    func nestedProblems() async throws {
        try await withTestApp { app in
            let body = professionalJSON(department: "20", structureId: "1250000701")
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(body)) { response in
                #expect(response.status == .unprocessableEntity)
                let fields = (try jsonObject(response)["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []
                #expect(fields.contains("exercises[0].activities[0].department"))
                #expect(fields.contains("exercises[0].activities[0].structureId"))
            }
            try await app.testing().test(.GET, "/api/v1/professionals/810100271385") { #expect($0.status == .notFound) }
        }
    }

    @Test("an unknown professional is a 404 problem")
    func unknown() async throws {
        try await withTestApp { app in
            try await app.testing().test(.GET, "/api/v1/professionals/810000000009") { response in
                #expect(response.status == .notFound)
                let json110 = try jsonObject(response)
                #expect(json110["code"] as? String == "registry.not-found")
            }
            try await app.testing().test(.GET, "/api/v1/nothing-here") { response in
                #expect(response.status == .notFound)
                #expect(response.headers.contentType?.description.hasPrefix("application/problem+json") == true)
            }
        }
    }

    @Test("writes need a valid operator token")
    func authentication() async throws {
        try await withTestApp { app in
            try await app.testing().test(.POST, "/api/v1/professionals", headers: ["Content-Type": "application/json"], body: jsonBody(professionalJSON())) { response in
                #expect(response.status == .unauthorized)
                let json124 = try jsonObject(response)
                #expect(json124["code"] as? String == "auth.missing-token")
            }
            var wrong = HTTPHeaders()
            wrong.bearerAuthorization = BearerAuthorization(token: "not-the-token")
            wrong.contentType = .json
            try await app.testing().test(.POST, "/api/v1/professionals", headers: wrong, body: jsonBody(professionalJSON())) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test("an update with a stale If-Match is refused with 412; a fresh one bumps the version")
    func update() async throws {
        try await withTestApp { app in
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON())) {
                #expect($0.status == .created)
            }
            var headers = HTTPHeaders.operatorHeaders
            headers.replaceOrAdd(name: .ifMatch, value: "\"1\"")
            try await app.testing().test(.PUT, "/api/v1/professionals/810100271385", headers: headers, body: jsonBody(professionalJSON(lastName: "MARTIN-DUPONT"))) { response in
                #expect(response.status == .ok)
                let json144 = try jsonObject(response)
                #expect(json144["version"] as? Int == 2)
            }
            try await app.testing().test(.PUT, "/api/v1/professionals/810100271385", headers: headers, body: jsonBody(professionalJSON(lastName: "AUTRE"))) { response in
                #expect(response.status == .preconditionFailed)
                let json148 = try jsonObject(response)
                #expect(json148["code"] as? String == "registry.version-conflict")
            }
            try await app.testing().test(.PUT, "/api/v1/professionals/810000000009", headers: .operatorHeaders, body: jsonBody(professionalJSON(idNat: "810000000009"))) {
                #expect($0.status == .notFound)
            }
            let history = try await OpenCPSPersistenceProbe.auditActions(app.db, entityID: "810100271385")
            #expect(history == ["professional.create", "professional.update"])
        }
    }

    @Test("search by name prefix, profession and department pages through results in name order")
    func search() async throws {
        try await withTestApp { app in
            let people = [
                ("810000000009", "MARTIN", "ALICE", "10", "25"), ("810100271385", "MARTINEZ", "BRUNO", "10", "75"),
                ("810001234565", "MARTEL", "CHLOE", "60", "25"), ("810999999997", "DURAND", "DAVID", "10", "25"),
            ]
            for (idNat, last, first, profession, department) in people {
                try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders,
                                             body: jsonBody(professionalJSON(idNat: idNat, lastName: last, firstName: first, profession: profession, department: department))) {
                    #expect($0.status == .created)
                }
            }
            try await app.testing().test(.GET, "/api/v1/professionals?name=mart&limit=2") { response in
                let page = try jsonObject(response)
                let names = (page["items"] as? [[String: Any]])?.compactMap { $0["lastName"] as? String }
                #expect(names == ["MARTEL", "MARTIN"])
                let next = try #require(page["next"] as? String)
                try await app.testing().test(.GET, next) { second in
                    let names = (try jsonObject(second)["items"] as? [[String: Any]])?.compactMap { $0["lastName"] as? String }
                    #expect(names == ["MARTINEZ"])
                    let json179 = try jsonObject(second)
                    #expect(json179["next"] == nil)
                }
            }
            try await app.testing().test(.GET, "/api/v1/professionals?name=MART&profession=10&department=25") { response in
                let names = (try jsonObject(response)["items"] as? [[String: Any]])?.compactMap { $0["lastName"] as? String }
                #expect(names == ["MARTIN"])
            }
            try await app.testing().test(.GET, "/api/v1/professionals?department=99&limit=500") { response in
                #expect(response.status == .unprocessableEntity)
                let fields = (try jsonObject(response)["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String }
                #expect(fields == ["department", "limit"])
            }
        }
    }

    @Test("structures are created with a valid FINESS and refused with an invalid one")
    func structures() async throws {
        try await withTestApp { app in
            let finess = DemoData.establishments[1].identifier.number
            try await app.testing().test(.POST, "/api/v1/structures", headers: .operatorHeaders,
                                         body: jsonBody(#"{"finess": "\#(finess)", "name": "CLINIQUE TEST", "department": "2A"}"#)) { response in
                #expect(response.status == .created)
                let json201 = try jsonObject(response)
                #expect(json201["id"] as? String == "1" + finess)
            }
            try await app.testing().test(.GET, "/api/v1/structures/1\(finess)") { #expect($0.status == .ok) }
            try await app.testing().test(.POST, "/api/v1/structures", headers: .operatorHeaders,
                                         body: jsonBody(#"{"finess": "2A0999020", "name": "CLINIQUE TEST"}"#)) { response in
                #expect(response.status == .unprocessableEntity)
                let json207 = try jsonObject(response)
                #expect((json207["errors"] as? [[String: Any]])?.first?["field"] as? String == "finess")
            }
        }
    }

    @Test("a registration with the professional order is recorded on an ordinal exercise only")
    func registration() async throws {
        try await withTestApp { app in
            try await app.testing().test(.POST, "/api/v1/professionals", headers: .operatorHeaders, body: jsonBody(professionalJSON())) {
                #expect($0.status == .created)
            }
            try await app.testing().test(.POST, "/api/v1/professionals/810100271385/registrations", headers: .operatorHeaders,
                                         body: jsonBody(#"{"professionCode": "10", "registeredOn": "2026-03-02", "number": "25/1234"}"#)) { response in
                #expect(response.status == .ok)
                let exercise = (try jsonObject(response)["exercises"] as? [[String: Any]])?.first
                let registration = exercise?["registration"] as? [String: Any]
                #expect(registration?["ordre"] as? String == "CNOM")
                #expect(registration?["registeredOn"] as? String == "2026-03-02")
            }
            try await app.testing().test(.POST, "/api/v1/professionals/810100271385/registrations", headers: .operatorHeaders,
                                         body: jsonBody(#"{"professionCode": "10", "ordre": "CNOP", "registeredOn": "2026-02-30"}"#)) { response in
                #expect(response.status == .unprocessableEntity)
                let fields = (try jsonObject(response)["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String }
                #expect(fields == ["ordre", "registeredOn"])
            }
        }
    }

    @Test("health, readiness, metrics and the OpenAPI document are served")
    func operations() async throws {
        try await withTestApp { app in
            try await app.testing().test(.GET, "/health") { #expect($0.status == .ok) }
            try await app.testing().test(.GET, "/ready") { let json239 = try jsonObject($0); #expect(json239["status"] as? String == "ready") }
            try await app.testing().test(.GET, "/health") { #expect($0.status == .ok) }
            try await app.testing().test(.GET, "/no/such/route") { #expect($0.status == .notFound) }
            try await app.testing().test(.RAW(value: "BREW"), "/no/such/route") { #expect($0.status == .notFound) }
            try await app.testing().test(.GET, "/metrics") { response in
                let text = response.body.string
                // Each route, method and status is one series, counted once per request.
                let health = text.split(separator: "\n").filter { $0.hasPrefix("opencps_http_requests_total{") && $0.contains(#"route="/health""#) }
                #expect(health.count == 1 && health.first?.hasSuffix(" 2") == true, "\(health)")
                #expect(text.contains(#"route="unmatched""#) && text.contains(#"status="404""#), "\(text)")
                #expect(text.contains("opencps_http_request_duration_seconds_bucket"))
                #expect(text.contains(#"method="other""#) && !text.contains("BREW"), "\(text)")
            }
            try await app.testing().test(.GET, "/api/v1/openapi.json") { response in
                let document = try jsonObject(response)
                #expect(document["openapi"] as? String == "3.1.0")
                #expect((document["paths"] as? [String: Any])?["/professionals/{idNat}"] != nil)
                // An independent validator of the OpenAPI 3.1 specification checks the document.
                let file = try ExternalTool.temporaryFolder("openapi").appendingPathComponent("openapi.json")
                try Data(buffer: response.body).write(to: file)
                let checked = try ExternalTool.run(TestTools.python(), ["-c", "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')", file.path])
                #expect(checked.output.contains("valid") && checked.status == 0, "\(checked.output)")
            }
        }
    }
}
