import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// CIBA's HTTP side (poll mode): `POST /oidc/bc-authorize`, and the CIBA grant the token
/// endpoint hands over. Clients authenticate as at the token endpoint; refusals are answered
/// OAuth's way (`{"error", "error_description", "code"}`, 400, or 401 for the client).
public struct CIBAEndpoint: Sendable {
    private let ciba: ECPSCIBA
    private let clients: OIDCClients

    /// The form of `bc-authorize`.
    struct AuthorizeForm {
        var client_id: String?
        var client_secret: String?
        var client_assertion: String?
        var client_assertion_type: String?
        var login_hint: String?
        var binding_message: String?
        var scope: String?

        /// The form from its parameters, by name.
        init(fields: [String: String]) {
            client_id = fields["client_id"]
            client_secret = fields["client_secret"]
            client_assertion = fields["client_assertion"]
            client_assertion_type = fields["client_assertion_type"]
            login_hint = fields["login_hint"]
            binding_message = fields["binding_message"]
            scope = fields["scope"]
        }
    }

    /// Creates the endpoint.
    public init(ciba: ECPSCIBA, clients: OIDCClients) {
        self.ciba = ciba
        self.clients = clients
    }

    /// Registers `POST /oidc/bc-authorize` under `routes`.
    public func register(on routes: any RoutesBuilder) {
        routes.grouped("oidc").post("bc-authorize") { request -> Response in
            try await Self.answering {
                let form = AuthorizeForm(fields: try OAuthForm.fields(of: request))
                let client = try await clients.authenticate(
                    Self.credentials(
                        request, clientID: form.client_id, secret: form.client_secret, assertion: form.client_assertion,
                        assertionType: form.client_assertion_type),
                    address: Self.address(request), allowPublic: false)
                let started = try await ciba.start(client: client, loginHint: form.login_hint, bindingMessage: form.binding_message, scope: form.scope)
                return try Self.json(.object([
                    "auth_req_id": .string(started.id), "expires_in": .integer(Int64(started.expiresIn)), "interval": .integer(Int64(started.interval)),
                ]))
            }
        }
    }

    /// The token endpoint's answer to the CIBA grant, for an authenticated client.
    public func token(client: OIDCClient, authRequestID: String?) async throws -> Response {
        try await Self.answering {
            let issued = try await ciba.poll(client: client, authRequestID: authRequestID)
            let response = try Self.json(.object([
                "access_token": .string(issued.accessToken), "token_type": .string("Bearer"), "expires_in": .integer(Int64(issued.expiresIn)),
                "scope": .string(issued.scope), "id_token": issued.idToken.map(JSONValue.string) ?? .null,
                "refresh_token": issued.refreshToken.map(JSONValue.string) ?? .null,
            ]))
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            return response
        }
    }

    /// Runs `work`, answering CIBA's refusals with 400 and their OAuth error (the provider's
    /// own refusals, such as a bad client secret, go through its `oauth` answer as before).
    private static func answering(_ work: () async throws -> Response) async throws -> Response {
        do {
            return try await work()
        } catch let refusal as ECPSCIBA.Refusal {
            let response = try json(.object([
                "error": .string(refusal.error), "error_description": .string(refusal.description), "code": .string(refusal.code),
            ]))
            response.status = .badRequest
            return response
        } catch let error as OIDCError {
            let response = try json(.object([
                "error": .string(error.kind.rawValue), "error_description": .string(error.reason), "code": .string(error.code),
            ]))
            response.status = error.kind == .invalidClient ? .unauthorized : .badRequest
            if error.kind == .invalidClient { response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Basic realm=\"opencps\"") }
            return response
        } catch let error as OIDCRateLimited {
            let response = try json(.object(["error": .string("slow_down"), "error_description": .string(error.reason), "code": .string(error.code)]))
            response.status = .tooManyRequests
            response.headers.replaceOrAdd(name: .retryAfter, value: String(error.retryAfter))
            return response
        }
    }

    private static func credentials(
        _ request: Request, clientID: String?, secret: String?, assertion: String?, assertionType: String?
    ) -> OIDCClients.Credentials {
        if let basic = request.headers.basicAuthorization {
            return .init(
                clientID: basic.username.removingPercentEncoding ?? basic.username, secret: basic.password.removingPercentEncoding ?? basic.password,
                basic: true)
        }
        return .init(clientID: clientID, secret: secret, basic: false, assertion: assertion, assertionType: assertionType)
    }

    private static func address(_ request: Request) -> String {
        request.remoteAddress?.ipAddress ?? "unknown"
    }

    private static func json(_ value: JSONValue) throws -> Response {
        let response = Response(status: .ok, body: .init(data: Data(value.encoded())))
        response.headers.contentType = .json
        return response
    }
}
