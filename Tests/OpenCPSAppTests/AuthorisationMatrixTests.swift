import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// Issue 21's authorisation matrix: every route of the main server × every kind of caller,
/// against the allow/deny table below. A route the application registers without a row fails
/// the test. Every refusal is a 401/403 problem that names nothing of the resource.
///
/// The resource is Dr Claire Lambert's active CPS (order CNOM; she works at the Besançon
/// hospital, demo establishment 0), its authentication certificate, her record and the
/// hospital's. Refused calls change nothing, so they all run on one application; allowed calls
/// that change things are the journeys' business, and here only allowed reads are made.
@Suite("Authorisation matrix", TestTools.needs("openssl"))
struct AuthorisationMatrixTests {
    /// Every kind of caller.
    enum Caller: String, CaseIterable, Hashable {
        case anonymous, holder, otherHolder, ordreInScope, ordreOutOfScope, agencyOfRegion, agencyOfOtherRegion
        case managerOfStructure, managerOfOtherStructure, helpDesk, production, securityActor, registrationActor
        case registryOperator, issuanceOperator, securityOperator
    }

    /// Who may pass a route's gate: everyone (public), or some callers.
    enum Rule {
        case publicRoute
        case allowed(Set<Caller>)
        /// OAuth endpoints: the caller is a relying service authenticated as it registered (or,
        /// at userinfo, by an access token), which no actor or operator token is; every caller
        /// here is refused with 401 and an OAuth error (RFC 6749 §5.2, RFC 6750 §3), not a problem.
        case oauthClient
        /// The web portal's own pages: a portal session (a cookie the provider's login gives)
        /// is the only key; a bearer token is none, so every caller here is sent to the login
        /// (a redirect) or refused (401/403), and sees nothing of the resource.
        case portalSession
    }

    static let cardReaders: Set<Caller> = [.holder, .ordreInScope, .helpDesk, .production, .securityActor]

