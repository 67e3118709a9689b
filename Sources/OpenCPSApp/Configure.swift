import Fluent
import OpenCPSDomain
import Foundation
import OpenCPSHTTP
import OpenCPSPersistence
import OpenCPSPKI
import OpenCPSServices
import OpenCPSTokens
import Prometheus
import Vapor

/// What the composition root needs besides the configuration: the parts tests replace.
public struct OpenCPSDependencies: Sendable {
    /// The clock every service reads.
    public var clock: any WallClock
    /// The Prometheus registry `/metrics` exposes.
    public var metrics: PrometheusCollectorRegistry
    /// For PostgreSQL, the schemas to use; tests give each app a schema of its own.
    public var postgresSearchPath: [String]?
    /// For PostgreSQL, the connections each event loop may open (4); tests that run many
    /// applications at once against one server open fewer, to stay under its `max_connections`.
    public var postgresConnectionsPerEventLoop: Int
    /// The PKI to serve; nil opens the one in the data folder, if `pki init` created it.
    public var pki: PKIMaterial?
    /// The CSPRNG of card serials, PINs and PUKs (tests seed it).
    public var random: RandomBytes
    /// The card lifecycle's settings.
    public var cardSettings: CardServiceSettings

    /// Creates the dependencies.
    public init(
        clock: any WallClock = SystemWallClock(), metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        postgresSearchPath: [String]? = nil, pki: PKIMaterial? = nil, random: RandomBytes = .system,
        cardSettings: CardServiceSettings = CardServiceSettings(), postgresConnectionsPerEventLoop: Int = 4
    ) {
        self.postgresConnectionsPerEventLoop = postgresConnectionsPerEventLoop
        self.clock = clock
        self.metrics = metrics
        self.postgresSearchPath = postgresSearchPath
        self.pki = pki
        self.random = random
        self.cardSettings = cardSettings
    }
}

