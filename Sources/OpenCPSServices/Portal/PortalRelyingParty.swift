import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPKI

/// Why the portal refuses a login's return from the provider.
public struct PortalLoginError: Error, Sendable, Equatable {
    /// OpenCPS's stable code, such as `portal.login.state-mismatch`.
    public var code: String
    /// The reason, in English, for the log; the page says it in French.
    public var reason: String

    /// Creates a refusal.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// The portal as a relying party of OpenCPS's own OpenID Connect provider: a confidential
/// client (secret), with PKCE S256, `state` and `nonce`, and the ID token's signature checked
/// against the provider's JWKS, as any health service would. It runs in the same process, so
/// it calls the provider's services instead of going through HTTP; the checks are the same.
///
/// Between the redirect and the callback nothing is stored on the server: the browser keeps
/// a random login key in an `HttpOnly` cookie, and `state`, `nonce` and the PKCE verifier
/// are derived from it (so a callback from another browser fails the `state` check).
public struct PortalRelyingParty: Sendable {
    /// The portal's `client_id`.
    public static let clientID = "opencps-portal"
    /// The scopes asked for: the idNat comes with `profile`.
    public static let scope = "openid profile"

    private let provider: OIDCProvider
    private let secret: String
    private let random: RandomBytes
    private let clock: any WallClock

    /// Creates the relying party.
    /// - Parameter secret: the client's secret, as registered.
    public init(provider: OIDCProvider, secret: String, random: RandomBytes, clock: any WallClock) {
        self.provider = provider
        self.secret = secret
        self.random = random
        self.clock = clock
    }

    /// The callback URI registered for the portal.
    public var redirectURI: String { "\(provider.settings.issuer)/portail/callback" }

    /// Registers the portal's client unless it is there with this secret; a client left with
    /// another secret (the secret file was replaced) is registered again.
    public func register() async throws {
        if (try? await provider.clients.client(Self.clientID)) != nil {
            let check = try? await provider.clients.authenticate(.init(clientID: Self.clientID, secret: secret, basic: true), address: "local", allowPublic: false)
            if check != nil { return }
            try await provider.clients.remove(Self.clientID, actor: "system:portal")
        }
        do {
            _ = try await provider.clients.register(
                .init(id: Self.clientID, name: "Portail OpenCPS", authMethod: .clientSecretBasic, redirectURIs: [redirectURI],
                      postLogoutRedirectURIs: ["\(provider.settings.issuer)/"], scopes: [OIDCScope.openid, "profile"], secret: secret),
                actor: "system:portal")
        } catch let error as OIDCError where error.code == "oidc.client.exists" {
            // Another login (or node) registered it at the same moment, with the same secret file.
        }
    }

    /// A new login key, for the browser's login cookie.
    public func newLoginKey() -> String { Base64URL.encode(random.bytes(32)) }

    /// The authorization request's URL (relative to the issuer) for a login key.
    public func authorizationURL(loginKey: String) -> String {
        var components = URLComponents()
        components.path = "/oidc/authorize"
        components.queryItems = [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: Self.clientID),
            URLQueryItem(name: "redirect_uri", value: redirectURI), URLQueryItem(name: "scope", value: Self.scope),
            URLQueryItem(name: "state", value: Self.derive("state", loginKey)), URLQueryItem(name: "nonce", value: Self.derive("nonce", loginKey)),
            URLQueryItem(name: "code_challenge", value: Base64URL.encode(SHA256.hash(data: Data(Self.derive("verifier", loginKey).utf8)))),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        // `+` is legal in a query but read as a space by form decoders: escape it.
        return (components.string ?? "/oidc/authorize").replacingOccurrences(of: "+", with: "%2B")
    }

    /// The provider's end-session URL for an ID token (back to the portal's home afterwards).
    public func endSessionURL(idToken: String) -> String {
        var components = URLComponents()
        components.path = "/oidc/logout"
        components.queryItems = [URLQueryItem(name: "id_token_hint", value: idToken), URLQueryItem(name: "post_logout_redirect_uri", value: "\(provider.settings.issuer)/")]
        return components.string ?? "/"
    }

