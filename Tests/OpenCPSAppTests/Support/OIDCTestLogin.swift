import Foundation
import NIOCore
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import OpenCPSTokens
import Testing
import Vapor
import VaporTesting

/// Drives the OpenID Connect provider of a test application through its HTTP layer: the
/// authorization request, the card's signature of the challenge, the code and the tokens.
struct OIDCTestLogin {
    static let redirectURI = "https://service.test/callback"
    static let secret = "test-client-secret-0123456789"
    static let verifier = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"

    let app: Application

    /// Registers a confidential client (`client_secret_basic`) and a public one.
    func registerClients() async throws {
        let clients = try #require(app.oidcProvider).clients
        _ = try await clients.register(
            .init(id: "service", name: "Service", authMethod: .clientSecretBasic, redirectURIs: [Self.redirectURI],
                  postLogoutRedirectURIs: ["https://service.test/bye"], secret: Self.secret), actor: "test")
        _ = try await clients.register(.init(id: "app", name: "App", authMethod: .none, redirectURIs: [Self.redirectURI]), actor: "test")
    }

    /// The authorization URL's query for a client.
    static func authorizeQuery(
        client: String = "service", redirectURI: String = redirectURI, scope: String = "openid profile scope_all",
        challenge: String? = PKCE.s256(verifier), method: String? = "S256", nonce: String = "n-0S6_WzA2Mj"
    ) -> String {
        var items = [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: client),
            URLQueryItem(name: "redirect_uri", value: redirectURI), URLQueryItem(name: "scope", value: scope),
            URLQueryItem(name: "state", value: "af0ifjsldkj"), URLQueryItem(name: "nonce", value: nonce),
        ]
        if let challenge { items.append(URLQueryItem(name: "code_challenge", value: challenge)) }
        if let method { items.append(URLQueryItem(name: "code_challenge_method", value: method)) }
        var components = URLComponents()
        components.queryItems = items
        return "/oidc/authorize?" + (components.percentEncodedQuery ?? "")
    }

    /// GETs a path; returns the status and the JSON body.
    func get(_ path: String, headers: HTTPHeaders = [:]) async throws -> (status: HTTPStatus, json: [String: Any], headers: HTTPHeaders) {
        var result: (HTTPStatus, [String: Any], HTTPHeaders) = (.ok, [:], [:])
        try await app.testing().test(.GET, path, headers: headers) { response in
            result = (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:], response.headers)
        }
        return result
    }

    /// POSTs a form, with the confidential client's Basic credentials unless told otherwise.
    func post(_ path: String, form: [String: String], basic: (String, String)? = ("service", secret)) async throws -> (status: HTTPStatus, json: [String: Any]) {
        var headers = HTTPHeaders()
        headers.contentType = .urlEncodedForm
        if let basic { headers.basicAuthorization = BasicAuthorization(username: basic.0, password: basic.1) }
        var components = URLComponents()
        components.queryItems = form.map { URLQueryItem(name: $0.key, value: $0.value) }
        let body = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        var result: (HTTPStatus, [String: Any]) = (.ok, [:])
        try await app.testing().test(.POST, path, headers: headers, body: ByteBuffer(string: body)) { response in
            result = (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
        }
        return result
    }

    /// Answers a card login challenge with a token's authentication key, or with another signer.
    func answer(
        _ challenge: [String: Any], token: any CardToken, pin: String, certificatePEM: String? = nil
    ) async throws -> (status: HTTPStatus, json: [String: Any]) {
        let text = try #require(challenge["message"] as? String)
        let message = try #require(Base64URL.decode(text))
        let signature = try token.sign(message, with: .authentication, pin: pin).get()
        let body = try JSONSerialization.data(withJSONObject: [
            "challengeId": try #require(challenge["challengeId"] as? String), "signature": Data(signature).base64EncodedString(),
            "certificate": certificatePEM ?? token.certificatePEM(.authentication),
        ])
        var headers = HTTPHeaders()
        headers.contentType = .json
        var result: (HTTPStatus, [String: Any]) = (.ok, [:])
        try await app.testing().test(.POST, "/oidc/login/card", headers: headers, body: ByteBuffer(data: body)) { response in
            result = (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
        }
        return result
    }

    /// Logs in with the card and returns the code from the redirect.
    func code(token: any CardToken, pin: String, query: String = authorizeQuery()) async throws -> String {
        let challenge = try await get(query)
        #expect(challenge.status == .ok, "\(challenge.json)")
        let login = try await answer(challenge.json, token: token, pin: pin)
        #expect(login.status == .ok, "\(login.json)")
        let location = try #require(login.json["redirect"] as? String)
        let redirect = try #require(URLComponents(string: location))
        #expect(redirect.queryItems?.first { $0.name == "state" }?.value == "af0ifjsldkj")
        return try #require(redirect.queryItems?.first { $0.name == "code" }?.value)
    }

    /// Redeems a code at the token endpoint.
    func tokens(code: String, verifier: String = verifier) async throws -> (status: HTTPStatus, json: [String: Any]) {
        try await post("/oidc/token", form: ["grant_type": "authorization_code", "code": code, "redirect_uri": Self.redirectURI, "code_verifier": verifier])
    }

    /// Whether introspection says the token is active.
    func isActive(_ token: String) async throws -> Bool {
        let reply = try await post("/oidc/introspect", form: ["token": token])
        #expect(reply.status == .ok, "\(reply.json)")
        return reply.json["active"] as? Bool == true
    }
}
