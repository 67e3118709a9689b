import Fluent
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
        cardSettings: CardServiceSettings = CardServiceSettings()
    ) {
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
    try app.useDatabase(configuration.database, postgresSearchPath: dependencies.postgresSearchPath)
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
    let registry: @Sendable (Request) -> RegistryRepository = { request in
        RegistryRepository(database: request.db, clock: clock)
    }
    let database: @Sendable () -> any Database = { [unowned app] in app.db }
    OperationsController(registry: dependencies.metrics, database: database).register(on: app.routes)
    let api = app.routes.grouped("api", "v1")
    OpenAPIController().register(on: api)
    let tokens = OperatorTokens(configuration.operatorTokens)
    let material = try dependencies.pki ?? (PKIMaterial.exists(configuration) ? PKIMaterial.open(configuration) : nil)
    var cardService: CardService?
    if let material {
        let pki = try PKIService(
            hierarchy: material.hierarchy, keyStore: material.keyStore, clock: clock,
            commitGathering: CertificateGroupCommit.Gathering(delay: configuration.issuanceCommitDelay))
        PKIController(pki: pki).register(on: app.routes)
        // In front of routing: repeated OCSP questions are answered before anything else runs.
        let metrics = dependencies.metrics
        app.responder.use { app in
            OCSPKeptAnswerResponder(pki: pki, registry: metrics, next: app.responder.default)
        }
        CertificateController(pki: pki, tokens: tokens, clock: clock).register(on: api)
        app.lifecycle.use(CRLPublicationSchedule(pki: pki))
        app.storage[PKIServiceKey.self] = pki
        let listener = OCSPListener(
            pki: pki, registry: metrics, database: { [unowned app] in app.db }, threads: configuration.ocspThreads, logger: app.logger)
        app.storage[OCSPListenerKey.self] = listener
        if let ocspPort = configuration.ocspPort {
            app.lifecycle.use(ListenerLifecycle(
                listener: listener, name: "OCSP listener", path: "/ocsp/<ca>", hostname: configuration.hostname, port: ocspPort))
        }
        let issuanceListener = IssuanceListener(
            pki: pki, tokens: tokens, database: { [unowned app] in app.db }, clock: clock, threads: configuration.issuanceThreads,
            logger: app.logger)
        app.storage[IssuanceListenerKey.self] = issuanceListener
        if let issuancePort = configuration.issuancePort {
            app.lifecycle.use(ListenerLifecycle(
                listener: issuanceListener, name: "Issuance listener", path: "/api/v1/certificates", hostname: configuration.hostname,
                port: issuancePort))
        }
        let cards = CardService(
            pki: pki, tokens: SoftwareTokenStore(directory: configuration.tokenDirectory, policy: dependencies.cardSettings.pinPolicy),
            letters: configuration.letterDirectory, clock: clock, random: dependencies.random, settings: dependencies.cardSettings)
        CardController(cards: cards, tokens: ActorTokens(configuration.actorTokens)).register(on: api)
        app.lifecycle.use(CardMaintenanceSchedule(cards: cards))
        app.storage[CardServiceKey.self] = cards
        cardService = cards
    } else {
        app.logger.notice("No PKI in \(configuration.dataDirectory.path): run `opencps pki init` to serve certificates, CRLs, OCSP and cards.")
    }
    let cards = cardService
    let onRegistryChange: @Sendable (RegistryChange, Request) async throws -> Void = { change, request in
        guard let cardService = cards else { return }
        switch change {
        case .registered(let professional, let professionCode):
            try await cardService.orderAutomatically(for: professional, professionCode: professionCode, on: request.db)
        case .updated(let professional):
            _ = try await cardService.reissueAfterRegistryChange(of: professional.idNat, on: request.db)
        }
    }
    RegistryController(registry: registry, tokens: tokens, onChange: onRegistryChange).register(on: api)
    FHIRController(registry: registry, publicBaseURL: configuration.publicBaseURL).register(on: app.routes.grouped("fhir"))
}

/// Where the composition root leaves the card service for commands that need it after start.
enum CardServiceKey: StorageKey {
    typealias Value = CardService
}

extension Application {
    /// The card service the composition root built, if the data folder has a PKI.
    public var cardService: CardService? { storage[CardServiceKey.self] }
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

    func didBootAsync(_ application: Application) async throws {
        let port = try await listener.start(host: hostname, port: self.port)
        application.logger.notice("\(name) on http://\(hostname):\(port)\(path)")
    }

    func shutdownAsync(_ application: Application) async {
        do {
            try await listener.stop()
        } catch {
            application.logger.warning("\(name) did not stop cleanly", metadata: ["error": "\(error)"])
        }
    }
}
