import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import OpenCPSTokens
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The OpenID Connect provider through its HTTP layer: a card logs in by signing the
/// challenge, the code becomes tokens, and every refusal the protocol calls for is made.
@Suite("OpenID Connect provider")
struct OIDCProviderTests {
    /// An application with a PKI, the médecin's active card, and the two test clients.
    private func withLogin(
        clock: FixedWallClock = FixedWallClock(Date()),
        _ body: (OIDCTestLogin, SigningHolder, CardAPI, FixedWallClock) async throws -> Void
    ) async throws {
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [SigningHolder.idNat])) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            let card = try await SigningHolder(api)
            let login = OIDCTestLogin(app: app)
            try await login.registerClients()
            try await body(login, card, api, clock)
        }
    }

    @Test("a card logs in: the code becomes an ID token, an access token active at introspection, and userinfo with SubjectRefPro")
    func cardLogin() async throws {
        try await withLogin { login, card, _, _ in
            let discovery = try await login.get("/.well-known/openid-configuration")
            #expect(discovery.json["issuer"] as? String == "http://opencps.test")
            #expect(discovery.json["code_challenge_methods_supported"] as? [String] == ["S256"])
            let jwks = try await login.get("/oidc/jwks")
            #expect(((jwks.json["keys"] as? [[String: Any]])?.first?["crv"] as? String) == "P-256")

            let code = try await login.code(token: card.token, pin: card.pin)
            let tokens = try await login.tokens(code: code)
            #expect(tokens.status == .ok, "\(tokens.json)")
            let access = try #require(tokens.json["access_token"] as? String)
            #expect(tokens.json["id_token"] is String)
            #expect(tokens.json["refresh_token"] is String)
            #expect(try await login.isActive(access))

            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: access)
            let userinfo = try await login.get("/oidc/userinfo", headers: headers)
            #expect(userinfo.status == .ok, "\(userinfo.json)")
            #expect(userinfo.json["SubjectNameID"] as? String == SigningHolder.idNat)
            #expect((userinfo.json["sub"] as? String)?.hasPrefix("f:") == true)
            #expect((userinfo.json["sub"] as? String)?.hasSuffix(":\(SigningHolder.idNat)") == true)
            let exercices = (userinfo.json["SubjectRefPro"] as? [String: Any])?["exercices"] as? [[String: Any]]
            #expect(exercices?.first?["codeProfession"] as? String == "10")
            #expect(userinfo.json["SubjectRole"] as? [String] == ["10^1.2.250.1.213.1.1.5.5"])
        }
    }

    @Test("a redirect URI with an extra path or another host is refused")
    func redirectURI() async throws {
        try await withLogin { login, _, _, _ in
            for uri in ["https://service.test/callback/extra", "https://service.test/callback?x=1", "https://evil.test/callback"] {
                let reply = try await login.get(OIDCTestLogin.authorizeQuery(redirectURI: uri))
                #expect(reply.status == .badRequest)
                #expect(reply.json["code"] as? String == "oidc.redirect-uri.mismatch")
            }
        }
    }

    @Test("PKCE: plain and a missing challenge are refused; a missing or wrong verifier does not redeem the code")
    func pkce() async throws {
        try await withLogin { login, card, _, _ in
            let plain = try await login.get(OIDCTestLogin.authorizeQuery(challenge: OIDCTestLogin.verifier, method: "plain"))
            #expect(plain.json["code"] as? String == "oidc.pkce.method-refused")
            let missing = try await login.get(OIDCTestLogin.authorizeQuery(challenge: nil, method: nil))
            #expect(missing.json["code"] as? String == "oidc.pkce.missing")

            let code = try await login.code(token: card.token, pin: card.pin)
            let noVerifier = try await login.post(
                "/oidc/token", form: ["grant_type": "authorization_code", "code": code, "redirect_uri": OIDCTestLogin.redirectURI])
            #expect(noVerifier.status == .badRequest)
            #expect(noVerifier.json["error"] as? String == "invalid_grant")
            let wrong = try await login.tokens(code: code, verifier: String(repeating: "x", count: 50))
            #expect(wrong.json["code"] as? String == "oidc.pkce.verifier-mismatch")
            #expect(try await login.tokens(code: code).status == .ok)
        }
    }

    @Test("a code redeemed twice is refused and revokes what it issued; an expired code is refused")
    func codeReuseAndExpiry() async throws {
        try await withLogin { login, card, _, clock in
            let code = try await login.code(token: card.token, pin: card.pin)
            let first = try await login.tokens(code: code)
            let access = try #require(first.json["access_token"] as? String)
            let again = try await login.tokens(code: code)
            #expect(again.status == .badRequest)
            #expect(again.json["code"] as? String == "oidc.code.reused")
            #expect(try await !login.isActive(access))
            let refresh = try await login.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": try #require(first.json["refresh_token"] as? String)])
            #expect(refresh.json["error"] as? String == "invalid_grant")

            let late = try await login.code(token: card.token, pin: card.pin)
            clock.advance(by: 61)
            let expired = try await login.tokens(code: late)
            #expect(expired.json["code"] as? String == "oidc.code.expired")
        }
    }

    @Test("a wrong client secret is 401 invalid_client; after ten failures the client and its address wait (429) until the window ends")
    func clientSecret() async throws {
        try await withLogin { login, _, _, clock in
            for _ in 0..<10 {
                let reply = try await login.post("/oidc/introspect", form: ["token": "x"], basic: ("service", "wrong-secret-0123456789"))
                #expect(reply.status == .unauthorized)
                #expect(reply.json["error"] as? String == "invalid_client")
            }
            let limited = try await login.post("/oidc/introspect", form: ["token": "x"])
            #expect(limited.status == .tooManyRequests)
            // The address's count holds another client back too.
            let sameAddress = try await login.post("/oidc/revoke", form: ["token": "x", "client_id": "app"], basic: nil)
            #expect(sameAddress.status == .tooManyRequests)
            clock.advance(by: 301)
            let afterWindow = try await login.post("/oidc/introspect", form: ["token": "x"])
            #expect(afterWindow.status == .ok)
            #expect(afterWindow.json["active"] as? Bool == false)
        }
    }

    @Test("refresh rotates the token; presenting a used one revokes the whole family")
    func refreshReuse() async throws {
        try await withLogin { login, card, _, _ in
            let tokens = try await login.tokens(code: try await login.code(token: card.token, pin: card.pin))
            let first = try #require(tokens.json["refresh_token"] as? String)
            let rotated = try await login.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": first])
            #expect(rotated.status == .ok, "\(rotated.json)")
            let second = try #require(rotated.json["refresh_token"] as? String)
            let access = try #require(rotated.json["access_token"] as? String)
            #expect(second != first)
            let reused = try await login.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": first])
            #expect(reused.json["code"] as? String == "oidc.refresh.reused")
            #expect(try await !login.isActive(access))
            let afterReuse = try await login.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": second])
            #expect(afterReuse.json["error"] as? String == "invalid_grant")
        }
    }

    @Test("an opposed card ends its session: introspection says inactive and refresh fails, at once")
    func opposition() async throws {
        try await withLogin { login, card, api, _ in
            let tokens = try await login.tokens(code: try await login.code(token: card.token, pin: card.pin))
            let access = try #require(tokens.json["access_token"] as? String)
            #expect(try await login.isActive(access))
            try await api.act(card.cardID, "opposition", as: TestActors.holder(SigningHolder.idNat), json: #"{"reason": "carte volée"}"#)
            #expect(try await !login.isActive(access))
            let refresh = try await login.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": try #require(tokens.json["refresh_token"] as? String)])
            #expect(refresh.status == .badRequest)
            #expect(refresh.json["error"] as? String == "invalid_grant")
            // And the card logs in no more (its certificate is revoked at once).
            let challenge = try await login.get(OIDCTestLogin.authorizeQuery())
            let refused = try await login.answer(challenge.json, token: card.token, pin: card.pin)
            #expect(refused.status == .forbidden)
            #expect(refused.json["code"] as? String == "oidc.card.certificate-revoked")
        }
    }

    @Test("a login transaction is sealed, not stored: opening one writes nothing, an altered one is unknown, a wrong answer spends it, and it expires")
    func sealedChallenges() async throws {
        try await withLogin { login, card, _, clock in
            let sql = login.app.db as! any SQLDatabase
            func stored() async throws -> Int {
                try await sql.raw("SELECT count(*) AS n FROM oidc_challenges").first()?.decode(column: "n", as: Int.self) ?? -1
            }
            let before = try await stored()
            let first = try await login.get(OIDCTestLogin.authorizeQuery())
            #expect(first.status == .ok)
            #expect(try await stored() == before)
            // One character changed anywhere in the sealed identifier: unknown.
            var altered = first.json
            let id = try #require(first.json["challengeId"] as? String)
            let flipped = id.last == "A" ? "B" : "A"
            altered["challengeId"] = String(id.dropLast()) + flipped
            let unknown = try await login.answer(altered, token: card.token, pin: card.pin)
            #expect(unknown.json["code"] as? String == "oidc.challenge.unknown", "\(unknown.json)")
            // A wrong answer (the signature certificate instead of the authentication one) spends it.
            let wrong = try await login.answer(first.json, token: card.token, pin: card.pin, certificatePEM: card.token.certificatePEM(.signature))
            #expect(wrong.status == .forbidden, "\(wrong.json)")
            #expect(try await stored() == before + 1)
            let afterWrong = try await login.answer(first.json, token: card.token, pin: card.pin)
            #expect(afterWrong.json["code"] as? String == "oidc.challenge.used", "\(afterWrong.json)")
            // Past its two minutes, a transaction is refused without being spent.
            let late = try await login.get(OIDCTestLogin.authorizeQuery())
            clock.advance(by: 121)
            let expired = try await login.answer(late.json, token: card.token, pin: card.pin)
            #expect(expired.json["code"] as? String == "oidc.challenge.expired", "\(expired.json)")
        }
    }

    @Test("a suspended card and a revoked card never log in; a challenge is answered once")
    func blockedCards() async throws {
        try await withLogin { login, card, api, _ in
            let used = try await login.get(OIDCTestLogin.authorizeQuery())
            #expect(try await login.answer(used.json, token: card.token, pin: card.pin).status == .ok)
            let replay = try await login.answer(used.json, token: card.token, pin: card.pin)
            #expect(replay.json["code"] as? String == "oidc.challenge.used")

            try await api.act(card.cardID, "suspension", as: TestActors.security, json: #"{"reason": "usage suspect"}"#)
            let suspended = try await login.answer(try await login.get(OIDCTestLogin.authorizeQuery()).json, token: card.token, pin: card.pin)
            #expect(suspended.status == .forbidden)
            #expect(suspended.json["code"] as? String == "oidc.card.certificate-on-hold")

            try await api.act(card.cardID, "revocation", as: TestActors.security, json: #"{"reason": "radiation"}"#)
            let revoked = try await login.answer(try await login.get(OIDCTestLogin.authorizeQuery()).json, token: card.token, pin: card.pin)
            #expect(revoked.json["code"] as? String == "oidc.card.certificate-revoked")
        }
    }

    @Test("a certificate from another CA does not log in, nor a signature by another key")
    func otherCA() async throws {
        try await withLogin { login, card, _, _ in
            let stranger = try OIDCStrangerCertificate()
            let challenge = try await login.get(OIDCTestLogin.authorizeQuery())
            let refused = try await login.answer(challenge.json, token: card.token, pin: card.pin, certificatePEM: stranger.pem)
            #expect(refused.status == .forbidden)
            #expect(refused.json["code"] as? String == "oidc.card.untrusted-certificate")

            // The card's own certificate with the signature key's signature: not its authentication key.
            let other = try await login.get(OIDCTestLogin.authorizeQuery())
            let text = try #require(other.json["message"] as? String)
            let message = try #require(Base64URL.decode(text))
            let signature = try card.token.sign(message, with: .signature, pin: card.pin).get()
            var headers = HTTPHeaders()
            headers.contentType = .json
            let body = try JSONSerialization.data(withJSONObject: [
                "challengeId": try #require(other.json["challengeId"] as? String), "signature": Data(signature).base64EncodedString(),
                "certificate": card.token.certificatePEM(.authentication),
            ])
            try await login.app.testing().test(.POST, "/oidc/login/card", headers: headers, body: ByteBuffer(data: body)) { response in
                #expect(response.status == .forbidden)
                #expect(response.body.string.contains("oidc.card.bad-signature"))
            }
        }
    }
}