    /// Completes a login: checks `state` and `iss`, redeems the code with the client's secret
    /// and the PKCE verifier, and checks the ID token (ES256 signature by a key of the JWKS,
    /// issuer, audience, expiry, nonce).
    /// - Returns: the professional's idNat and the ID token.
    /// - Throws: ``PortalLoginError``; the provider's `OIDCError` for a refused code.
    public func finish(code: String?, state: String?, issuer: String?, loginKey: String?, address: String) async throws -> (idNat: IdNat, idToken: String) {
        guard let loginKey, !loginKey.isEmpty else {
            throw PortalLoginError(code: "portal.login.no-login-cookie", reason: "the browser has no login in progress")
        }
        guard let state, Self.constantTimeEqual(state, Self.derive("state", loginKey)) else {
            throw PortalLoginError(code: "portal.login.state-mismatch", reason: "state does not match the login in progress")
        }
        if let issuer, issuer != provider.settings.issuer {
            throw PortalLoginError(code: "portal.login.issuer-mismatch", reason: "iss is not the provider's issuer")
        }
        let client = try await provider.clients.authenticate(.init(clientID: Self.clientID, secret: secret, basic: true), address: address, allowPublic: false)
        let tokens = try await provider.tokens.exchange(
            code: code, redirectURI: redirectURI, verifier: Self.derive("verifier", loginKey), client: client, address: address)
        guard let idToken = tokens.idToken else { throw PortalLoginError(code: "portal.login.no-id-token", reason: "no ID token was issued") }
        let claims = try await verify(idToken)
        guard claims["iss"]?.string == provider.settings.issuer else {
            throw PortalLoginError(code: "portal.login.bad-iss", reason: "the ID token's issuer is not the provider")
        }
        let audience: [String] = switch claims["aud"] {
        case .string(let value): [value]
        case .array(let values): values.compactMap(\.string)
        default: []
        }
        guard audience.contains(Self.clientID) else { throw PortalLoginError(code: "portal.login.bad-aud", reason: "the ID token is not for the portal") }
        guard let expiry = claims["exp"]?.integer, Double(expiry) > clock.now().timeIntervalSince1970 else {
            throw PortalLoginError(code: "portal.login.expired", reason: "the ID token has expired")
        }
        guard let nonce = claims["nonce"]?.string, Self.constantTimeEqual(nonce, Self.derive("nonce", loginKey)) else {
            throw PortalLoginError(code: "portal.login.nonce-mismatch", reason: "the ID token's nonce is not the login's")
        }
        guard let text = claims["SubjectNameID"]?.string ?? claims["preferred_username"]?.string, let idNat = try? IdNat(text) else {
            throw PortalLoginError(code: "portal.login.no-idnat", reason: "the ID token names no idNat")
        }
        return (idNat, idToken)
    }

    /// The claims of a compact JWS once its ES256 signature verifies with a key of the JWKS.
    func verify(_ jws: String) async throws -> [String: JSONValue] {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signatureBytes = Base64URL.decode(parts[2]),
              case .object(let header)? = try? JSONDecoder().decode(JSONValue.self, from: Data(headerBytes)),
              case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: Data(payloadBytes))
        else { throw PortalLoginError(code: "portal.login.bad-id-token", reason: "the ID token is not a compact JWS") }
        guard header["alg"]?.string == "ES256", let kid = header["kid"]?.string else {
            throw PortalLoginError(code: "portal.login.bad-alg", reason: "the ID token is not ES256 with a kid")
        }
        guard case .object(let set) = try await provider.keys.jwks(), case .array(let keys)? = set["keys"],
              case .object(let jwk)? = keys.first(where: { if case .object(let key) = $0 { key["kid"]?.string == kid } else { false } }),
              let x = jwk["x"]?.string.flatMap({ Base64URL.decode($0) }), let y = jwk["y"]?.string.flatMap({ Base64URL.decode($0) }),
              let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
        else { throw PortalLoginError(code: "portal.login.unknown-key", reason: "the ID token's key is not in the JWKS") }
        let signedPart = Data("\(parts[0]).\(parts[1])".utf8)
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes), key.isValidSignature(signature, for: signedPart) else {
            throw PortalLoginError(code: "portal.login.bad-signature", reason: "the ID token's signature does not verify")
        }
        return claims
    }

    /// `state`, `nonce` or the PKCE verifier of a login key.
    static func derive(_ purpose: String, _ loginKey: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data("opencps-portal \(purpose) \(loginKey)".utf8)))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
