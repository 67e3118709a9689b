import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSPKI

/// Registers relying services and checks who is calling. Secrets are 32 random bytes shown
/// once; only a salted SHA-256 is kept (a slow hash protects guessable passwords, and these
/// are not guessable).
public final class OIDCClients: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let random: RandomBytes
    private let limits: OIDCLimits
    private let settings: OIDCSettings

    /// Creates the registry of clients (``OIDCProvider`` makes one; `opencps client` too).
    public init(database: ServiceDatabase, clock: any WallClock, random: RandomBytes, settings: OIDCSettings) {
        self.database = database
        self.clock = clock
        self.random = random
        self.settings = settings
        self.limits = OIDCLimits(database: database, clock: clock, settings: settings)
    }

    private var repository: OIDCRepository { OIDCRepository(database: database.current, clock: clock) }

    /// What registering a client asks for.
    public struct Registration: Sendable {
        /// The `client_id`.
        public var id: String
        /// A readable name.
        public var name: String
        /// How it authenticates (`none` for a public client).
        public var authMethod: OIDCClientAuthMethod
        /// Its redirect URIs.
        public var redirectURIs: [String]
        /// Its post-logout redirect URIs.
        public var postLogoutRedirectURIs: [String]
        /// Its scopes (`openid` required).
        public var scopes: [String]
        /// Whether userinfo answers it with a signed JWT.
        public var userinfoSigned: Bool
        /// The secret to set (the demo's known one); nil: a random one is made.
        public var secret: String?
        /// The public keys of a `private_key_jwt` client: a JWK Set's JSON text.
        public var jwks: String?

        /// Creates a registration.
        public init(
            id: String, name: String, authMethod: OIDCClientAuthMethod, redirectURIs: [String], postLogoutRedirectURIs: [String] = [],
            scopes: [String] = OIDCScope.known, userinfoSigned: Bool = false, secret: String? = nil, jwks: String? = nil
        ) {
            self.id = id
            self.name = name
            self.authMethod = authMethod
            self.redirectURIs = redirectURIs
            self.postLogoutRedirectURIs = postLogoutRedirectURIs
            self.scopes = scopes
            self.userinfoSigned = userinfoSigned
            self.secret = secret
            self.jwks = jwks
        }
    }

    /// Registers a client.
    /// - Returns: the client and its secret (shown once; nil for a public or `private_key_jwt` client).
    public func register(_ registration: Registration, actor: String) async throws -> (client: OIDCClient, secret: String?) {
        var secret: String?
        var digest: String?
        var salt: String?
        var jwks: String?
        if registration.authMethod == .privateKeyJWT {
            guard let text = registration.jwks else {
                throw OIDCError(.invalidClientMetadata, code: "oidc.client.no-jwks", reason: "a private_key_jwt client registers its public keys (a JWK Set)")
            }
            _ = try OIDCClientAssertion.keys(jwks: text)
            jwks = text
        } else if registration.jwks != nil {
            throw OIDCError(.invalidClientMetadata, code: "oidc.client.unexpected-jwks", reason: "only a private_key_jwt client registers keys")
        }
        if registration.authMethod == .clientSecretBasic || registration.authMethod == .clientSecretPost {
            let value = registration.secret ?? Base64URL.encode(random.bytes(32))
            guard value.count >= 16 else {
                throw OIDCError(.invalidClientMetadata, code: "oidc.client.weak-secret", reason: "a client secret has at least 16 characters")
            }
            let saltValue = Base64URL.encode(random.bytes(16))
            secret = value
            salt = saltValue
            digest = Self.digest(value, salt: saltValue)
        }
        let client = OIDCClient(
            id: registration.id, name: registration.name, authMethod: registration.authMethod, secretDigest: digest, secretSalt: salt, jwks: jwks,
            redirectURIs: registration.redirectURIs, postLogoutRedirectURIs: registration.postLogoutRedirectURIs, scopes: registration.scopes,
            userinfoSigned: registration.userinfoSigned, createdAt: clock.now())
        try client.validate()
        try await database.transaction { _ in
            let repository = self.repository
            try await repository.record([AuditEvent(actor: actor, action: "oidc.client.add", entityType: "oidc-client", entityID: client.id, detail: client.authMethod.rawValue)])
            try await repository.insert(client)
        }
        return (client, secret)
    }

    /// Every client.
    public func list() async throws -> [OIDCClient] {
        try await repository.clients()
    }

    /// One client; `oidc.client.not-found` if there is none.
    public func client(_ id: String) async throws -> OIDCClient {
        guard let client = try await repository.client(id: id) else {
            throw OIDCError(.notFound, code: "oidc.client.not-found", reason: "no client '\(id)' is registered")
        }
        return client
    }

    /// Removes a client; what it holds is revoked.
    public func remove(_ id: String, actor: String) async throws {
        let now = clock.now()
        try await database.transaction { _ in
            let repository = self.repository
            try await repository.record([AuditEvent(actor: actor, action: "oidc.client.remove", entityType: "oidc-client", entityID: id)])
            guard try await repository.removeClient(id: id, at: now) else {
                throw OIDCError(.notFound, code: "oidc.client.not-found", reason: "no client '\(id)' is registered")
            }
        }
    }

    /// How a request presented its client.
    public struct Credentials: Sendable {
        /// The `client_id` (from Basic or the form).
        public var clientID: String?
        /// The secret, if any.
        public var secret: String?
        /// Whether it came in an `Authorization: Basic` header.
        public var basic: Bool
        /// A `client_assertion` (RFC 7523), for a `private_key_jwt` client.
        public var assertion: String?
        /// Its `client_assertion_type`.
        public var assertionType: String?

        /// Creates the credentials.
        public init(clientID: String?, secret: String?, basic: Bool, assertion: String? = nil, assertionType: String? = nil) {
            self.clientID = clientID
            self.secret = secret
            self.basic = basic
            self.assertion = assertion
            self.assertionType = assertionType
        }
    }

    /// The calling client, authenticated by its registered method; failures count against
    /// the client and the address.
    /// - Parameter allowPublic: whether a public client may call without a secret (token endpoint), or not (introspection).
    public func authenticate(_ credentials: Credentials, address: String, allowPublic: Bool) async throws -> OIDCClient {
        guard let id = credentials.clientID ?? credentials.assertion.flatMap(OIDCClientAssertion.claimedClient), !id.isEmpty else {
            throw OIDCError(.invalidClient, code: "oidc.client.missing", reason: "the client is not identified (client_id, or HTTP Basic)")
        }
        let keys = ["client:\(id)", "address:\(address)"]
        let now = clock.now()
        let (found, counted) = try await repository.clientWithFailures(id: id, keys: keys, at: now, window: settings.failureWindow)
        try limits.refuse(keys, counted: counted, at: now)
        guard let client = found else {
            try await limits.fail(keys)
            throw OIDCError(.invalidClient, code: "oidc.client.unknown", reason: "unknown client '\(id)'")
        }
        if credentials.assertion != nil, client.authMethod != .privateKeyJWT {
            throw OIDCError(.invalidClient, code: "oidc.client.wrong-method", reason: "this client authenticates with \(client.authMethod.rawValue)")
        }
        switch client.authMethod {
        case .privateKeyJWT:
            try await checkAssertion(credentials, client: client, failing: keys)
        case .none:
            guard allowPublic else {
                throw OIDCError(.invalidClient, code: "oidc.client.public-refused", reason: "a public client may not call this endpoint")
            }
            guard credentials.secret == nil else {
                throw OIDCError(.invalidClient, code: "oidc.client.unexpected-secret", reason: "a public client has no secret")
            }
        case .clientSecretBasic, .clientSecretPost:
            guard let secret = credentials.secret, let digest = client.secretDigest, let salt = client.secretSalt,
                  Self.constantTimeEqual(Self.digest(secret, salt: salt), digest) else {
                try await limits.fail(keys)
                throw OIDCError(.invalidClient, code: "oidc.client.bad-secret", reason: "the client secret is wrong")
            }
            guard credentials.basic == (client.authMethod == .clientSecretBasic) else {
                throw OIDCError(.invalidClient, code: "oidc.client.wrong-method", reason: "this client authenticates with \(client.authMethod.rawValue)")
            }
        }
        return client
    }

    /// The URLs a client assertion's `aud` may name: the issuer and the endpoints where clients
    /// authenticate (libraries put the token endpoint, or the endpoint they call).
    private var audiences: Set<String> {
        let issuer = settings.issuer
        return [issuer, "\(issuer)/oidc/token", "\(issuer)/oidc/introspect", "\(issuer)/oidc/revoke", "\(issuer)/oidc/bc-authorize"]
    }

    /// Checks a `private_key_jwt` client's assertion, and spends its `jti`.
    private func checkAssertion(_ credentials: Credentials, client: OIDCClient, failing keys: [String]) async throws {
        guard credentials.secret == nil else {
            throw OIDCError(.invalidClient, code: "oidc.client.wrong-method", reason: "this client authenticates with private_key_jwt, not a secret")
        }
        guard let assertion = credentials.assertion, credentials.assertionType == OIDCClientAssertion.type else {
            throw OIDCError(.invalidClient, code: "oidc.client.assertion-missing", reason: "this client authenticates with client_assertion and client_assertion_type \(OIDCClientAssertion.type)")
        }
        let now = clock.now()
        let checked: OIDCClientAssertion.Checked
        do {
            checked = try OIDCClientAssertion.check(
                assertion, clientID: client.id, keys: try OIDCClientAssertion.keys(jwks: client.jwks ?? ""), audiences: audiences, now: now)
        } catch {
            try await limits.fail(keys)
            throw error
        }
        guard try await repository.spendAssertion(clientID: client.id, jti: checked.jti, expiresAt: checked.expiresAt, at: now) else {
            try await limits.fail(keys)
            throw OIDCError(.invalidClient, code: "oidc.client.assertion-replayed", reason: "this client assertion (jti) was already used")
        }
    }

    static func digest(_ secret: String, salt: String) -> String {
        SHA256.hash(data: Data("\(salt):\(secret)".utf8)).hexString
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Counters of failed attempts per client, card and address, in the database so that every
/// node counts alike; past the limit, the caller waits for the window to end (429).
public struct OIDCLimits: Sendable {
    let database: ServiceDatabase
    let clock: any WallClock
    let settings: OIDCSettings

    /// Refuses when any key has reached the limit in its window.
    func check(_ keys: [String]) async throws {
        let now = clock.now()
        let repository = OIDCRepository(database: database.current, clock: clock)
        try refuse(keys, counted: try await repository.failures(keys: keys, at: now, window: settings.failureWindow), at: now)
    }

    /// Refuses when any key has reached the limit in its window, from counts read already.
    func refuse(_ keys: [String], counted: [(count: Int, windowEnds: Date)], at now: Date) throws {
        for (key, (count, ends)) in zip(keys, counted) {
            if count >= settings.maximumFailures {
                throw OIDCRateLimited(
                    reason: "too many failed attempts (\(key.split(separator: ":").first ?? "")); try again later",
                    retryAfter: Int(ends.timeIntervalSince(now).rounded(.up)))
            }
        }
    }

    /// Counts a failure under each key. Callers count outside their own transaction, so that
    /// the count is kept although the request fails.
    func fail(_ keys: [String]) async throws {
        let now = clock.now()
        let (clock, window) = (self.clock, settings.failureWindow)
        try await database.transaction { database in
            let repository = OIDCRepository(database: database, clock: clock)
            try await repository.record([])
            for key in keys { try await repository.recordFailure(key: key, at: now, window: window) }
        }
    }
}
