import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// Bad input gets a problem that names what is wrong, and a note sent is a note kept.
@Suite("API refusals")
struct APIRefusalsTests {
    let claire = DemoData.professionals[0]

    @Test("a missing or mistyped query parameter is named; a limit that is not a number is refused on every search")
    func queryParameters() async throws {
        let holders = [claire.idNat.value]
        try await withConfiguredTestApp(pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders)) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            let missing = try await api.call(.GET, "/api/v1/cards", as: TestActors.helpDesk)
            #expect(missing.status == .unprocessableEntity)
            let field = (missing.json["errors"] as? [[String: Any]])?.first
            #expect(field?["field"] as? String == "idNat" && field?["code"] as? String == "field.required", "\(missing.json)")
            for path in ["/api/v1/structures?limit=abc", "/api/v1/professionals?limit=abc"] {
                try await app.testing().test(.GET, path) { #expect($0.status == .badRequest, "\(path)") }
            }
            let kind = try await api.call(.POST, "/api/v1/cards", as: TestActors.holder(claire.idNat.value),
                                          json: #"{"idNat": "\#(claire.idNat.value)", "kind": "CPX"}"#)
            let refusal = (kind.json["errors"] as? [[String: Any]])?.first
            #expect(refusal?["code"] as? String == "field.unknown-code")
            #expect(refusal?["reason"] as? String == "must be one of CPS, CPF, CPE, CPA, CDE, CDA", "\(kind.json)")
        }
    }

    @Test("a path answered under other methods only is 405 with Allow; an unknown path stays 404")
    func methodNotAllowed() async throws {
        try await withConfiguredTestApp(pki: TestPKIMaterial.shared) { app, _ in
            let cases: [(HTTPMethod, String, String)] = [
                (.PUT, "/oidc/token", "POST"),
                (.POST, "/.well-known/openid-configuration", "GET, HEAD"),
                (.PATCH, "/api/v1/certificates/forte-personnes/0A", "GET, HEAD"),
                (.DELETE, "/api/v1/professionals", "GET, POST, HEAD"),
            ]
            for (method, path, allow) in cases {
                try await app.testing().test(method, path) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    let listed = Set((response.headers.first(name: .allow) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(listed == Set(allow.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }), "\(method) \(path): \(response.headers)")
                    #expect(response.headers.contentType == HTTPMediaType(type: "application", subType: "problem+json"))
                    #expect(response.body.string.contains("route.method-not-allowed"), "\(response.body.string)")
                }
            }
            try await app.testing().test(.GET, "/api/v1/no-such-thing") { response in
                #expect(response.status == .notFound)
                #expect(response.headers.first(name: .allow) == nil)
                #expect(response.body.string.contains("route.not-found"))
            }
        }
    }

    @Test("a body of the wrong JSON kind is described with its kind and article")
    func typeMismatches() async throws {
        try await withTestApp { app in
            for (body, expected) in [
                (#"{"idNat": "810100271385", "civilite": "M", "lastName": "MARTIN", "firstName": 1, "exercises": []}"#, "firstName must be a string"),
                (#"{"idNat": "810100271385", "civilite": "M", "lastName": "MARTIN", "firstName": "PAUL", "exercises": {}}"#, "exercises must be a list"),
                (#"{"name": "X", "identifier": "1750712184", "address": []}"#, "address must be a JSON object"),
            ] {
                let path = body.contains("exercises") ? "/api/v1/professionals" : "/api/v1/structures"
                try await app.testing().test(.POST, path, headers: .operatorHeaders, body: jsonBody(body)) { response in
                    #expect(response.status == .badRequest)
                    let problem = try jsonObject(response)
                    #expect(problem["detail"] as? String == expected, "\(response.body.string)")
                }
            }
        }
    }

    @Test("the note of a hold and of a release is recorded; a body that is not JSON is refused, none is no note; revoked, it is a conflict")
    func holdNotes() async throws {
        try await withConfiguredTestApp(clock: FixedWallClock(Date()), pki: TestPKIMaterial.shared) { app, configuration in
            _ = try await DemoData(clock: FixedWallClock(Date())).load(into: app.db)
            let cards = try #require(app.cards)
            let order = try #require(try await cards.ordering.orderAutomatically(for: claire, professionCode: "10"))
            let made = try await cards.production.manufacture(order.id, actor: .agencyOperator(.production))
            let certificates = try #require(made.manufacture?.certificates)
            let base = "/api/v1/certificates/\(certificates.issuer)/\(certificates.authentication)"
            try await app.testing().test(.POST, "\(base)/hold", headers: .operatorHeaders, body: jsonBody(#"{"detail": "contrôle"}"#)) {
                #expect($0.status == .ok)
            }
            try await app.testing().test(.POST, "\(base)/release", headers: .operatorHeaders, body: jsonBody("not json")) {
                #expect($0.status == .badRequest)
            }
            var headers = HTTPHeaders.operatorHeaders
            headers.remove(name: .contentType)
            try await app.testing().test(.POST, "\(base)/release", headers: headers) { #expect($0.status == .ok) }
            let details = try await AuditLog(clock: SystemWallClock())
                .history(entityType: "certificate", entityID: "\(certificates.issuer)/\(certificates.authentication)", on: app.db)
                .map { "\($0.action) \($0.detail ?? "-")" }
            #expect(details.suffix(2) == ["certificate.hold contrôle", "certificate.release -"], "\(details)")

            // A certificate revoked already: a second revocation or a hold is a conflict (409), not invalid input.
            try await app.testing().test(.POST, "\(base)/revocation", headers: .operatorHeaders, body: jsonBody(#"{"reason": "keyCompromise"}"#)) {
                #expect($0.status == .ok)
            }
            for (action, body) in [("revocation", #"{"reason": "keyCompromise"}"#), ("hold", #"{"detail": "contrôle"}"#)] {
                try await app.testing().test(.POST, "\(base)/\(action)", headers: .operatorHeaders, body: jsonBody(body)) { response in
                    #expect(response.status == .conflict, "\(action)")
                    #expect(response.body.string.contains("certificate.already-revoked"), "\(response.body.string)")
                }
            }
        }
    }
}
