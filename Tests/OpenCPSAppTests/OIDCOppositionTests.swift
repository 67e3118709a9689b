import Foundation
import OpenCPSApp
import OpenCPSDomain
import Testing
import Vapor

/// Issue 23's opposition test: one professional logged in three ways at once (the card's signed
/// challenge, the card over mutual TLS, and e-CPS by CIBA); the card is opposed; the next
/// introspection of every access token says inactive and every refresh fails.
@Suite("OpenID Connect: an opposed card ends every login at once")
struct OIDCOppositionTests {
    @Test("logged in by card challenge, mutual TLS and e-CPS; the card opposed: every access token inactive, every refresh refused")
    func oppositionEndsEverything() async throws {
        let clock = FixedWallClock(Date())
        try await OIDCMutualTLSTests.withListener(clock: clock) { login, card, api, files, port in
            let app = login.app
            var sessions: [(means: String, access: String, refresh: String)] = []
            func keep(_ means: String, _ tokens: (status: HTTPStatus, json: [String: Any])) throws {
                #expect(tokens.status == .ok, "\(means): \(tokens.json)")
                sessions.append((means, try #require(tokens.json["access_token"] as? String), try #require(tokens.json["refresh_token"] as? String)))
            }
            // The card's signed challenge.
            try keep("card", try await login.tokens(code: try await login.code(token: card.token, pin: card.pin)))
            // The card over mutual TLS.
            let tls = try await OIDCMutualTLSTests.curl(port: port, files: files, certificate: files.cardCertificate, key: files.cardKey)
            let code = try #require(tls.location.flatMap(URLComponents.init(string:))?.queryItems?.first { $0.name == "code" }?.value, "\(tls.json)")
            try keep("mtls", try await login.tokens(code: code))
            // e-CPS: a device enrolled from the card session approves a CIBA request.
            var device = try ECPSTestDevice()
            defer { device.remove() }
            try #require(try await device.enrol(app, payload: try await ECPSEnrolmentTests.payload(api)).0 == .created)
            let started = try await login.post("/oidc/bc-authorize", form: ["login_hint": SigningHolder.idNat, "scope": "openid"])
            let requestID = try #require(started.json["auth_req_id"] as? String, "\(started.json)")
            let listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            #expect(try await device.decide(app, listed, .approve, at: clock.now()).0 == .ok)
            try keep("ecps", try await login.post("/oidc/token", form: ["grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": requestID]))
            for session in sessions { #expect(try await login.isActive(session.access), "\(session.means)") }

            try await api.act(card.cardID, "opposition", as: TestActors.holder(SigningHolder.idNat), json: #"{"reason": "carte volée"}"#)

            for session in sessions {
                #expect(try await !login.isActive(session.access), "\(session.means): still active after the opposition")
                let refreshed = try await login.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": session.refresh])
                #expect(refreshed.status == .badRequest, "\(session.means): \(refreshed.json)")
                #expect(refreshed.json["error"] as? String == "invalid_grant", "\(session.means)")
            }
        }
    }
}
