import Foundation
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSPKI
import OpenCPSServices
import Vapor

/// The OpenID Connect provider's part of the composition root. It needs the PKI: card logins
/// are decided by its CAs and certificate statuses.
enum OIDCComposition {
    /// Builds the provider and registers its routes.
    @discardableResult
    static func configure(
        _ app: Application, configuration: OpenCPSConfiguration, dependencies: OpenCPSDependencies, database: ServiceDatabase, pki: PKIService,
        api: any RoutesBuilder, ecps: ECPSLogins? = nil
    ) -> OIDCProvider {
        var settings = configuration.oidc
        settings.issuer = configuration.publicBaseURL
        let provider = OIDCProvider(pki: pki, database: database, clock: dependencies.clock, random: dependencies.random, settings: settings)
        // e-CPS's CIBA: bc-authorize, and the token endpoint's CIBA grant.
        let ciba = ecps.map { CIBAEndpoint(ciba: ECPSCIBA(logins: $0, provider: provider, clock: dependencies.clock), clients: provider.clients) }
        ciba?.register(on: app.routes)
        var controller = OIDCController(provider: provider, tokens: OperatorTokens(configuration.operatorTokens), ciba: ciba)
        // Browsers get the HTML login page (e-CPS, and the card explained) instead of JSON.
        if let ecps {
            let pages = ProviderLoginPages(
                ecps: OIDCECPSLogin(provider: provider, logins: ecps, database: database, clock: dependencies.clock, random: dependencies.random),
                issuer: settings.issuer)
            pages.register(on: app.routes)
            controller.browserLogin = pages
        }
        controller.register(on: app.routes, api: api)
        app.storage[OIDCProviderKey.self] = provider
        return provider
    }
}

/// Where the composition root leaves the OpenID Connect provider.
enum OIDCProviderKey: StorageKey {
    typealias Value = OIDCProvider
}

extension Application {
    /// The OpenID Connect provider, if the data folder has a PKI: for `opencps client`, the
    /// demo's clients, CIBA and tests.
    public var oidcProvider: OIDCProvider? { storage[OIDCProviderKey.self] }
}