    /// The table: `METHOD path` as the router has it → rule. Callers not allowed must be refused.
    static let table: [String: Rule] = [
        "GET /health": .publicRoute,
        "GET /ready": .publicRoute,
        "GET /metrics": .publicRoute,
        "GET /api/v1/openapi.json": .publicRoute,
        "GET /api/v1/professionals": .publicRoute,
        "GET /api/v1/professionals/:idNat": .publicRoute,
        "POST /api/v1/professionals": .allowed([.registryOperator]),
        "PUT /api/v1/professionals/:idNat": .allowed([.registryOperator]),
        "POST /api/v1/professionals/:idNat/registrations": .allowed([.registryOperator]),
        "GET /api/v1/structures": .publicRoute,
        "GET /api/v1/structures/:id": .publicRoute,
        "POST /api/v1/structures": .allowed([.registryOperator]),
        "PUT /api/v1/structures/:id": .allowed([.registryOperator]),
        "POST /api/v1/certificates": .allowed([.issuanceOperator]),
        "GET /api/v1/certificates/:issuer/:serial": .allowed([.issuanceOperator, .securityOperator]),
        "POST /api/v1/certificates/:issuer/:serial/revocation": .allowed([.securityOperator]),
        "POST /api/v1/certificates/:issuer/:serial/hold": .allowed([.securityOperator]),
        "POST /api/v1/certificates/:issuer/:serial/release": .allowed([.securityOperator]),
        // Public PKI, signatures and directory.
        "GET /pki/:file": .publicRoute,
        "GET /crl/:file": .publicRoute,
        "POST /ocsp/:slug": .publicRoute,
        "GET /ocsp/:slug/**": .publicRoute,
        "POST /tsa": .publicRoute,
        "POST /api/v1/signatures/verification": .publicRoute,
        "POST /api/v1/payer/lots": .publicRoute,
        "GET /fhir/metadata": .publicRoute,
        "GET /fhir/Practitioner": .publicRoute,
        "POST /fhir/Practitioner/_search": .publicRoute,
        "GET /fhir/Practitioner/:id": .publicRoute,
        "GET /fhir/PractitionerRole": .publicRoute,
        "POST /fhir/PractitionerRole/_search": .publicRoute,
        "GET /fhir/PractitionerRole/:id": .publicRoute,
        "GET /fhir/Organization": .publicRoute,
        "POST /fhir/Organization/_search": .publicRoute,
        "GET /fhir/Organization/:id": .publicRoute,
        // Cards: any actor token passes the gate of an order or a list, whose content is the
        // actor's (filtered, or refused from the body); a card's routes follow the domain's rules.
        "POST /api/v1/cards": .allowed(actorCallers),
        "GET /api/v1/cards": .allowed(actorCallers),
        "GET /api/v1/cards/:id": .allowed(cardReaders),
        "GET /api/v1/cards/:id/history": .allowed(cardReaders),
        "GET /api/v1/cards/:id/pin": .allowed(cardReaders),
        "POST /api/v1/cards/:id/documents": .allowed([.holder, .ordreInScope]),
        "POST /api/v1/cards/:id/submit": .allowed([.holder, .ordreInScope]),
        "POST /api/v1/cards/:id/request-documents": .allowed([.ordreInScope]),
        "POST /api/v1/cards/:id/validate": .allowed([.ordreInScope]),
        "POST /api/v1/cards/:id/reject": .allowed([.ordreInScope]),
        "POST /api/v1/cards/:id/express": .allowed([.helpDesk]),
        "POST /api/v1/cards/:id/manufacture": .allowed([.production]),
        "POST /api/v1/cards/:id/delivery": .allowed([.production]),
        "POST /api/v1/cards/:id/activation": .allowed([.holder]),
        "POST /api/v1/cards/:id/pin/verify": .allowed([.holder]),
        "POST /api/v1/cards/:id/pin/change": .allowed([.holder]),
        "POST /api/v1/cards/:id/pin/unblock": .allowed([.holder]),
        "POST /api/v1/cards/:id/opposition": .allowed([.holder, .helpDesk, .securityActor]),
        "POST /api/v1/cards/:id/suspension": .allowed([.securityActor]),
        "POST /api/v1/cards/:id/reinstatement": .allowed([.securityActor]),
        "POST /api/v1/cards/:id/revocation": .allowed([.ordreInScope, .securityActor]),
        "POST /api/v1/cards/:id/renewal": .allowed([.holder, .ordreInScope]),
        "POST /api/v1/cards/:id/temporary-card": .allowed([.managerOfStructure]),
        "POST /api/v1/production-runs": .allowed([.production]),
        "GET /api/v1/helpdesk/files": .allowed([.helpDesk]),
        "GET /api/v1/helpdesk/overdue": .allowed([.helpDesk]),
        // OpenID Connect: discovery, keys and the user agent's steps are public (the login proves
        // itself in its body); the client endpoints authenticate relying services.
        "GET /.well-known/openid-configuration": .publicRoute,
        "GET /oidc/jwks": .publicRoute,
        "GET /oidc/authorize": .publicRoute,
        "POST /oidc/login/card": .publicRoute,
        "GET /oidc/logout": .publicRoute,
        "POST /oidc/token": .oauthClient,
        "POST /oidc/introspect": .oauthClient,
        "POST /oidc/revoke": .oauthClient,
        "POST /oidc/bc-authorize": .oauthClient,
        "GET /oidc/userinfo": .oauthClient,
        "POST /oidc/userinfo": .oauthClient,
        "GET /api/v1/oidc/clients": .allowed([.securityOperator]),
        "GET /api/v1/oidc/clients/:id": .allowed([.securityOperator]),
        "POST /api/v1/oidc/clients": .allowed([.securityOperator]),
        "DELETE /api/v1/oidc/clients/:id": .allowed([.securityOperator]),
        // e-CPS: a holder's card session starts an enrolment and sets the contact; a device
        // enrols with its code and decides with its approval key's signature (in the body); the
        // holder's devices are the holder's (card session) or a device's (proof); pending
        // requests only a device's proof lists, and only its proof asks for its certificate.
        "POST /api/v1/ecps/enrolments": .allowed([.holder, .otherHolder]),
        "PUT /api/v1/ecps/contact": .allowed([.holder, .otherHolder]),
        "POST /api/v1/ecps/activations": .publicRoute,
        "POST /api/v1/ecps/devices": .publicRoute,
        "GET /api/v1/ecps/devices": .allowed([.holder, .otherHolder]),
        "DELETE /api/v1/ecps/devices/:id": .allowed([.holder, .otherHolder]),
        "GET /api/v1/ecps/requests": .allowed([]),
        "POST /api/v1/ecps/devices/:id/certificate": .allowed([]),
        "POST /api/v1/ecps/requests/:id/decision": .publicRoute,
        // The provider's browser login with e-CPS (the login proves itself on the device).
        "GET /oidc/login/ecps": .publicRoute,
        "POST /oidc/login/ecps": .publicRoute,
        // The web portal: its entry, login, callback and style sheet are public; the rest needs a session.
        "GET /": .publicRoute,
        "GET /portail/connexion": .publicRoute,
        "GET /portail/callback": .publicRoute,
        "GET /portail/static/portail.css": .publicRoute,
        "GET /portail": .portalSession,
        "POST /portail/deconnexion": .portalSession,
        "GET /portail/cartes/:card/opposition": .portalSession,
        "GET /portail/cartes/:card/historique": .portalSession,
        "POST /portail/cartes/:card/opposition": .portalSession,
        "POST /portail/appareils/:device/revocation": .portalSession,
        "GET /portail/adresse": .portalSession,
        "POST /portail/adresse": .portalSession,
        "GET /portail/appareils/ajout": .portalSession,
        "POST /portail/appareils/ajout": .portalSession,
        "GET /portail/demandes": .portalSession,
        "POST /portail/demandes": .portalSession,
        "GET /portail/demandes/:card": .portalSession,
        "POST /portail/demandes/:card/pieces": .portalSession,
        "POST /portail/demandes/:card/envoi": .portalSession,
        // The staff pages: a portal session, and a role the platform gives the person.
        "GET /portail/agent": .portalSession,
        "GET /portail/agent/:role": .portalSession,
        "GET /portail/agent/:role/dossiers": .portalSession,
        "GET /portail/agent/:role/dossiers/:file": .portalSession,
        "GET /portail/agent/:role/dossiers/:file/pieces/:document": .portalSession,
        "POST /portail/agent/:role/dossiers/:file/validation": .portalSession,
        "POST /portail/agent/:role/dossiers/:file/refus": .portalSession,
        "POST /portail/agent/:role/dossiers/:file/urgence": .portalSession,
        "GET /portail/agent/:role/dossiers/:file/opposition": .portalSession,
        "POST /portail/agent/:role/dossiers/:file/opposition": .portalSession,
        "POST /portail/agent/:role/dossiers/:file/carte-temporaire": .portalSession,
        "POST /portail/agent/:role/dossiers/:file/pieces": .portalSession,
        "POST /portail/agent/:role/dossiers/:file/envoi": .portalSession,
        "GET /portail/agent/:role/guichet": .portalSession,
        "GET /portail/agent/:role/personnel": .portalSession,
        "POST /portail/agent/:role/commandes": .portalSession,
    ]

