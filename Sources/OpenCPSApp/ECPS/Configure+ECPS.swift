import Foundation
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSPKI
import OpenCPSServices
import Vapor

/// e-CPS's part of the composition root: its services and routes.
struct ECPSComposition {
    let devices: ECPSDevices
    let logins: ECPSLogins

    /// Builds the services and registers `/api/v1/ecps`.
    @discardableResult
    static func configure(
        _ app: Application, configuration: OpenCPSConfiguration, dependencies: OpenCPSDependencies, database: ServiceDatabase,
        pki: PKIService?, api: any RoutesBuilder
    ) -> ECPSComposition {
        let settings = configuration.ecps
        let devices = ECPSDevices(
            database: database, clock: dependencies.clock, random: dependencies.random, settings: settings,
            publicBaseURL: configuration.publicBaseURL, outbox: ECPSOutbox(folder: configuration.ecpsOutbox), pki: pki)
        let logins = ECPSLogins(database: database, clock: dependencies.clock, random: dependencies.random, settings: settings)
        let certificates = pki.map { ECPSCertificates(logins: logins, pki: $0, cardDomain: dependencies.cardSettings.cardDomain) }
        ECPSController(
            devices: devices, logins: logins, certificates: certificates, tokens: ActorTokens(configuration.actorTokens), clock: dependencies.clock
        ).register(on: api)
        let composition = ECPSComposition(devices: devices, logins: logins)
        app.storage[ECPSKey.self] = composition
        return composition
    }
}

/// Where the composition root leaves e-CPS's services.
enum ECPSKey: StorageKey {
    typealias Value = ECPSComposition
}

extension Application {
    /// e-CPS's login requests, for the OpenID Connect provider's CIBA grant and for tests.
    public var ecpsLogins: ECPSLogins? { storage[ECPSKey.self]?.logins }
    /// e-CPS's devices.
    public var ecpsDevices: ECPSDevices? { storage[ECPSKey.self]?.devices }
}
