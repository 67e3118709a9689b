import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSApp
import OpenCPSDomain
@testable import OpenCPSHTTP
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// Operator tokens carry roles (registry, issuance, security), and a hold placed by a card's
/// suspension is the card's: issue 21's "one operator token does everything".
@Suite("Operator roles and lifecycle-owned holds", TestTools.needs("openssl"))
struct OperatorRolesTests {
    /// One route of each operator family, with the roles that may pass its gate.
    static let routes: [(method: HTTPMethod, path: String, body: String?, roles: Set<OperatorRole>)] = [
        (.POST, "/api/v1/professionals", "{}", [.registry]),
        (.PUT, "/api/v1/professionals/810099990011", "{}", [.registry]),
        (.POST, "/api/v1/professionals/810099990011/registrations", "{}", [.registry]),
        (.POST, "/api/v1/structures", "{}", [.registry]),
        (.PUT, "/api/v1/structures/R10000012345", "{}", [.registry]),
        (.POST, "/api/v1/certificates", "{}", [.issuance]),
        (.GET, "/api/v1/certificates/forte-personnes/0A1B2C", nil, [.issuance, .security]),
        (.POST, "/api/v1/certificates/forte-personnes/0A1B2C/revocation", #"{"reason": "keyCompromise"}"#, [.security]),
        (.POST, "/api/v1/certificates/forte-personnes/0A1B2C/hold", nil, [.security]),
        (.POST, "/api/v1/certificates/forte-personnes/0A1B2C/release", nil, [.security]),
    ]

    @Test("a token of one role gets 403 auth.operator-role on another role's routes, naming nothing of the resource; a token without roles keeps every role")
    func rolesGateTheirRoutes() async throws {
        try await withTestApp(pki: TestPKIMaterial.shared) { app in
            for route in Self.routes {
                for role in OperatorRole.allCases {
                    var headers = HTTPHeaders()
                    headers.bearerAuthorization = BearerAuthorization(token: try #require(testRoleOperatorTokens[role]))
                    headers.contentType = .json
                    try await app.testing().test(route.method, route.path, headers: headers, body: route.body.map { ByteBuffer(string: $0) }) { response in
                        let text = response.body.string
                        if route.roles.contains(role) {
                            #expect(response.status != .forbidden && response.status != .unauthorized, "\(role) \(route.method) \(route.path): \(text)")
                        } else {
                            #expect(response.status == .forbidden, "\(role) \(route.method) \(route.path): \(text)")
                            #expect(response.headers.contentType?.description.hasPrefix("application/problem+json") == true)
                            let problem = try jsonObject(response)
                            #expect(problem["code"] as? String == "auth.operator-role")
                            #expect(!text.contains("0A1B2C") && !text.contains("810099990011") && !text.contains("R10000012345"))
                        }
                    }
                }
                // The token of the settings' format before roles has every role.
                try await app.testing().test(route.method, route.path, headers: .operatorHeaders, body: route.body.map { ByteBuffer(string: $0) }) {
                    #expect($0.status != .forbidden && $0.status != .unauthorized, "\(route.path): \($0.body.string)")
                }
            }
        }
    }

    @Test("the issuance listener accepts only issuance tokens")
    func issuanceListenerRole() async throws {
        try await withTestApp(pki: TestPKIMaterial.shared) { app in
            let listener = try #require(app.issuanceListener)
            let port = try await listener.start(host: "127.0.0.1", port: 0)
            do {
                for role in OperatorRole.allCases {
                    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/certificates")!)
                    request.httpMethod = "POST"
                    request.httpBody = Data("{}".utf8)
                    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                    request.setValue("Bearer \(testRoleOperatorTokens[role]!)", forHTTPHeaderField: "Authorization")
                    let (data, response) = try await URLSession.shared.data(for: request)
                    let status = (response as! HTTPURLResponse).statusCode
                    let code = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["code"] as? String
                    if role == .issuance {
                        #expect(status == 422 || status == 400, "\(String(decoding: data, as: UTF8.self))")
                    } else {
                        #expect(status == 403 && code == "auth.operator-role", "\(role): \(String(decoding: data, as: UTF8.self))")
                    }
                }
            } catch {
                try await listener.stop()
                throw error
            }
            try await listener.stop()
        }
    }

    @Test("issuance names a professional the registry knows, by the registry's names")
    func issuanceChecksTheRegistry() async throws {
        try await withTestApp(clock: SystemWallClock(), pki: TestPKIMaterial.shared) { app in
            let folder = try ExternalTool.temporaryFolder("issuance-registry")
            let csr = try TestIssuance.csr(in: folder, name: "holder", newKey: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: try #require(testRoleOperatorTokens[.issuance]))
            headers.contentType = .json
            func issue(_ changes: [String: String]) async throws -> (HTTPStatus, String?) {
                var fields = TestIssuance.fields(csr: csr)
                for (key, value) in changes { fields[key] = value }
                let body = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
                var answer: (HTTPStatus, String?) = (.internalServerError, nil)
                try await app.testing().test(.POST, "/api/v1/certificates", headers: headers, body: jsonBody(body)) { response in
                    answer = (response.status, (try? jsonObject(response))?["code"] as? String)
                }
                return answer
            }
            #expect(try await issue([:]) == (.unprocessableEntity, "pki.issuance.unknown-professional"))
            _ = try await DemoData(clock: FixedWallClock(testNow)).load(into: app.db)
            #expect(try await issue(["surname": "MARTIN"]) == (.unprocessableEntity, "pki.issuance.subject-mismatch"))
            #expect(try await issue(["givenName": "Paul"]) == (.unprocessableEntity, "pki.issuance.subject-mismatch"))
            let accepted = try await issue([:])
            #expect(accepted.0 == .created, "\(accepted)")
            // The registry's names match whatever their case and surrounding spaces.
            let caseless = try await issue(["givenName": " Claire ", "surname": "lambert", "cardSerialNumber": "1000000002"])
            #expect(caseless.0 == .created, "\(caseless)")
        }
    }

    @Test("the issuance names compare without case, accents or surrounding spaces, and nothing more")
    func issuanceNameFolding() {
        #expect(CertificateIssuanceEndpoint.sameName("Élise", "ELISE"))
        #expect(CertificateIssuanceEndpoint.sameName(" Núñez", "nunez "))
        #expect(CertificateIssuanceEndpoint.sameName("LAMBERT", "LAMBERT"))
        #expect(!CertificateIssuanceEndpoint.sameName("Lambert", "Lambart"))
        #expect(!CertificateIssuanceEndpoint.sameName("Jean-Marie", "Jean Marie"))
    }

    @Test("OPENCPS_OPERATOR_TOKENS reads name:role+role=token, keeps name=token with every role, and refuses an unknown role")
    func configuration() throws {
        let configuration = try OpenCPSConfiguration.resolve(flags: .init(), environment: [
            "OPENCPS_OPERATOR_TOKENS": "alice:registry=alice-token-0123456789,bob:issuance+security=bob-token-0123456789,carol=carol-token-0123456789",
        ])
        #expect(configuration.operatorTokens == [
            "alice-token-0123456789": "alice", "bob-token-0123456789": "bob", "carol-token-0123456789": "carol",
        ])
        #expect(configuration.operatorRoles == ["alice-token-0123456789": [.registry], "bob-token-0123456789": [.issuance, .security]])
        for wrong in ["alice:admin=alice-token-0123456789", ":registry=alice-token-0123456789", "alice:=alice-token-0123456789"] {
            #expect(throws: ConfigurationError.self, "\(wrong)") {
                try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_OPERATOR_TOKENS": wrong])
            }
        }
        let demo = try OpenCPSConfiguration.resolve(flags: .init(demo: true), environment: [:])
        for (role, token) in OpenCPSConfiguration.demoRoleOperatorTokens {
            #expect(demo.operatorRoles[token] == [role])
        }
        #expect(demo.operatorTokens[OpenCPSConfiguration.demoOperatorToken] == "demo")
        #expect(demo.operatorRoles[OpenCPSConfiguration.demoOperatorToken] == nil)
    }