    /// The callers holding an actor token (card routes' gate).
    static let actorCallers: Set<Caller> = Set(Caller.allCases).subtracting([.anonymous, .registryOperator, .issuanceOperator, .securityOperator])

    /// Each caller's bearer token (nil: no `Authorization` header).
    static func token(_ caller: Caller) -> String? {
        switch caller {
        case .anonymous: nil
        case .holder: TestActors.holder(DemoData.professionals[0].idNat.value)
        case .otherHolder: TestActors.holder(DemoData.professionals[4].idNat.value)
        case .ordreInScope: TestActors.cnom
        case .ordreOutOfScope: cnop
        case .agencyOfRegion: TestActors.ars
        case .agencyOfOtherRegion: TestActors.otherArs
        case .managerOfStructure: TestActors.manager
        case .managerOfOtherStructure: TestActors.otherManager
        case .helpDesk: TestActors.helpDesk
        case .production: TestActors.production
        case .securityActor: TestActors.security
        case .registrationActor: registration
        case .registryOperator: testRoleOperatorTokens[.registry]
        case .issuanceOperator: testRoleOperatorTokens[.issuance]
        case .securityOperator: testRoleOperatorTokens[.security]
        }
    }

    static let cnop = "t-ordre-cnop-0123456789"
    static let registration = "t-registration-0123456789"

    @Test("every route × every caller: allowed callers pass the gate, the others get a 401/403 problem naming nothing of the resource")
    func matrix() async throws {
        let claire = DemoData.professionals[0]
        let clock = FixedWallClock(Date())
        var actors = TestActors.tokens(holders: DemoData.professionals.map(\.idNat.value))
        actors[Self.cnop] = .ordre(.cnop)
        actors[Self.registration] = .agencyOperator(.registration)
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: actors) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            let api = CardAPI(app: app, configuration: configuration)
            let services = try #require(app.cards)
            let id = try #require(try await services.ordering.orderAutomatically(for: claire, professionCode: "10")?.id)
            let cardSerial = try await api.makeActive(id, holder: TestActors.holder(claire.idNat.value))
            let card = try await api.file(id, as: TestActors.helpDesk)["card"] as? [String: Any] ?? [:]
            let certificate = try #require(card["authenticationCertificate"] as? String)
            let hospital = DemoData.establishments[0].identifier.idNatStruct
            let secrets = [claire.idNat.value, claire.lastName, claire.firstName, id, cardSerial, certificate, "active"]

            let routes = app.routes.all.map { route in
                "\(route.method.rawValue) /" + route.path.map { "\($0)" }.joined(separator: "/")
            }
            let missing = Set(routes).subtracting(Self.table.keys).sorted()
            #expect(missing.isEmpty, "routes without a row in the matrix: \(missing.joined(separator: ", "))")
            let stale = Set(Self.table.keys).subtracting(routes).sorted()
            #expect(stale.isEmpty, "rows of routes the application does not have: \(stale.joined(separator: ", "))")

