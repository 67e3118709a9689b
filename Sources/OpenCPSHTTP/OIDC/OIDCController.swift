import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The OpenID Connect provider's endpoints: discovery, JWKS, authorize with card login,
/// token, userinfo, introspection, revocation and end-session, and the operators' client
/// registry under `/api/v1/oidc/clients`.
///
/// The protocol endpoints answer errors as OAuth 2.0 does (`{"error", "error_description"}`,
/// with OpenCPS's stable `code` beside), since that is what relying services' libraries read;
/// the admin API answers problem+json like the rest of `/api/v1`.
public struct OIDCController: Sendable {
    private let provider: OIDCProvider
    private let tokens: OperatorTokens
    private let ciba: CIBAEndpoint?
    private let json = JSONContent()
    /// The login pages shown to browsers instead of the JSON card login transaction.
    public var browserLogin: ProviderLoginPages?

    /// The SSO session cookie.
    static let cookie = "opencps_sso"

    /// Creates the controller.
    /// - Parameter ciba: e-CPS's CIBA endpoint, which answers the token endpoint's CIBA grant.
    public init(provider: OIDCProvider, tokens: OperatorTokens, ciba: CIBAEndpoint? = nil) {
        self.provider = provider
        self.tokens = tokens
        self.ciba = ciba
    }

