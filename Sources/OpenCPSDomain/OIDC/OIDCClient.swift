import Foundation

/// How a relying service proves it is the client it claims to be at the token, introspection
/// and revocation endpoints (OpenID Connect Core §9).
public enum OIDCClientAuthMethod: String, Sendable, Codable, CaseIterable {
    /// The secret in an HTTP Basic `Authorization` header.
    case clientSecretBasic = "client_secret_basic"
    /// The secret in the form body.
    case clientSecretPost = "client_secret_post"
    /// A JWT signed with the client's own private key (RFC 7523 §2.2, OpenID Connect Core §9):
    /// the provider keeps only the public keys (a JWK Set); no secret is shared.
    case privateKeyJWT = "private_key_jwt"
    /// A public client (a native or browser application): no secret, PKCE proves the code's owner.
    case none
}

/// A relying service registered with the provider.
public struct OIDCClient: Sendable, Equatable {
    /// The `client_id`.
    public var id: String
    /// A name people read (consent screens, audit).
    public var name: String
    /// How it authenticates.
    public var authMethod: OIDCClientAuthMethod
    /// The SHA-256 (hex) of the salted secret, for a confidential client; the secret itself is never kept.
    public var secretDigest: String?
    /// The salt of `secretDigest`.
    public var secretSalt: String?
    /// The public keys of a `private_key_jwt` client, as the JWK Set (RFC 7517) it registered.
    public var jwks: String?
    /// The redirect URIs, matched exactly (no prefix, no extra path, no extra query).
    public var redirectURIs: [String]
    /// Where it may ask to be sent after logout (end-session), matched exactly.
    public var postLogoutRedirectURIs: [String]
    /// The scopes it may ask for.
    public var scopes: [String]
    /// Whether userinfo answers it with a signed JWT (`userinfo_signed_response_alg: ES256`) rather than JSON.
    public var userinfoSigned: Bool
    /// When it was registered.
    public var createdAt: Date

    /// Creates a client.
    public init(
        id: String, name: String, authMethod: OIDCClientAuthMethod, secretDigest: String? = nil, secretSalt: String? = nil,
        jwks: String? = nil, redirectURIs: [String], postLogoutRedirectURIs: [String] = [], scopes: [String], userinfoSigned: Bool = false,
        createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.authMethod = authMethod
        self.secretDigest = secretDigest
        self.secretSalt = secretSalt
        self.jwks = jwks
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.scopes = scopes
        self.userinfoSigned = userinfoSigned
        self.createdAt = createdAt
    }

    /// Whether the client is public (no secret; PKCE required, as for every client here).
    public var isPublic: Bool { authMethod == .none }

    /// Refuses a registration that could not work or would be unsafe: no redirect URI, a
    /// redirect URI that is not absolute, carries a fragment, or is plain `http` on a host
    /// other than the loopback; no `openid` scope.
    public func validate() throws(OIDCError) {
        guard !id.isEmpty, id.count <= 100, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw OIDCError(.invalidClientMetadata, code: "oidc.client.invalid-id", reason: "a client_id is 1 to 100 letters, digits, '-', '_' or '.'")
        }
        guard !redirectURIs.isEmpty else {
            throw OIDCError(.invalidClientMetadata, code: "oidc.client.no-redirect-uri", reason: "a client needs at least one redirect URI")
        }
        for uri in redirectURIs + postLogoutRedirectURIs {
            guard let url = URLComponents(string: uri), let scheme = url.scheme, let host = url.host, !host.isEmpty, url.fragment == nil else {
                throw OIDCError(.invalidClientMetadata, code: "oidc.client.bad-redirect-uri", reason: "'\(uri)' is not an absolute URI without fragment")
            }
            let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host)
            guard scheme == "https" || (scheme == "http" && loopback) else {
                throw OIDCError(.invalidClientMetadata, code: "oidc.client.bad-redirect-uri", reason: "'\(uri)' must be https (plain http only on the loopback)")
            }
        }
        guard scopes.contains("openid") else {
            throw OIDCError(.invalidClientMetadata, code: "oidc.client.no-openid-scope", reason: "a client's scopes include openid")
        }
        if let unknown = scopes.first(where: { !OIDCScope.known.contains($0) }) {
            throw OIDCError(.invalidClientMetadata, code: "oidc.client.unknown-scope", reason: "unknown scope '\(unknown)'; known: \(OIDCScope.known.joined(separator: ", "))")
        }
        switch authMethod {
        case .clientSecretBasic, .clientSecretPost:
            if secretDigest == nil {
                throw OIDCError(.invalidClientMetadata, code: "oidc.client.no-secret", reason: "a client authenticating with a secret has one")
            }
        case .privateKeyJWT:
            if jwks == nil {
                throw OIDCError(.invalidClientMetadata, code: "oidc.client.no-jwks", reason: "a private_key_jwt client registers its public keys (a JWK Set)")
            }
        case .none:
            break
        }
    }
}

/// The scopes OpenCPS knows. Pro Santé Connect names `openid` and `scope_all`; OpenCPS adds
/// `profile` (names only) and `offline_access` is not needed: every code grant gets a refresh
/// token whose life is bounded by the SSO session.
public enum OIDCScope {
    /// Required: the ID token and `sub`.
    public static let openid = "openid"
    /// Names: `preferred_username`, `given_name`, `family_name`, `SubjectNameID`.
    public static let profile = "profile"
    /// Everything Pro Santé Connect's userinfo carries: names plus `SubjectRefPro`,
    /// `SubjectOrganization(ID)`, `SubjectRole`, `Secteur_Activite` and the rest.
    public static let all = "scope_all"
    /// Every scope a client may register.
    public static let known = [openid, profile, all]
}