            for (key, rule) in Self.table.sorted(by: { $0.key < $1.key }) where routes.contains(key) {
                let parts = key.split(separator: " ", maxSplits: 1)
                let method = HTTPMethod(rawValue: String(parts[0]))
                let path = Self.fill(String(parts[1]), card: id, idNat: claire.idNat.value, structure: hospital, serial: certificate, cardSerial: cardSerial)
                for caller in Caller.allCases {
                    let allowed: Bool
                    switch rule {
                    case .publicRoute: allowed = true
                    case .allowed(let callers): allowed = callers.contains(caller)
                    case .oauthClient, .portalSession: allowed = false
                    }
                    // Allowed calls that change things are left to the journeys.
                    if allowed && method != .GET { continue }
                    var headers = HTTPHeaders()
                    if let token = Self.token(caller) { headers.bearerAuthorization = BearerAuthorization(token: token) }
                    // The OAuth endpoints read forms (RFC 6749 §3.2), the rest JSON.
                    let isOAuth = if case .oauthClient = rule { true } else { false }
                    let body: ByteBuffer? = method == .GET ? nil : ByteBuffer(string: isOAuth ? "token=x" : Self.body(for: key))
                    if body != nil { headers.contentType = isOAuth ? .urlEncodedForm : .json }
                    try await app.testing().test(method, path, headers: headers, body: body) { response in
                        let text = response.body.string
                        if allowed {
                            #expect(response.status != .unauthorized && response.status != .forbidden, "\(caller) \(key): \(response.status) \(text)")
                        } else if case .portalSession = rule {
                            // Sent to the portal's entry ("/", with its login button) or to its login.
                            let location = response.headers.first(name: .location) ?? ""
                            let toLogin = (300..<400).contains(response.status.code) && (location == "/" || location.hasPrefix("/portail/connexion"))
                            #expect(toLogin || [.unauthorized, .forbidden].contains(response.status), "\(caller) \(key): \(response.status) \(text)")
                            for secret in secrets where text.localizedCaseInsensitiveContains(secret) {
                                Issue.record("\(caller) \(key): the refusal names \(secret): \(text)")
                            }
                        } else if case .oauthClient = rule {
                            #expect(response.status == .unauthorized, "\(caller) \(key): \(response.status) \(text)")
                            let error = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["error"] as? String
                            #expect(error == "invalid_client" || error == "invalid_token", "\(caller) \(key): \(text)")
                            // "not active" is RFC 7662's word for a refused token, not the card's state.
                            for secret in secrets where secret != "active" && text.localizedCaseInsensitiveContains(secret) {
                                Issue.record("\(caller) \(key): the refusal names \(secret): \(text)")
                            }
                        } else {
                            #expect(
                                response.status == (caller == .anonymous ? .unauthorized : .forbidden) || response.status == .unauthorized,
                                "\(caller) \(key): \(response.status) \(text)")
                            #expect(response.headers.contentType?.description.hasPrefix("application/problem+json") == true, "\(caller) \(key)")
                            // A holder's refusal may name the holder: they are that person.
                            for secret in secrets where text.localizedCaseInsensitiveContains(secret) && !(caller == .holder && secret == claire.idNat.value) {
                                Issue.record("\(caller) \(key): the refusal names \(secret): \(text)")
                            }
                        }
                    }
                }
            }
            // Nothing a refused call asked for happened.
            #expect(try await api.state(id) == "active")
            #expect(try await api.ocspStatus(serialHex: certificate) == "good")
        }
    }

    /// A path with its parameters filled with the resource's identifiers.
    static func fill(_ path: String, card: String, idNat: String, structure: String, serial: String, cardSerial: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part -> String in
            switch part {
            case ":id": path.contains("structures") ? structure : card
            case ":idNat": idNat
            case ":issuer", ":ca", ":slug": "forte-personnes"
            case ":file" where path.hasPrefix("/portail"): card
            case ":role": "helpdesk"
            case ":document": "00000000-0000-4000-8000-000000000002"
            case ":file": path.hasPrefix("/crl") ? "forte-personnes.crl" : "forte-personnes.pem"
            case "**": "MEIwQDA-MDwwOjAJBgUrDgMCGgUABBQ"
            case ":serial": serial
            case ":card": card
            case ":device": "00000000-0000-4000-8000-000000000001"
            default: String(part)
            }
        }.joined(separator: "/")
    }

    /// A body that an allowed caller could send, so that a refusal is the gate's and not the body's.
    static func body(for key: String) -> String {
        if key.hasSuffix("/activation") || key.hasSuffix("/pin-change") { return #"{"pin": "1234", "newPIN": "5678", "puk": "12345678"}"# }
        if key.hasSuffix("/revocation") && key.contains("certificates") { return #"{"reason": "keyCompromise"}"# }
        if key.hasSuffix("/express") { return #"{"justification": "urgence"}"# }
        return #"{"reason": "contrôle", "detail": "note"}"#
    }
}
