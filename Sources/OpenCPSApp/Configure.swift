import Fluent
import Foundation
import OpenCPSHTTP
import OpenCPSPersistence
import OpenCPSServices
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

    /// Creates the dependencies.
    public init(
        clock: any WallClock = SystemWallClock(), metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        postgresSearchPath: [String]? = nil, pki: PKIMaterial? = nil
    ) {
        self.clock = clock
        self.metrics = metrics
        self.postgresSearchPath = postgresSearchPath
        self.pki = pki
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
    RegistryController(registry: registry, tokens: tokens).register(on: api)
    FHIRController(registry: registry, publicBaseURL: configuration.publicBaseURL).register(on: app.routes.grouped("fhir"))

    let material = try dependencies.pki ?? (PKIMaterial.exists(configuration) ? PKIMaterial.open(configuration) : nil)
    if let material {
        let pki = try PKIService(hierarchy: material.hierarchy, keyStore: material.keyStore, clock: clock)
        PKIController(pki: pki).register(on: app.routes)
        CertificateController(pki: pki, tokens: tokens, clock: clock).register(on: api)
        app.lifecycle.use(CRLPublicationSchedule(pki: pki))
        app.storage[PKIServiceKey.self] = pki
    } else {
        app.logger.notice("No PKI in \(configuration.dataDirectory.path): run `opencps pki init` to serve certificates, CRLs and OCSP.")
    }
}

/// Where the composition root leaves the PKI service for commands that need it after start.
enum PKIServiceKey: StorageKey {
    typealias Value = PKIService
}

extension Application {
    /// The PKI service the composition root built, if the data folder has a PKI.
    public var pkiService: PKIService? { storage[PKIServiceKey.self] }
}