    /// Registers the routes: the protocol under `routes`, the client registry under `api`.
    public func register(on routes: any RoutesBuilder, api: any RoutesBuilder) {
        routes.get(".well-known", "openid-configuration") { _ in try jsonResponse(provider.discovery) }
        let oidc = routes.grouped("oidc")
        oidc.get("jwks") { _ in try await oauth { try jsonResponse(try await provider.keys.jwks()) } }
        oidc.get("authorize") { request in try await oauth { try await authorize(request) } }
        oidc.post("login", "card") { request in try await oauth { try await cardLogin(request) } }
        oidc.post("token") { request in try await oauth { try await token(request) } }
        oidc.get("userinfo") { request in try await oauth { try await userinfo(request) } }
        oidc.post("userinfo") { request in try await oauth { try await userinfo(request) } }
        oidc.post("introspect") { request in
            try await oauth {
                let form = try OAuthForm.decode(request)
                let client = try await provider.clients.authenticate(credentials(request, form), address: address(request), allowPublic: false)
                return try jsonResponse(.object(try await provider.tokens.introspect(form.token, client: client)))
            }
        }
        oidc.post("revoke") { request in
            try await oauth {
                let form = try OAuthForm.decode(request)
                let client = try await provider.clients.authenticate(credentials(request, form), address: address(request), allowPublic: true)
                try await provider.tokens.revoke(form.token, client: client)
                return Response(status: .ok)
            }
        }
        oidc.get("logout") { request in try await oauth { try await logout(request) } }

        let admin = api.grouped("oidc", "clients").grouped(OperatorAuthenticationMiddleware(tokens: tokens, role: .security))
        admin.get { _ -> ClientListBody in
            ClientListBody(clients: try await adminCall { try await provider.clients.list().map(ClientBody.init) })
        }
        admin.post { request -> Response in
            let body = try json.decode(ClientRegistrationBody.self, from: request)
            guard let method = OIDCClientAuthMethod(rawValue: body.tokenEndpointAuthMethod ?? "client_secret_basic") else {
                throw Problem(
                    status: .unprocessableEntity, code: "oidc.client.bad-auth-method",
                    detail: "tokenEndpointAuthMethod is one of \(OIDCClientAuthMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let (client, secret) = try await adminCall {
                try await provider.clients.register(
                    .init(id: body.clientId, name: body.name ?? body.clientId, authMethod: method, redirectURIs: body.redirectUris,
                          postLogoutRedirectURIs: body.postLogoutRedirectUris ?? [], scopes: body.scopes ?? OIDCScope.known,
                          userinfoSigned: body.userinfoSigned ?? false, jwks: body.jwks.map { String(decoding: $0.encoded(), as: UTF8.self) }),
                    actor: request.auditActor)
            }
            var reply = ClientBody(client)
            reply.clientSecret = secret
            let response = Response(status: .created)
            try response.content.encode(reply)
            return response
        }
        admin.get(":id") { request -> ClientBody in
            ClientBody(try await adminCall { try await provider.clients.client(request.parameters.get("id") ?? "") })
        }
        admin.delete(":id") { request -> HTTPStatus in
            try await adminCall { try await provider.clients.remove(request.parameters.get("id") ?? "", actor: request.auditActor) }
            return .noContent
        }
    }

    // MARK: Endpoints

    private func authorize(_ request: Request) async throws -> Response {
        let query = try request.query.decode(AuthorizeQuery.self)
        let parameters = OIDCAuthorizeParameters(
            responseType: query.response_type, clientID: query.client_id, redirectURI: query.redirect_uri, scope: query.scope, state: query.state,
            nonce: query.nonce, codeChallenge: query.code_challenge, codeChallengeMethod: query.code_challenge_method, prompt: query.prompt)
        switch try await provider.authorization.authorize(parameters, sessionID: request.cookies[Self.cookie]?.string) {
        case .redirect(let location):
            return request.redirect(to: location, redirectType: .normal)
        case .cardLogin(let challenge):
            if let browserLogin, PortalViews.wantsHTML(request) { return try await browserLogin.page(for: challenge, request: request) }
            let body = LoginChallengeBody(
                challengeId: challenge.id, challenge: challenge.challenge, message: Base64URL.encode(challenge.signedMessage),
                clientId: challenge.request.clientID, loginUrl: "\(provider.settings.issuer)/oidc/login/card", expiresAt: challenge.expiresAt)
            let response = Response(status: .ok)
            try response.content.encode(body, using: JSONEncoder.iso8601)
            return response
        }
    }

    private func cardLogin(_ request: Request) async throws -> Response {
        let body = try json.decode(CardLoginBody.self, from: request)
        guard let signature = Data(base64Encoded: body.signature) ?? Base64URL.decode(body.signature).map({ Data($0) }) else {
            throw OIDCError(.invalidRequest, code: "oidc.card.bad-signature-encoding", reason: "signature is base64")
        }
        let (session, redirect) = try await provider.authorization.completeCardLogin(
            challengeID: body.challengeId, signature: Array(signature), certificate: Array(body.certificate.utf8), address: address(request))
        let response = Response(status: .ok)
        try response.content.encode(CardLoginReplyBody(redirect: redirect))
        response.cookies[Self.cookie] = HTTPCookies.Value(
            string: session.id, maxAge: session.cookieLifetime, path: "/oidc", isSecure: provider.settings.issuer.hasPrefix("https:"),
            isHTTPOnly: true, sameSite: .lax)
        return response
    }

    private func token(_ request: Request) async throws -> Response {
        let form = try OAuthForm.decode(request)
        let client = try await provider.clients.authenticate(credentials(request, form), address: address(request), allowPublic: true)
        if form.grant_type == ECPSCIBA.grantType, let ciba {
            return try await ciba.token(client: client, authRequestID: form.auth_req_id)
        }
        let issued: OIDCTokenResponse
        switch form.grant_type {
        case "authorization_code":
            issued = try await provider.tokens.exchange(
                code: form.code, redirectURI: form.redirect_uri, verifier: form.code_verifier, client: client, address: address(request))
        case "refresh_token":
            issued = try await provider.tokens.refresh(token: form.refresh_token, client: client)
        default:
            throw OIDCError(.unsupportedGrantType, code: "oidc.grant.unsupported", reason: "grant_type is authorization_code or refresh_token")
        }
        let response = try jsonResponse(.object([
            "access_token": .string(issued.accessToken), "token_type": .string("Bearer"), "expires_in": .integer(Int64(issued.expiresIn)),
            "scope": .string(issued.scope), "id_token": issued.idToken.map(JSONValue.string) ?? .null,
            "refresh_token": issued.refreshToken.map(JSONValue.string) ?? .null,
        ]))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    private func userinfo(_ request: Request) async throws -> Response {
        var token = request.headers.bearerAuthorization?.token
        if token == nil, request.method == .POST { token = try? request.content.get(String.self, at: "access_token") }
        let clients = provider.clients
        switch try await provider.tokens.userinfo(accessToken: token, clientOf: { try await clients.client($0) }) {
        case .json(let claims):
            return try jsonResponse(.object(claims))
        case .jwt(let jwt):
            let response = Response(status: .ok, body: .init(string: jwt))
            response.headers.contentType = HTTPMediaType(type: "application", subType: "jwt")
            return response
        }
    }

    private func logout(_ request: Request) async throws -> Response {
        let query = try request.query.decode(LogoutQuery.self)
        let clients = provider.clients
        let redirect = try await provider.tokens.endSession(
            idTokenHint: query.id_token_hint, postLogoutRedirectURI: query.post_logout_redirect_uri, state: query.state,
            sessionID: request.cookies[Self.cookie]?.string, clientOf: { try await clients.client($0) })
        let response: Response
        if let redirect {
            response = request.redirect(to: redirect, redirectType: .normal)
        } else {
            response = try jsonResponse(.object(["loggedOut": .bool(true)]))
        }
        response.cookies[Self.cookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/oidc", isHTTPOnly: true)
        return response
    }

    // MARK: Helpers

    private func credentials(_ request: Request, _ form: TokenForm) -> OIDCClients.Credentials {
        if let basic = request.headers.basicAuthorization {
            // RFC 6749 §2.3.1: both are form-urlencoded before Basic encodes them.
            return .init(
                clientID: basic.username.removingPercentEncoding ?? basic.username, secret: basic.password.removingPercentEncoding ?? basic.password,
                basic: true)
        }
        return .init(
            clientID: form.client_id, secret: form.client_secret, basic: false, assertion: form.client_assertion,
            assertionType: form.client_assertion_type)
    }

    private func address(_ request: Request) -> String {
        request.remoteAddress?.ipAddress ?? "unknown"
    }

    private func jsonResponse(_ value: JSONValue) throws -> Response {
        let response = Response(status: .ok, body: .init(data: Data(value.encoded())))
        response.headers.contentType = .json
        return response
    }

    /// Runs a protocol endpoint, answering its refusals the OAuth way.
    private func oauth(_ work: () async throws -> Response) async throws -> Response {
        do {
            return try await work()
        } catch {
            guard let (status, headers, body) = Self.oauthRefusal(error) else { throw error }
            return Response(status: status, headers: headers, body: .init(data: Data(body)))
        }
    }

    /// The OAuth answer to a refusal of the protocol (`{"error", "error_description", "code"}`,
    /// its status and headers); nil for an error that is not one (a problem document answers it).
    static func oauthRefusal(_ error: any Error) -> (HTTPStatus, HTTPHeaders, [UInt8])? {
        var headers = HTTPHeaders()
        headers.contentType = .json
        if let error = error as? OIDCError {
            if error.kind == .invalidClient { headers.replaceOrAdd(name: .wwwAuthenticate, value: "Basic realm=\"opencps\"") }
            if error.kind == .invalidToken { headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer error=\"invalid_token\"") }
            let body = JSONValue.object([
                "error": .string(error.kind.rawValue), "error_description": .string(error.reason), "code": .string(error.code),
            ])
            return (OIDCProblems.status(error.kind), headers, body.encoded())
        }
        if let error = error as? OIDCRateLimited {
            headers.replaceOrAdd(name: .retryAfter, value: String(error.retryAfter))
            let body = JSONValue.object([
                "error": .string("slow_down"), "error_description": .string(error.reason), "code": .string(error.code),
            ])
            return (.tooManyRequests, headers, body.encoded())
        }
        return nil
    }

    /// Runs an admin call, answering its refusals as problems.
    private func adminCall<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as OIDCError {
            throw Problem(status: error.kind == .notFound ? .notFound : .unprocessableEntity, code: error.code, detail: error.reason)
        }
    }
}

/// HTTP statuses of the protocol's refusals.
enum OIDCProblems {
    static func status(_ kind: OIDCError.Kind) -> HTTPStatus {
        switch kind {
        case .invalidClient, .invalidToken, .loginRequired: .unauthorized
        case .accessDenied: .forbidden
        case .notFound: .notFound
        case .slowDown: .tooManyRequests
        case .serverError: .internalServerError
        default: .badRequest
        }
    }
}

extension JSONEncoder {
    /// Dates as ISO 8601.
    static var iso8601: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension OIDCSession {
    /// The SSO cookie's `Max-Age`: the seconds from the session's last use to its end.
    /// `Max-Age` rather than `Expires`: Vapor formats an `Expires` date with a new
    /// `DateFormatter` for each response, 5 % of a card login's CPU in a profile.
    var cookieLifetime: Int {
        max(0, Int(expiresAt.timeIntervalSince(lastUsedAt).rounded(.down)))
    }
}
