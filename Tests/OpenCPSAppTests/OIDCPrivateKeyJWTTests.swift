import ArgumentParser
import Crypto
import Foundation
import NIOCore
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// `private_key_jwt` clients (RFC 7523) through the HTTP layer, on both engines: registration
/// with a JWK Set, a code redeemed with an assertion, and every refusal (replayed `jti`, another
/// key, another audience, an expired assertion, a secret instead). authlib drives the same flow
/// against the running server in OIDCAuthlibTests.
@Suite("OpenID Connect: private_key_jwt clients")
struct OIDCPrivateKeyJWTTests {
    static let clientID = "keyed-service"

    /// The client's key and the JWK Set it registers.
    struct ClientKey {
        let key = P256.Signing.PrivateKey()

        var jwks: String {
            let raw = Array(key.publicKey.rawRepresentation)
            return #"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "x": "\#(Base64URL.encode(raw[0..<32]))", "y": "\#(Base64URL.encode(raw[32..<64]))"}]}"#
        }

        /// An ES256 assertion, as a client library makes one.
        /// - Parameter now: the server's clock (the tests' clock is fixed at their start).
        func assertion(now: Date, audience: String = "http://opencps.test/oidc/token", jti: String = UUID().uuidString, lifetime: TimeInterval = 60) throws -> String {
            let expires = now.addingTimeInterval(lifetime)
            let header = JSONValue.object(["alg": .string("ES256"), "kid": .string("k1"), "typ": .string("JWT")])
            let claims = JSONValue.object([
                "iss": .string(OIDCPrivateKeyJWTTests.clientID), "sub": .string(OIDCPrivateKeyJWTTests.clientID), "aud": .string(audience),
                "jti": .string(jti), "exp": .integer(Int64(expires.timeIntervalSince1970)), "iat": .integer(Int64(now.timeIntervalSince1970)),
            ])
            let input = Base64URL.encode(header.encoded()) + "." + Base64URL.encode(claims.encoded())
            return input + "." + Base64URL.encode(try key.signature(for: Data(input.utf8)).rawRepresentation)
        }
    }

    private func assertionForm(_ assertion: String, _ extra: [String: String]) -> [String: String] {
        extra.merging(["client_assertion_type": OIDCClientAssertion.type, "client_assertion": assertion]) { a, _ in a }
    }

    @Test("a client registered with its JWK Set redeems a code with an assertion; a replayed jti, another key, another audience, an expired assertion and a secret are refused")
    func assertions() async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(
            clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [SigningHolder.idNat])
        ) { app, configuration in
            let card = try await SigningHolder(CardAPI(app: app, configuration: configuration))
            let login = OIDCTestLogin(app: app)
            let key = ClientKey()
            let registration = """
                {"clientId": "\(Self.clientID)", "tokenEndpointAuthMethod": "private_key_jwt", "redirectUris": ["\(OIDCTestLogin.redirectURI)"], "jwks": \(key.jwks)}
                """
            try await app.testing().test(.POST, "/api/v1/oidc/clients", headers: .operatorHeaders, body: jsonBody(registration)) { response in
                #expect(response.status == .created, "\(response.body.string)")
                let body = try jsonObject(response)
                #expect(body["clientSecret"] == nil)
                #expect(body["tokenEndpointAuthMethod"] as? String == "private_key_jwt")
                #expect((body["jwks"] as? [String: Any])?["keys"] is [Any])
            }
            let withPrivate = #"{"clientId": "leaky", "tokenEndpointAuthMethod": "private_key_jwt", "redirectUris": ["https://leaky.test/cb"], "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}]}}"#
            try await app.testing().test(.POST, "/api/v1/oidc/clients", headers: .operatorHeaders, body: jsonBody(withPrivate)) { response in
                #expect(response.status == .unprocessableEntity)
                #expect(response.body.string.contains("oidc.client.bad-jwks"))
            }

            let code = try await login.code(token: card.token, pin: card.pin, query: OIDCTestLogin.authorizeQuery(client: Self.clientID, scope: "openid profile"))
            let redeem = ["grant_type": "authorization_code", "code": code, "redirect_uri": OIDCTestLogin.redirectURI, "code_verifier": OIDCTestLogin.verifier]
            let assertion = try key.assertion(now: clock.now())
            let tokens = try await login.post("/oidc/token", form: assertionForm(assertion, redeem), basic: nil)
            #expect(tokens.status == .ok, "\(tokens.json)")
            let access = try #require(tokens.json["access_token"] as? String)

            let introspect = ["token": access, "client_id": Self.clientID]
            let replayed = try await login.post("/oidc/introspect", form: assertionForm(assertion, introspect), basic: nil)
            #expect(replayed.status == .unauthorized)
            #expect(replayed.json["code"] as? String == "oidc.client.assertion-replayed")

            let active = try await login.post("/oidc/introspect", form: assertionForm(try key.assertion(now: clock.now(), audience: "http://opencps.test/oidc/introspect"), introspect), basic: nil)
            #expect(active.status == .ok, "\(active.json)")
            #expect(active.json["active"] as? Bool == true)

            let forged = try await login.post("/oidc/introspect", form: assertionForm(try ClientKey().assertion(now: clock.now()), introspect), basic: nil)
            #expect(forged.json["code"] as? String == "oidc.client.assertion-bad-signature")
            let elsewhere = try await login.post("/oidc/introspect", form: assertionForm(try key.assertion(now: clock.now(), audience: "https://other.test/token"), introspect), basic: nil)
            #expect(elsewhere.json["code"] as? String == "oidc.client.assertion-bad-audience")
            let expired = try await login.post("/oidc/introspect", form: assertionForm(try key.assertion(now: clock.now(), lifetime: -120), introspect), basic: nil)
            #expect(expired.json["code"] as? String == "oidc.client.assertion-expired")
            let secret = try await login.post("/oidc/introspect", form: introspect.merging(["client_secret": "a-secret-0123456789"]) { a, _ in a }, basic: nil)
            #expect(secret.status == .unauthorized)
            #expect(secret.json["code"] as? String == "oidc.client.wrong-method")
        }
    }

    @Test("opencps client add --jwks registers a private_key_jwt client; a JWK Set with a private key is refused (exit 2)")
    func commandLine() async throws {
        let folder = try ExternalTool.temporaryFolder("oidc-jwks")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data").path
        let good = folder.appendingPathComponent("jwks.json")
        try ClientKey().jwks.write(to: good, atomically: true, encoding: .utf8)
        let bad = folder.appendingPathComponent("private.json")
        try #"{"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}]}"#.write(to: bad, atomically: true, encoding: .utf8)
        try await OpenCPSCommand.run(["migrate", "--data", data, "--log-level", "error"])
        try await OpenCPSCommand.run(["client", "add", "keyed", "--jwks", good.path, "--redirect-uri", "https://keyed.test/cb", "--data", data])
        await #expect(throws: ExitCode(2)) {
            try await OpenCPSCommand.run(["client", "add", "leaky", "--jwks", bad.path, "--redirect-uri", "https://leaky.test/cb", "--data", data])
        }
    }
}
