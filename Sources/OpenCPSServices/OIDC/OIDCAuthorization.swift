import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSPKI

/// The parameters of an authorization request (OpenID Connect Core §3.1.2.1).
public struct OIDCAuthorizeParameters: Sendable {
    /// Must be `code`.
    public var responseType: String?
    /// The client.
    public var clientID: String?
    /// One of the client's redirect URIs, exactly.
    public var redirectURI: String?
    /// Space-separated scopes, `openid` among them.
    public var scope: String?
    /// Returned untouched.
    public var state: String?
    /// Put into the ID token.
    public var nonce: String?
    /// PKCE challenge.
    public var codeChallenge: String?
    /// PKCE method: `S256` only.
    public var codeChallengeMethod: String?
    /// `login` forces a new login although a session exists.
    public var prompt: String?

    /// Creates the parameters.
    public init(
        responseType: String?, clientID: String?, redirectURI: String?, scope: String?, state: String?, nonce: String?,
        codeChallenge: String?, codeChallengeMethod: String?, prompt: String? = nil
    ) {
        self.responseType = responseType
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scope = scope
        self.state = state
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.codeChallengeMethod = codeChallengeMethod
        self.prompt = prompt
    }
}

/// What the authorization endpoint answers.
public enum OIDCAuthorizeOutcome: Sendable, Equatable {
    /// The SSO session is active: back to the client with a code.
    case redirect(String)
    /// No session: the user agent must log in with the card, by signing this challenge.
    case cardLogin(OIDCLoginChallenge)
}

