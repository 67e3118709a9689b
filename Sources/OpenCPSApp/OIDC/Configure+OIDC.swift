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
        var controller = OIDCController(provider: provider, tokens: OperatorTokens(configuration.operatorTokens, roles: configuration.operatorRoles), ciba: ciba)
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

    /// The mutual TLS card login's listener, started with the application, when configured.
    /// - Throws: when the listener's certificate or key cannot be read.
    static func configureTLSLogin(_ app: Application, settings: CardTLSLoginSettings, hostname: String, provider: OIDCProvider, pki: PKIService) throws {
        func read(_ file: URL, _ what: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError("oidc-mtls-certificate", "cannot read the mutual TLS login's \(what) at \(file.path)")
            }
            return text
        }
        let listener: CardTLSLoginListener
        do {
            listener = try CardTLSLoginListener(
                provider: provider, certificateChainPEM: try read(settings.certificateChainFile, "certificate chain"),
                privateKeyPEM: try read(settings.privateKeyFile, "private key"),
                clientCAs: pki.hierarchy.issuingAuthorities.map { $0.ca.pem }, logger: app.logger)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("oidc-mtls-certificate", "the mutual TLS login's certificate chain or key is not usable PEM: \(error)")
        }
        app.lifecycle.use(ListenerLifecycle(
            listener: listener, name: "Mutual TLS card login", path: "/oidc/authorize", hostname: hostname, port: settings.port, scheme: "https"))
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