    @Test("a hold placed by a card's suspension is released only by the card's reinstatement: an operator's release is refused (409) and the certificate stays on hold")
    func lifecycleOwnsItsHolds() async throws {
        let claire = DemoData.professionals[0]
        let clock = FixedWallClock(Date())
        let holders = DemoData.professionals.map(\.idNat.value)
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders)) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            let api = CardAPI(app: app, configuration: configuration)
            let holder = TestActors.holder(claire.idNat.value)
            let services = try #require(app.cards)
            let id = try #require(try await services.ordering.orderAutomatically(for: claire, professionCode: "10")?.id)
            try await api.makeActive(id, holder: holder)
            let card = try await api.file(id, as: holder)["card"] as? [String: Any] ?? [:]
            let authentication = try #require(card["authenticationCertificate"] as? String)
            let security = try #require(testRoleOperatorTokens[.security])
            try await api.act(id, "suspension", as: TestActors.security, json: #"{"reason": "usage suspect"}"#)

            let refused = try await api.call(.POST, "/api/v1/certificates/forte-personnes/\(authentication)/release", as: security)
            #expect(refused.status == .conflict)
            #expect(refused.json["code"] as? String == "certificate.hold-owned-by-card")
            #expect(!"\(refused.json)".contains(claire.idNat.value) && !"\(refused.json)".contains(id))
            #expect(try await api.state(id) == "suspended")
            let read = try await api.call(.GET, "/api/v1/certificates/forte-personnes/\(authentication)", as: security)
            #expect(read.json["status"] as? String == "on-hold" && read.json["reason"] as? String == "certificateHold")
            #expect(try await api.ocspStatus(serialHex: authentication) == "revoked")

            // The card's reinstatement releases it; a hold an operator places on an active card's
            // certificate is the operator's to release.
            try await api.act(id, "reinstatement", as: TestActors.security, json: #"{"reason": "contrôle terminé"}"#)
            #expect(try await api.ocspStatus(serialHex: authentication) == "good")
            #expect(try await api.call(.POST, "/api/v1/certificates/forte-personnes/\(authentication)/hold", as: security).status == .ok)
            #expect(try await api.ocspStatus(serialHex: authentication) == "revoked")
            #expect(try await api.call(.POST, "/api/v1/certificates/forte-personnes/\(authentication)/release", as: security).status == .ok)
            #expect(try await api.ocspStatus(serialHex: authentication) == "good")
        }
    }
}
