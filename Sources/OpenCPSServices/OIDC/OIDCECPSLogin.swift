import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSPKI

/// Logging in at the authorization endpoint with e-CPS, for a browser: the professional types
/// their idNat on the provider's login page, the provider asks their e-CPS devices exactly as
/// CIBA does (a login request with a binding message shown on the page and on the phone), and
/// once a device approves, the login transaction opened by `/oidc/authorize` completes as a
/// card login would: an SSO session and a redirect to the client with a code.
public struct OIDCECPSLogin: Sendable {
    private let provider: OIDCProvider
    private let logins: ECPSLogins
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let random: RandomBytes

    /// Creates the flow.
    public init(provider: OIDCProvider, logins: ECPSLogins, database: ServiceDatabase, clock: any WallClock, random: RandomBytes) {
        self.provider = provider
        self.logins = logins
        self.database = database
        self.clock = clock
        self.random = random
    }

    /// Why a browser's e-CPS login cannot go on, with a sentence in French for the page.
    public struct Refusal: Error, Sendable, Equatable {
        /// OpenCPS's stable code.
        public var code: String
        /// What the page says.
        public var message: String
        /// Whether the idNat field is at fault (the page ties the message to it).
        public var onIdNat: Bool
    }

    /// Where a browser's e-CPS login stands.
    public enum Outcome: Sendable {
        /// The holder has not decided yet.
        case pending(ECPSLoginRequest)
        /// The holder refused, the request expired, or the device or card stopped serving.
        case refused(Refusal)
        /// Approved: the SSO session and the client's redirect URI with its code.
        case loggedIn(session: OIDCSession, redirect: String)
    }

    private var repository: OIDCRepository { OIDCRepository(database: database.current, clock: clock) }

    /// The name of the client a login transaction is for, to show on the login page.
    /// - Throws: ``Refusal`` when the transaction is unknown or spent.
    public func clientName(challengeID: String) async throws -> String {
        let challenge = try await openChallenge(challengeID)
        return try await provider.clients.client(challenge.request.clientID).name
    }

    /// Starts an e-CPS login for a login transaction of the authorization endpoint.
    /// - Returns: the login request, whose binding message the page shows.
    /// - Throws: ``Refusal``.
    public func start(challengeID: String, idNat text: String) async throws -> ECPSLoginRequest {
        let challenge = try await openChallenge(challengeID)
        guard clock.now() < challenge.expiresAt else {
            throw Refusal(code: "oidc.challenge.expired", message: "La demande de connexion a expiré : recommencez depuis le service.", onIdNat: false)
        }
        guard let idNat = try? IdNat(text.trimmingCharacters(in: .whitespaces)) else {
            throw Refusal(
                code: "oidc.ecps.bad-idnat", message: "Saisissez votre identifiant national (idNat), par exemple 810012345678.", onIdNat: true)
        }
        let client = try await provider.clients.client(challenge.request.clientID)
        do {
            return try await logins.create(
                holder: idNat, clientID: client.id, clientName: client.name, bindingMessage: bindingMessage(), scope: challenge.request.scope)
        } catch let error as ECPSRuleError {
            // The same answer whether the card or the device is missing: the page tells no stranger which.
            throw Refusal(
                code: error.code, message: "Aucun appareil e-CPS actif ne peut être sollicité pour cet identifiant (appareil enrôlé et carte active requis).",
                onIdNat: true)
        }
    }

    /// Where the login stands; once approved, opens the SSO session (the transaction is spent).
    public func check(challengeID: String, requestID: String) async throws -> Outcome {
        let challenge = try await openChallenge(challengeID)
        let outcome: ECPSPollOutcome
        do {
            outcome = try await logins.poll(requestID: requestID, clientID: challenge.request.clientID)
        } catch is ECPSRuleError {
            return .refused(Refusal(code: "oidc.ecps.unknown-request", message: "Cette demande e-CPS est inconnue ou déjà utilisée.", onIdNat: false))
        }
        switch outcome {
        case .pending, .slowDown:
            guard let request = try await ECPSRepository(database: database.current, clock: clock).loginRequest(id: requestID) else {
                return .refused(Refusal(code: "oidc.ecps.unknown-request", message: "Cette demande e-CPS est inconnue.", onIdNat: false))
            }
            return .pending(request)
        case .denied:
            return .refused(Refusal(code: "oidc.ecps.denied", message: "La connexion a été refusée sur l'appareil e-CPS.", onIdNat: false))
        case .expired:
            return .refused(Refusal(code: "oidc.ecps.expired", message: "La demande e-CPS a expiré sans réponse : recommencez.", onIdNat: false))
        case .approved(let request):
            let subject = AuthenticatedSubject(
                idNat: request.holder, deviceID: request.deviceID, means: .ecps, authenticatedAt: request.decidedAt ?? clock.now())
            // The transaction is spent with the session it opens: a second visit finds it spent.
            let opened: (OIDCSession, String)? = try await database.transaction { _ in
                guard try await repository.spendChallenge(challenge, at: clock.now()) else { return nil }
                let session = try await provider.issuer.openSession(for: subject, client: challenge.request.clientID)
                return (session, try await redirect(session: session, request: challenge.request))
            }
            guard let (session, redirect) = opened else {
                return .refused(Refusal(code: "oidc.challenge.used", message: "Cette connexion a déjà été utilisée : recommencez.", onIdNat: false))
            }
            return .loggedIn(session: session, redirect: redirect)
        }
    }

    /// The login transaction, if it exists and was not answered.
    private func openChallenge(_ id: String) async throws -> OIDCLoginChallenge {
        guard let challenge = try await provider.authorization.openChallenge(id), challenge.usedAt == nil else {
            throw Refusal(code: "oidc.challenge.unknown", message: "Cette demande de connexion est inconnue ou déjà utilisée : recommencez depuis le service.", onIdNat: false)
        }
        return challenge
    }

    /// A short code such as `K7-31`, shown on the page and on the phone so that the holder
    /// approves the login they started and no other.
    private func bindingMessage() -> String {
        let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
        let bytes = random.bytes(4)
        return "\(letters[Int(bytes[0]) % letters.count])\(bytes[1] % 10)-\(bytes[2] % 10)\(bytes[3] % 10)"
    }

    /// Issues a code in the session and builds the client's redirect (as a card login does).
    private func redirect(session: OIDCSession, request: OIDCAuthorizationRequest) async throws -> String {
        let now = clock.now()
        let code = provider.issuer.randomValue()
        try await repository.insert(OIDCAuthorizationCode(
            digest: OIDCTokenIssuer.digest(code), sessionID: session.id, request: request, createdAt: now,
            expiresAt: now.addingTimeInterval(provider.settings.codeLifetime)))
        try await repository.touchSession(id: session.id, at: now)
        var components = URLComponents(string: request.redirectURI) ?? URLComponents()
        var items = components.queryItems ?? []
        items.append(URLQueryItem(name: "code", value: code))
        if let state = request.state { items.append(URLQueryItem(name: "state", value: state)) }
        items.append(URLQueryItem(name: "iss", value: provider.settings.issuer))
        components.queryItems = items
        return components.string ?? request.redirectURI
    }
}