/// The composition root: builds every service from the configuration and wires the routes.
/// - Parameters:
///   - app: the application to configure.
///   - configuration: the resolved configuration.
///   - dependencies: the clock and other replaceable parts.
public func configure(
    _ app: Application, configuration: OpenCPSConfiguration, dependencies: OpenCPSDependencies = OpenCPSDependencies()
) async throws {
    try app.useDatabase(
        configuration.database, postgresSearchPath: dependencies.postgresSearchPath,
        postgresConnectionsPerEventLoop: dependencies.postgresConnectionsPerEventLoop)
    app.logger.logLevel = configuration.logLevel
    app.http.server.configuration.hostname = configuration.hostname
    app.http.server.configuration.port = configuration.port
    // The JSON API caps bodies well below Vapor's default; uploads set their own limit.
    app.routes.defaultMaxBodySize = "1mb"

    // Vapor's own per-request metrics go to swift-metrics, which OpenCPS does not use:
    // HTTPMetricsMiddleware feeds /metrics.
    app.http.server.configuration.reportMetrics = false
    app.middleware = Middlewares()
    app.middleware.use(RouteLoggingMiddleware(logLevel: .info))
    app.middleware.use(RequestIDMiddleware())
    app.middleware.use(HTTPMetricsMiddleware(registry: dependencies.metrics))
    app.middleware.use(ProblemMiddleware())

    let clock = dependencies.clock
    let database = ServiceDatabase(serializingTransactions: !configuration.database.isPostgres) { [unowned app] in app.db }
    app.storage[ServiceDatabaseKey.self] = database
    // Inside ProblemMiddleware: refused credentials reach the audit log, rate-bounded.
    let failedAuthentications = FailedAuthentications(database: database, clock: clock)
    app.middleware.use(FailedAuthenticationMiddleware(failures: failedAuthentications))
    PortalViews.configure(app)
    OperationsController(registry: dependencies.metrics, database: database).register(on: app.routes)
    let api = app.routes.grouped("api", "v1")
    OpenAPIController().register(on: api)
    let tokens = OperatorTokens(configuration.operatorTokens, roles: configuration.operatorRoles)
    let material = try dependencies.pki ?? (PKIMaterial.exists(configuration) ? PKIMaterial.open(configuration) : nil)
    let pkiService = try material.map { material in
        // A hierarchy the tests hold in memory signs its root's CRLs itself; a data folder's
        // root key is offline, and its CRLs were signed ahead of time.
        let rootCRLs = dependencies.pki == nil ? try PKIMaterial.rootCRLsForServing(configuration, material: material) : nil
        if let covered = try rootCRLs?.coveredUntil(), covered.timeIntervalSince(clock.now()) < 60 * 86_400 {
            app.logger.warning("The root's CRLs signed ahead of time run out on \(covered): sign more with `opencps pki root-crls` and the offline root key.")
        }
        return try PKIService(
            hierarchy: material.hierarchy, keyStore: material.keyStore, database: database, clock: clock,
            commitGathering: CertificateGroupCommit.Gathering(delay: configuration.issuanceCommitDelay), rootCRLs: rootCRLs)
    }
    let ecps = ECPSComposition.configure(app, configuration: configuration, dependencies: dependencies, database: database, pki: pkiService, api: api)
    var cardServices: CardServices?
    // For issuance's lookups of holders only: it draws no card consequences.
    let registryReader = RegistryService(database: database, clock: clock, cards: nil)
    if let material, let pki = pkiService {
        PKIController(pki: pki).register(on: app.routes)
        let signatures = try SignatureService(hierarchy: material.hierarchy, keyStore: material.keyStore, database: database, clock: clock)
        SignatureController(signatures: signatures).register(on: app.routes, api: api)
        PayerLotController(payer: PayerLotService(signatures: signatures, clock: clock, maximumSheets: configuration.payerLotMaximumSheets))
            .register(on: api)
        // In front of routing: repeated OCSP questions are answered before anything else runs.
        let metrics = dependencies.metrics
        app.responder.use { app in
            OCSPKeptAnswerResponder(pki: pki, registry: metrics, next: app.responder.default)
        }
        CertificateController(pki: pki, holds: OperatorCertificateHolds(pki: pki, database: database), registry: registryReader, tokens: tokens, clock: clock).register(on: api)
        app.lifecycle.use(CRLPublicationSchedule(pki: pki))
        if case .postgres(let url) = configuration.database {
            // Several servers may share the database: hear each other's revocations.
            app.lifecycle.use(try RevocationNotices(
                pki: pki, url: url, searchPath: dependencies.postgresSearchPath ?? Application.postgresSearchPath(in: url)))
        }
        app.storage[PKIServiceKey.self] = pki
        let listener = OCSPListener(pki: pki, registry: metrics, threads: configuration.ocspThreads, logger: app.logger)
        app.storage[OCSPListenerKey.self] = listener
        if let ocspPort = configuration.ocspPort {
            app.lifecycle.use(ListenerLifecycle(
                listener: listener, name: "OCSP listener", path: "/ocsp/<ca>", hostname: configuration.hostname, port: ocspPort))
        }
        let issuanceListener = IssuanceListener(
            pki: pki, registry: registryReader, tokens: tokens, clock: clock, threads: configuration.issuanceThreads,
            failures: failedAuthentications, logger: app.logger)
        app.storage[IssuanceListenerKey.self] = issuanceListener
        if let issuancePort = configuration.issuancePort {
            app.lifecycle.use(ListenerLifecycle(
                listener: issuanceListener, name: "Issuance listener", path: "/api/v1/certificates", hostname: configuration.hostname,
                port: issuancePort))
        }
        let cards = CardServices(
            pki: pki, tokens: SoftwareTokenStore(directory: configuration.tokenDirectory, policy: dependencies.cardSettings.pinPolicy),
            pkcs11Cards: try configuration.cardPKCS11Module.map { try PKCS11CardTokenStore(modulePath: $0, policy: dependencies.cardSettings.pinPolicy) },
            letters: configuration.letterDirectory, database: database, clock: clock, random: dependencies.random,
            settings: dependencies.cardSettings)
        CardController(cards: cards, tokens: ActorTokens(configuration.actorTokens)).register(on: api)
        app.storage[CardServicesKey.self] = cards
        cardServices = cards
        let provider = OIDCComposition.configure(
            app, configuration: configuration, dependencies: dependencies, database: database, pki: pki, api: api, ecps: ecps.logins)
        if let tlsLogin = configuration.cardTLSLogin {
            try OIDCComposition.configureTLSLogin(app, settings: tlsLogin, hostname: configuration.hostname, provider: provider, pki: pki)
        }
    } else {
        app.logger.notice("No PKI in \(configuration.dataDirectory.path): run `opencps pki init` to serve certificates, CRLs, OCSP and cards.")
    }
    let registry = RegistryService(database: database, clock: clock, cards: cardServices)
    app.storage[RegistryServiceKey.self] = registry
    RegistryController(registry: registry, tokens: tokens).register(on: api)
    if let provider = app.oidcProvider, let cardServices {
        try PortalComposition.configure(
            app, configuration: configuration, dependencies: dependencies, database: database, provider: provider, cards: cardServices,
            registry: registry, devices: ecps.devices)
    }
    FHIRController(registry: registry, cards: CardDirectoryListing(database: database, clock: clock), publicBaseURL: configuration.publicBaseURL)
        .register(on: app.routes.grouped("fhir"))
}

