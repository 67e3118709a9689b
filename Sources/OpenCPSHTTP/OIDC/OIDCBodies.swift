import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

// The protocol's own parameter names (snake_case) are kept as the specifications spell them.

/// The authorization request's query.
struct AuthorizeQuery: Content {
    var response_type: String?
    var client_id: String?
    var redirect_uri: String?
    var scope: String?
    var state: String?
    var nonce: String?
    var code_challenge: String?
    var code_challenge_method: String?
    var prompt: String?
}

/// The form of the token, introspection and revocation endpoints.
struct TokenForm: Content {
    var grant_type: String?
    var code: String?
    var redirect_uri: String?
    var code_verifier: String?
    var refresh_token: String?
    var client_id: String?
    var client_secret: String?
    /// A `private_key_jwt` client's assertion (RFC 7523) and its type.
    var client_assertion: String?
    var client_assertion_type: String?
    var token: String?
    var token_type_hint: String?
    /// CIBA's request, with the grant `urn:openid:params:grant-type:ciba`.
    var auth_req_id: String?
}

/// The end-session request's query.
struct LogoutQuery: Content {
    var id_token_hint: String?
    var post_logout_redirect_uri: String?
    var state: String?
}

/// A card login transaction: what to sign and where to post it.
struct LoginChallengeBody: Content {
    var challengeId: String
    var challenge: String
    /// The exact bytes to sign, base64url.
    var message: String
    var clientId: String
    var loginUrl: String
    var expiresAt: Date
}

/// The answer to a challenge: the card's signature and authentication certificate.
struct CardLoginBody: Content {
    var challengeId: String
    /// The signature of the challenge's message, base64 (or base64url).
    var signature: String
    /// The card's authentication certificate, PEM.
    var certificate: String
}

/// Where to go once logged in.
struct CardLoginReplyBody: Content {
    var redirect: String
}

/// A client registration through the admin API.
struct ClientRegistrationBody: Content {
    var clientId: String
    var name: String?
    var tokenEndpointAuthMethod: String?
    var redirectUris: [String]
    var postLogoutRedirectUris: [String]?
    var scopes: [String]?
    var userinfoSigned: Bool?
    /// The public keys of a `private_key_jwt` client (a JWK Set).
    var jwks: JSONValue?
}

/// A client as operators read it (never its secret, except once at registration).
struct ClientBody: Content {
    var clientId: String
    var name: String
    var tokenEndpointAuthMethod: String
    var redirectUris: [String]
    var postLogoutRedirectUris: [String]
    var scopes: [String]
    var userinfoSigned: Bool
    var createdAt: Date
    var clientSecret: String?
    /// The registered JWK Set of a `private_key_jwt` client.
    var jwks: JSONValue?

    init(_ client: OIDCClient) {
        clientId = client.id
        name = client.name
        tokenEndpointAuthMethod = client.authMethod.rawValue
        redirectUris = client.redirectURIs
        postLogoutRedirectUris = client.postLogoutRedirectURIs
        scopes = client.scopes
        userinfoSigned = client.userinfoSigned
        createdAt = client.createdAt
        jwks = client.jwks.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }
}

/// The registered clients.
struct ClientListBody: Content {
    var clients: [ClientBody]
}
