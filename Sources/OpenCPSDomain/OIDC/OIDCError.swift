/// An OAuth 2.0 / OpenID Connect refusal: the protocol's own `error` value, which clients act
/// on, and OpenCPS's stable code and sentence, which people read.
public struct OIDCError: DomainError, Equatable {
    /// The protocol's error values (RFC 6749 §5.2, RFC 7009, OpenID Connect Core §3.1.2.6).
    public enum Kind: String, Sendable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case unsupportedResponseType = "unsupported_response_type"
        case invalidScope = "invalid_scope"
        case invalidToken = "invalid_token"
        case accessDenied = "access_denied"
        case loginRequired = "login_required"
        case invalidClientMetadata = "invalid_client_metadata"
        case notFound = "not_found"
        case slowDown = "slow_down"
        case serverError = "server_error"
    }

    /// The protocol's error value.
    public var kind: Kind
    /// OpenCPS's stable code (`oidc.code.reused`).
    public var code: String
    /// What is wrong, for a person.
    public var reason: String

    /// Creates a refusal.
    public init(_ kind: Kind, code: String, reason: String) {
        self.kind = kind
        self.code = code
        self.reason = reason
    }
}

/// Too many failed attempts (secrets, codes, challenges) under one key: the caller waits
/// (`429 Too Many Requests` with `Retry-After`).
public struct OIDCRateLimited: DomainError, Equatable {
    /// `oidc.rate-limited`.
    public var code: String { "oidc.rate-limited" }
    /// What was limited and for how long.
    public var reason: String
    /// Seconds to wait.
    public var retryAfter: Int

    /// Creates the refusal.
    public init(reason: String, retryAfter: Int) {
        self.reason = reason
        self.retryAfter = max(1, retryAfter)
    }
}
