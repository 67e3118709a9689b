import Foundation
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSPKI
import OpenCPSServices
import Vapor

/// The web portal's part of the composition root: its relying party at our own provider,
/// its sessions, and its routes at `/` and `/portail`.
enum PortalComposition {
    /// Builds the portal and registers its routes; its OpenID Connect client is registered
    /// (or checked) when a login starts, once the database is surely migrated.
    static func configure(
        _ app: Application, configuration: OpenCPSConfiguration, dependencies: OpenCPSDependencies, database: ServiceDatabase,
        provider: OIDCProvider, cards: CardServices, registry: RegistryService, devices: ECPSDevices
    ) throws {
        let relyingParty = PortalRelyingParty(
            provider: provider, secret: try clientSecret(configuration, random: dependencies.random), random: dependencies.random, clock: dependencies.clock)
        let sessions = PortalSessions(database: database, clock: dependencies.clock, random: dependencies.random, settings: configuration.portal)
        let staff = StaffDirectory(database: database, clock: dependencies.clock)
        PortalController(services: .init(
            sessions: sessions, relyingParty: relyingParty, cards: cards, registry: registry, devices: devices, staff: staff, clock: dependencies.clock))
            .register(on: app.routes)
        StaffPortalController(services: .init(sessions: sessions, staff: staff, cards: cards, registry: registry, clock: dependencies.clock))
            .register(on: app.routes)
    }

    /// The portal's client secret: read from its file, or made and written there (owner only)
    /// on the first start, so that every start and every node uses the same one.
    static func clientSecret(_ configuration: OpenCPSConfiguration, random: RandomBytes) throws -> String {
        let file = configuration.portalClientSecretFile
        if let text = try? String(contentsOf: file, encoding: .utf8), text.trimmingCharacters(in: .whitespacesAndNewlines).count >= 32 {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let secret = Base64URL.encode(random.bytes(32))
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        try Data(secret.utf8).write(to: file, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return secret
    }
}