/// Where the composition root leaves the card services for commands that need them after start.
enum CardServicesKey: StorageKey {
    typealias Value = CardServices
}

extension Application {
    /// The card services the composition root built, if the data folder has a PKI.
    public var cards: CardServices? { storage[CardServicesKey.self] }
}

/// Where the composition root leaves the services' database access.
enum ServiceDatabaseKey: StorageKey {
    typealias Value = ServiceDatabase
}

extension Application {
    /// The services' database access the composition root built: on SQLite its transactions
    /// share one queue, which work started later (the card maintenance) must join.
    var serviceDatabase: ServiceDatabase? { storage[ServiceDatabaseKey.self] }
}

/// Where the composition root leaves the registry service.
enum RegistryServiceKey: StorageKey {
    typealias Value = RegistryService
}

extension Application {
    /// The registry service the composition root built.
    public var registryService: RegistryService? { storage[RegistryServiceKey.self] }
}

/// Where the composition root leaves the PKI service for commands that need it after start.
enum PKIServiceKey: StorageKey {
    typealias Value = PKIService
}

extension Application {
    /// The PKI service the composition root built, if the data folder has a PKI.
    public var pkiService: PKIService? { storage[PKIServiceKey.self] }
}

/// Where the composition root leaves the dedicated OCSP listener (listening or not).
enum OCSPListenerKey: StorageKey {
    typealias Value = OCSPListener
}

extension Application {
    /// The dedicated OCSP listener, if the data folder has a PKI; `serve` starts it when an
    /// OCSP port is configured.
    public var ocspListener: OCSPListener? { storage[OCSPListenerKey.self] }
}

/// Where the composition root leaves the dedicated issuance listener (listening or not).
enum IssuanceListenerKey: StorageKey {
    typealias Value = IssuanceListener
}

extension Application {
    /// The dedicated issuance listener, if the data folder has a PKI; `serve` starts it when an
    /// issuance port is configured.
    public var issuanceListener: IssuanceListener? { storage[IssuanceListenerKey.self] }
}

/// Starts a dedicated listener (OCSP, issuance) with the application and stops it at shutdown.
struct ListenerLifecycle: LifecycleHandler {
    let listener: DedicatedListener
    let name: String
    let path: String
    let hostname: String
    let port: Int
    var scheme = "http"

    func didBootAsync(_ application: Application) async throws {
        let port = try await listener.start(host: hostname, port: self.port)
        application.logger.notice("\(name) on \(scheme)://\(hostname):\(port)\(path)")
    }

    func shutdownAsync(_ application: Application) async {
        do {
            try await listener.stop()
        } catch {
            application.logger.warning("\(name) did not stop cleanly", metadata: ["error": "\(error)"])
        }
    }
}
