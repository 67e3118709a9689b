import Foundation
import OpenCPSDomain
import OpenCPSPKI

/// The OpenID Connect provider's services, built once by the composition root: client
/// registration, the authorization endpoint with card login, the token issuer (which CIBA
/// also uses), the token endpoint's grants and checks, and the signing keys.
public struct OIDCProvider: Sendable {
    /// The settings.
    public let settings: OIDCSettings
    /// Client registration and authentication.
    public let clients: OIDCClients
    /// The signing keys and JWKS.
    public let keys: OIDCKeys
    /// Sessions and token issuance.
    public let issuer: OIDCTokenIssuer
    /// The authorization endpoint and card login.
    public let authorization: OIDCAuthorization
    /// Grants, introspection, revocation, userinfo, end-session.
    public let tokens: OIDCTokens
    /// The card checks (challenge and mutual TLS logins).
    public let cardCheck: OIDCCardCheck

    /// Builds the provider.
    /// - Parameters:
    ///   - pki: the PKI whose CAs and statuses decide card logins.
    ///   - database: where the provider's state lives.
    ///   - clock: the clock (tests move it).
    ///   - random: codes, tokens, secrets and challenges.
    ///   - settings: lifetimes and limits.
    public init(pki: PKIService, database: ServiceDatabase, clock: any WallClock, random: RandomBytes, settings: OIDCSettings) {
        self.settings = settings
        let limits = OIDCLimits(database: database, clock: clock, settings: settings)
        let keys = OIDCKeys(database: database, clock: clock, settings: settings)
        let claims = OIDCClaims(database: database, clock: clock)
        let clients = OIDCClients(database: database, clock: clock, random: random, settings: settings)
        let issuer = OIDCTokenIssuer(database: database, clock: clock, random: random, settings: settings, keys: keys, claims: claims)
        let cardCheck = OIDCCardCheck(pki: pki, database: database, clock: clock, limits: limits)
        self.keys = keys
        self.clients = clients
        self.issuer = issuer
        self.cardCheck = cardCheck
        authorization = OIDCAuthorization(
            database: database, clock: clock, settings: settings, clients: clients, issuer: issuer, keys: keys, cardCheck: cardCheck, limits: limits)
        tokens = OIDCTokens(database: database, clock: clock, settings: settings, keys: keys, claims: claims, issuer: issuer, limits: limits)
    }

    /// The discovery document (OpenID Connect Discovery 1.0 §3).
    public var discovery: JSONValue {
        let base = settings.issuer
        func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        return .object([
            "issuer": .string(base),
            "authorization_endpoint": .string("\(base)/oidc/authorize"),
            "token_endpoint": .string("\(base)/oidc/token"),
            "userinfo_endpoint": .string("\(base)/oidc/userinfo"),
            "jwks_uri": .string("\(base)/oidc/jwks"),
            "introspection_endpoint": .string("\(base)/oidc/introspect"),
            "revocation_endpoint": .string("\(base)/oidc/revoke"),
            "end_session_endpoint": .string("\(base)/oidc/logout"),
            "response_types_supported": strings(["code"]),
            "response_modes_supported": strings(["query"]),
            "grant_types_supported": strings(["authorization_code", "refresh_token", ECPSCIBA.grantType]),
            "backchannel_authentication_endpoint": .string("\(base)/oidc/bc-authorize"),
            "backchannel_token_delivery_modes_supported": strings(["poll"]),
            "backchannel_user_code_parameter_supported": .bool(false),
            "subject_types_supported": strings(["public"]),
            "id_token_signing_alg_values_supported": strings(["ES256"]),
            "userinfo_signing_alg_values_supported": strings(["ES256"]),
            "token_endpoint_auth_methods_supported": strings(OIDCClientAuthMethod.allCases.map(\.rawValue)),
            "token_endpoint_auth_signing_alg_values_supported": strings(OIDCClientAssertion.algorithms),
            "introspection_endpoint_auth_methods_supported": strings(["client_secret_basic", "client_secret_post", "private_key_jwt"]),
            "revocation_endpoint_auth_methods_supported": strings(OIDCClientAuthMethod.allCases.map(\.rawValue)),
            "code_challenge_methods_supported": strings(["S256"]),
            "scopes_supported": strings(OIDCScope.known),
            "claims_supported": strings([
                "sub", "preferred_username", "given_name", "family_name", "SubjectNameID", "SubjectRefPro", "SubjectOrganization",
                "SubjectOrganizationID", "SubjectRole", "Secteur_Activite", "codeCivilite", "otherIds", "acr", "amr", "auth_time", "nonce", "sid",
            ]),
            "acr_values_supported": strings(["eidas1"]),
            "authorization_response_iss_parameter_supported": .bool(true),
        ])
    }
}
