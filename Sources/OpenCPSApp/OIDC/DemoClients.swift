import Foundation
import OpenCPSDomain
import OpenCPSServices

/// The demo's relying services, registered by `serve --demo` so that the provider can be
/// tried at once (README lists them). Their secret is public, like every demo token.
public enum DemoClients {
    /// A confidential client (`client_secret_basic`), with its JSON userinfo.
    public static let confidentialID = "demo-service"
    /// Its secret.
    public static let confidentialSecret = "demo-service-secret-0123456789"
    /// A confidential client that takes userinfo as a signed JWT (`client_secret_post`).
    public static let signedUserinfoID = "demo-service-jwt"
    /// A public client (a native application): PKCE and no secret.
    public static let publicID = "demo-app"
    /// The redirect URI of every demo client.
    public static let redirectURI = "http://127.0.0.1:8765/callback"
    /// Their post-logout redirect URI.
    public static let postLogoutRedirectURI = "http://127.0.0.1:8765/logged-out"

    /// Registers the demo clients unless they are there.
    /// - Returns: one line per client registered now.
    public static func register(_ clients: OIDCClients) async throws -> [String] {
        let existing = Set(try await clients.list().map(\.id))
        let registrations: [OIDCClients.Registration] = [
            .init(id: confidentialID, name: "Demo health service", authMethod: .clientSecretBasic, redirectURIs: [redirectURI],
                  postLogoutRedirectURIs: [postLogoutRedirectURI], secret: confidentialSecret),
            .init(id: signedUserinfoID, name: "Demo health service (signed userinfo)", authMethod: .clientSecretPost, redirectURIs: [redirectURI],
                  postLogoutRedirectURIs: [postLogoutRedirectURI], userinfoSigned: true, secret: confidentialSecret),
            .init(id: publicID, name: "Demo native application", authMethod: .none, redirectURIs: [redirectURI], postLogoutRedirectURIs: [postLogoutRedirectURI]),
        ]
        var lines: [String] = []
        for registration in registrations where !existing.contains(registration.id) {
            _ = try await clients.register(registration, actor: "system:demo")
            lines.append("demo OIDC client: \(registration.id) (\(registration.authMethod.rawValue))")
        }
        return lines
    }
}
