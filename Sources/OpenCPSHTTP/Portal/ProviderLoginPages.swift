import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The provider's login pages for browsers, in French and without script: the authorization
/// endpoint shows them instead of its JSON card login transaction when the user agent asks
/// for HTML. They offer e-CPS (the professional types their idNat and approves on their
/// phone) and explain the card login (`opencps card login`, or a card reader's extension).
public struct ProviderLoginPages: Sendable {
    private let ecps: OIDCECPSLogin
    private let issuer: String

    /// Creates the pages.
    public init(ecps: OIDCECPSLogin, issuer: String) {
        self.ecps = ecps
        self.issuer = issuer
    }

    /// The SSO session cookie, as the provider sets it after a card login.
    static let ssoCookie = "opencps_sso"

    struct StartForm: Content {
        var challenge: String?
        var idNat: String?
    }

    struct CheckQuery: Content {
        var challenge: String?
        var request: String?
    }

    /// Registers `POST /oidc/login/ecps` (start) and `GET /oidc/login/ecps` (where it stands).
    public func register(on routes: any RoutesBuilder) {
        let login = routes.grouped("oidc", "login", "ecps")
        login.post { request in try await start(request) }
        login.get { request in try await check(request) }
    }

    /// The login page for a card login transaction of the authorization endpoint.
    public func page(for challenge: OIDCLoginChallenge, request: Request) async throws -> Response {
        try await loginPage(challengeID: challenge.id, idNat: nil, error: nil, status: .ok, on: request)
    }

    private func loginPage(challengeID: String, idNat: String?, error: String?, status: HTTPStatus, on request: Request) async throws -> Response {
        var context = PageContext(title: error == nil ? "Connexion" : "Erreur — Connexion")
        context.challengeId = challengeID
        context.idNat = idNat
        context.idNatError = error
        context.clientName = (try? await ecps.clientName(challengeID: challengeID)) ?? "un service"
        return try await PortalViews.render("provider-login", context, status: status, on: request)
    }

    private func start(_ request: Request) async throws -> Response {
        let form = try request.content.decode(StartForm.self)
        let challengeID = form.challenge ?? ""
        do {
            let started = try await ecps.start(challengeID: challengeID, idNat: form.idNat ?? "")
            return try await waitingPage(challengeID: challengeID, login: started, on: request)
        } catch let refusal as OIDCECPSLogin.Refusal where refusal.onIdNat {
            return try await loginPage(challengeID: challengeID, idNat: form.idNat, error: refusal.message, status: .badRequest, on: request)
        } catch let refusal as OIDCECPSLogin.Refusal {
            return try await failurePage(refusal, on: request)
        }
    }

    private func check(_ request: Request) async throws -> Response {
        let query = try request.query.decode(CheckQuery.self)
        let challengeID = query.challenge ?? ""
        let outcome: OIDCECPSLogin.Outcome
        do {
            outcome = try await ecps.check(challengeID: challengeID, requestID: query.request ?? "")
        } catch let refusal as OIDCECPSLogin.Refusal {
            return try await failurePage(refusal, on: request)
        }
        switch outcome {
        case .pending(let login):
            return try await waitingPage(challengeID: challengeID, login: login, on: request)
        case .refused(let refusal):
            return try await failurePage(refusal, on: request)
        case .loggedIn(let session, let redirect):
            let response = PortalViews.seeOther(redirect, on: request)
            response.cookies[Self.ssoCookie] = HTTPCookies.Value(
                string: session.id, maxAge: session.cookieLifetime, path: "/oidc", isSecure: issuer.hasPrefix("https:"), isHTTPOnly: true, sameSite: .lax)
            return response
        }
    }

    private func waitingPage(challengeID: String, login: ECPSLoginRequest, on request: Request) async throws -> Response {
        var context = PageContext(title: "En attente de votre approbation e-CPS")
        context.challengeId = challengeID
        context.requestId = login.id
        context.bindingMessage = login.bindingMessage
        context.clientName = login.clientName
        // No meta refresh: a page that reloads itself on a timer fails WCAG 2.2.1 (RGAA 13.1),
        // and axe-core says so. The professional presses "Continuer" once they approved.
        return try await PortalViews.render("provider-waiting", context, on: request)
    }

    private func failurePage(_ refusal: OIDCECPSLogin.Refusal, on request: Request) async throws -> Response {
        var context = PageContext(title: "Connexion impossible")
        context.message = refusal.message
        return try await PortalViews.render("message", context, status: .badRequest, on: request)
    }
}