/// The authorization endpoint: checks the request, then either issues a code in the running
/// SSO session or opens a card login transaction whose challenge the card signs.
public final class OIDCAuthorization: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let settings: OIDCSettings
    private let clients: OIDCClients
    private let issuer: OIDCTokenIssuer
    private let keys: OIDCKeys
    private let cardCheck: OIDCCardCheck
    private let limits: OIDCLimits

    init(
        database: ServiceDatabase, clock: any WallClock, settings: OIDCSettings, clients: OIDCClients, issuer: OIDCTokenIssuer,
        keys: OIDCKeys, cardCheck: OIDCCardCheck, limits: OIDCLimits
    ) {
        self.database = database
        self.clock = clock
        self.settings = settings
        self.clients = clients
        self.issuer = issuer
        self.keys = keys
        self.cardCheck = cardCheck
        self.limits = limits
    }

    private var repository: OIDCRepository { OIDCRepository(database: database.current, clock: clock) }

    /// Checks an authorization request and answers it.
    /// - Parameter sessionID: the SSO session cookie, if the user agent has one.
    public func authorize(_ parameters: OIDCAuthorizeParameters, sessionID: String?) async throws -> OIDCAuthorizeOutcome {
        let request = try await check(parameters)
        if let sessionID, parameters.prompt != "login", let session = try await activeSession(sessionID) {
            return .redirect(try await redirect(with: session, for: request))
        }
        if parameters.prompt == "none" {
            throw OIDCError(.loginRequired, code: "oidc.login-required", reason: "no active session and prompt=none")
        }
        return .cardLogin(try await sealedChallenge(for: request))
    }

    // MARK: Login transactions

    /// What a login transaction's identifier is sealed for (``OIDCKeys/seal(_:purpose:)``).
    private static let challengePurpose = "OpenCPS card login transaction v1"

    /// A new login transaction: a random challenge and the request, sealed by the provider into
    /// the transaction's identifier. Nothing is written: the transaction is recorded only when
    /// it is answered, in the answer's own transaction (``OIDCRepository/spendChallenge(_:at:)``),
    /// so that a login pays no commit for its challenge (docs/benchmarks.md, issue 23).
    private func sealedChallenge(for request: OIDCAuthorizationRequest) async throws -> OIDCLoginChallenge {
        let now = clock.now()
        let expiresAt = now.addingTimeInterval(settings.challengeLifetime)
        let value = issuer.randomValue()
        var fields: [String: JSONValue] = [
            "c": .string(value), "i": .string(request.clientID), "r": .string(request.redirectURI), "s": .string(request.scope),
            "p": .string(request.codeChallenge), "t": .integer(Self.milliseconds(now)), "e": .integer(Self.milliseconds(expiresAt)),
        ]
        if let state = request.state { fields["st"] = .string(state) }
        if let nonce = request.nonce { fields["n"] = .string(nonce) }
        let id = try await keys.seal(JSONValue.object(fields).encoded(), purpose: Self.challengePurpose)
        return OIDCLoginChallenge(id: id, challenge: value, request: request, createdAt: Self.date(Self.milliseconds(now)), expiresAt: Self.date(Self.milliseconds(expiresAt)))
    }

    /// The login transaction named by `id`, with when it was answered if it was (read when
    /// `readingSpent`); nil when `id` is not one this provider sealed (unknown, altered, or its
    /// key no longer published).
    func openChallenge(_ id: String, readingSpent: Bool = true) async throws -> OIDCLoginChallenge? {
        guard let bytes = try await keys.open(id, purpose: Self.challengePurpose),
              case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)),
              let value = fields["c"]?.string, let clientID = fields["i"]?.string, let redirectURI = fields["r"]?.string,
              let scope = fields["s"]?.string, let codeChallenge = fields["p"]?.string,
              let created = fields["t"]?.integer, let expires = fields["e"]?.integer
        else { return nil }
        let request = OIDCAuthorizationRequest(
            clientID: clientID, redirectURI: redirectURI, scope: scope, state: fields["st"]?.string, nonce: fields["n"]?.string,
            codeChallenge: codeChallenge)
        return OIDCLoginChallenge(
            id: id, challenge: value, request: request, createdAt: Self.date(created), expiresAt: Self.date(expires),
            usedAt: readingSpent ? try await repository.challengeSpentAt(value) : nil)
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Answers a card login challenge: the card's authentication certificate and its signature
    /// of ``OIDCLoginChallenge/signedMessage``. Opens the SSO session and returns to the
    /// client with a code.
    /// - Returns: the new session and the redirect URI with `code` and `state`.
    public func completeCardLogin(
        challengeID: String, signature: [UInt8], certificate: [UInt8], address: String
    ) async throws -> (session: OIDCSession, redirect: String) {
        try await limits.check(["address:\(address)"])
        let now = clock.now()
        // Whether it was answered already is not read here: the transaction that opens the
        // session spends it, and refuses it if it was (one statement fewer per login).
        guard let challenge = try await openChallenge(challengeID, readingSpent: false) else {
            try await limits.fail(["address:\(address)"])
            throw OIDCError(.invalidRequest, code: "oidc.challenge.unknown", reason: "no such login challenge")
        }
        guard now < challenge.expiresAt else {
            throw OIDCError(.accessDenied, code: "oidc.challenge.expired", reason: "the login challenge has expired: start again")
        }
        let subject: AuthenticatedSubject
        do {
            subject = try await cardCheck.authenticate(
                certificate: certificate, signature: signature, message: challenge.signedMessage, means: .cardChallenge, address: address)
        } catch let error as OIDCError {
            // A challenge is answered once, right or wrong: a wrong answer spends it too.
            try await recordFailure(error, means: .cardChallenge, client: challenge.request.clientID, address: address, spending: challenge)
            throw error
        }
        return try await sessionAndCode(for: subject, request: challenge.request, spending: challenge)
    }

    /// The refusal of a challenge answered already.
    static let challengeUsed = OIDCError(.accessDenied, code: "oidc.challenge.used", reason: "the login challenge was already answered: start again")

    /// Completes an authorization request for a card that proved possession of its
    /// authentication key in a TLS handshake (mutual TLS): the same checks of the request as
    /// ``authorize(_:sessionID:)``, the same fail-closed card check as the challenge login
    /// (without a signature to verify: the handshake's CertificateVerify was it), then the SSO
    /// session and the code. The certificate is never trusted for having passed the handshake:
    /// the listener accepts any, so that a refusal is an answer the user can read.
    /// - Parameters:
    ///   - certificate: the client certificate of the TLS connection (DER).
    ///   - address: the client's address, for the limits and the audit.
    /// - Returns: the new session and the redirect URI with `code` and `state`.
    public func completeTLSLogin(
        _ parameters: OIDCAuthorizeParameters, certificate: [UInt8]?, address: String
    ) async throws -> (session: OIDCSession, redirect: String) {
        try await limits.check(["address:\(address)"])
        let request = try await check(parameters)
        let subject: AuthenticatedSubject
        do {
            guard let certificate else {
                throw OIDCError(.accessDenied, code: "oidc.card.no-client-certificate", reason: "present the card's authentication certificate and key (TLS client certificate)")
            }
            subject = try await cardCheck.authenticate(certificate: certificate, signature: nil, message: [], means: .mutualTLS, address: address)
        } catch let error as OIDCError {
            try await recordFailure(error, means: .mutualTLS, client: request.clientID, address: address)
            throw error
        }
        return try await sessionAndCode(for: subject, request: request)
    }

    /// The session if it is still active (not ended, not expired, not idle too long).
    func activeSession(_ id: String) async throws -> OIDCSession? {
        guard let session = try await repository.session(id: id), session.isActive(at: clock.now(), idleTimeout: settings.sessionIdleTimeout) else {
            return nil
        }
        return session
    }

    private func recordFailure(
        _ error: OIDCError, means: OIDCAuthenticationMeans, client: String, address: String, spending challenge: OIDCLoginChallenge? = nil
    ) async throws {
        try await database.transaction { _ in
            if let challenge { _ = try await self.repository.spendChallenge(challenge, at: self.clock.now()) }
            try await self.repository.record([AuditEvent(
                actor: "address:\(address)", action: "oidc.login.failure", entityType: "oidc-client", entityID: client,
                detail: "means=\(means.rawValue) code=\(error.code)")])
        }
    }

    /// Opens the SSO session of a login and issues its code, in one transaction that also
    /// spends the login's challenge, if any (a second answer finds it spent and is refused):
    /// SQLite commits one at a time, each waiting for its fsync, and a login's commits bounded
    /// its rate (docs/benchmarks.md, issue 23).
    private func sessionAndCode(
        for subject: AuthenticatedSubject, request: OIDCAuthorizationRequest, spending challenge: OIDCLoginChallenge? = nil
    ) async throws -> (session: OIDCSession, redirect: String) {
        if let writer = try await issuer.loginWriter() {
            let now = clock.now()
            let session = issuer.newSession(for: subject)
            let (code, record) = newCode(in: session, for: request, at: now)
            guard try await writer.openSession(
                session, code: record, spending: challenge, audit: [OIDCTokenIssuer.loginAudit(session, client: request.clientID)], at: now)
            else { throw Self.challengeUsed }
            return (session, redirectURI(code: code, for: request))
        }
        return try await database.transaction { _ in
            if let challenge, try await !self.repository.spendChallenge(challenge, at: self.clock.now()) { throw Self.challengeUsed }
            let session = try await self.issuer.openSession(for: subject, client: request.clientID)
            // Opened this instant: its last use needs no update.
            return (session, try await self.redirect(with: session, for: request, touching: false))
        }
    }

    /// Issues a code in the session and builds the redirect (the code and, when `touching`, the
    /// session's last use in one transaction).
    private func redirect(with session: OIDCSession, for request: OIDCAuthorizationRequest, touching: Bool = true) async throws -> String {
        let now = clock.now()
        let (code, record) = newCode(in: session, for: request, at: now)
        try await database.transaction { _ in
            try await self.repository.insert(record)
            if touching { try await self.repository.touchSession(id: session.id, at: now) }
        }
        return redirectURI(code: code, for: request)
    }

    /// A new code in the session, and its record (kept by its digest).
    private func newCode(in session: OIDCSession, for request: OIDCAuthorizationRequest, at now: Date) -> (code: String, record: OIDCAuthorizationCode) {
        let code = issuer.randomValue()
        return (code, OIDCAuthorizationCode(
            digest: OIDCTokenIssuer.digest(code), sessionID: session.id, request: request, createdAt: now, expiresAt: now.addingTimeInterval(settings.codeLifetime)))
    }

    /// The client's redirect URI with the code, the state and the issuer (RFC 9207).
    private func redirectURI(code: String, for request: OIDCAuthorizationRequest) -> String {
        var components = URLComponents(string: request.redirectURI) ?? URLComponents()
        var items = components.queryItems ?? []
        items.append(URLQueryItem(name: "code", value: code))
        if let state = request.state { items.append(URLQueryItem(name: "state", value: state)) }
        items.append(URLQueryItem(name: "iss", value: settings.issuer))
        components.queryItems = items
        return components.string ?? request.redirectURI
    }

    /// The request, checked: the client exists, the redirect URI is one of its own exactly,
    /// the scopes are allowed, PKCE S256 is there.
    private func check(_ parameters: OIDCAuthorizeParameters) async throws -> OIDCAuthorizationRequest {
        guard let clientID = parameters.clientID else {
            throw OIDCError(.invalidRequest, code: "oidc.client.missing", reason: "client_id is required")
        }
        let client = try await clients.client(clientID)
        guard let redirectURI = parameters.redirectURI, client.redirectURIs.contains(redirectURI) else {
            throw OIDCError(.invalidRequest, code: "oidc.redirect-uri.mismatch", reason: "redirect_uri is not one the client registered (matched exactly)")
        }
        guard parameters.responseType == "code" else {
            throw OIDCError(.unsupportedResponseType, code: "oidc.response-type.unsupported", reason: "response_type must be code")
        }
        let scopes = (parameters.scope ?? "").split(separator: " ").map(String.init)
        guard scopes.contains(OIDCScope.openid) else {
            throw OIDCError(.invalidScope, code: "oidc.scope.openid-missing", reason: "scope must include openid")
        }
        if let refused = scopes.first(where: { !client.scopes.contains($0) }) {
            throw OIDCError(.invalidScope, code: "oidc.scope.not-allowed", reason: "the client may not ask for scope '\(refused)'")
        }
        try PKCE.checkChallenge(parameters.codeChallenge, method: parameters.codeChallengeMethod)
        return OIDCAuthorizationRequest(
            clientID: clientID, redirectURI: redirectURI, scope: scopes.joined(separator: " "), state: parameters.state, nonce: parameters.nonce,
            codeChallenge: parameters.codeChallenge ?? "")
    }
}
