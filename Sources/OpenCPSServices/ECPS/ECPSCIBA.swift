import Foundation
import OpenCPSDomain

/// CIBA in poll mode (OpenID Connect Client-Initiated Backchannel Authentication 1.0) over
/// e-CPS: a client asks for a holder's login (`/oidc/bc-authorize`), the holder decides on
/// their device, the client polls the token endpoint with the CIBA grant and gets its tokens
/// from the provider's one token issuer, with `amr` e-CPS and `acr` `eidas1`.
public struct ECPSCIBA: Sendable {
    /// The grant type of the token endpoint's poll.
    public static let grantType = "urn:openid:params:grant-type:ciba"
    /// The longest binding message accepted (shown on a phone screen).
    public static let maximumBindingMessage = 64

    let logins: ECPSLogins
    let provider: OIDCProvider
    let clock: any WallClock

    /// Creates the flow.
    public init(logins: ECPSLogins, provider: OIDCProvider, clock: any WallClock) {
        self.logins = logins
        self.provider = provider
        self.clock = clock
    }

    /// What a CIBA refusal says, OAuth's way.
    public struct Refusal: Error, Sendable, Equatable {
        /// The OAuth error (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`,
        /// `unknown_user_id`, `invalid_request`, `invalid_scope`, `invalid_grant`).
        public var error: String
        /// A sentence for a person.
        public var description: String
        /// OpenCPS's stable code.
        public var code: String
    }

    /// The answer to an authentication request.
    public struct Started: Sendable, Equatable {
        /// `auth_req_id`.
        public var id: String
        /// `expires_in`.
        public var expiresIn: Int
        /// `interval`.
        public var interval: Int
    }

    /// Starts a login for the holder named by `loginHint` (their idNat).
    /// - Throws: ``Refusal``.
    public func start(client: OIDCClient, loginHint: String?, bindingMessage: String?, scope: String?) async throws -> Started {
        let scopes = (scope ?? "").split(separator: " ").map(String.init)
        guard scopes.contains(OIDCScope.openid) else {
            throw Refusal(error: "invalid_scope", description: "scope must include openid", code: "oidc.ciba.no-openid")
        }
        if let refused = scopes.first(where: { !client.scopes.contains($0) }) {
            throw Refusal(error: "invalid_scope", description: "the client may not ask for scope '\(refused)'", code: "oidc.ciba.scope-refused")
        }
        let binding = bindingMessage ?? ""
        guard binding.count <= Self.maximumBindingMessage, !binding.contains(where: \.isNewline) else {
            throw Refusal(
                error: "invalid_binding_message", description: "binding_message is one line of at most \(Self.maximumBindingMessage) characters",
                code: "oidc.ciba.bad-binding-message")
        }
        guard let hint = loginHint, let idNat = try? IdNat(hint) else {
            throw Refusal(error: "unknown_user_id", description: "login_hint must be the professional's idNat", code: "oidc.ciba.bad-login-hint")
        }
        do {
            let request = try await logins.create(holder: idNat, clientID: client.id, clientName: client.name, bindingMessage: binding, scope: scopes.joined(separator: " "))
            return Started(id: request.id, expiresIn: Int(request.expiresAt.timeIntervalSince(clock.now()).rounded()), interval: request.interval)
        } catch let error as ECPSRuleError {
            // No active card or no active device: nobody to ask.
            throw Refusal(error: "unknown_user_id", description: error.reason, code: error.code)
        }
    }

    /// The token endpoint's poll: tokens once the holder approved, else where the request stands.
    /// - Throws: ``Refusal`` (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`, `invalid_grant`).
    public func poll(client: OIDCClient, authRequestID: String?) async throws -> OIDCTokenResponse {
        guard let id = authRequestID, !id.isEmpty else {
            throw Refusal(error: "invalid_request", description: "auth_req_id is required", code: "oidc.ciba.missing-id")
        }
        let outcome: ECPSPollOutcome
        do {
            outcome = try await logins.poll(requestID: id, clientID: client.id)
        } catch let error as ECPSRuleError {
            throw Refusal(error: "invalid_grant", description: "unknown or already used auth_req_id", code: error.code)
        }
        switch outcome {
        case .pending:
            throw Refusal(error: "authorization_pending", description: "the holder has not decided yet", code: "oidc.ciba.pending")
        case .slowDown:
            throw Refusal(error: "slow_down", description: "poll less often", code: "oidc.ciba.slow-down")
        case .denied:
            throw Refusal(error: "access_denied", description: "the holder denied the login, or the device or card no longer serves", code: "oidc.ciba.denied")
        case .expired:
            throw Refusal(error: "expired_token", description: "the login request has expired", code: "oidc.ciba.expired")
        case .approved(let request):
            let subject = AuthenticatedSubject(
                idNat: request.holder, deviceID: request.deviceID, means: .ecps, authenticatedAt: request.decidedAt ?? clock.now())
            return try await provider.issuer.issue(for: subject, client: client, scope: request.scope)
        }
    }
}
