import Fluent
import Foundation
import OpenCPSHTTP
import OpenCPSPersistence
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

    /// Creates the dependencies.
    public init(
        clock: any WallClock = SystemWallClock(), metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        postgresSearchPath: [String]? = nil
    ) {
        self.clock = clock
        self.metrics = metrics
        self.postgresSearchPath = postgresSearchPath
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
    RegistryController(registry: registry, tokens: OperatorTokens(configuration.operatorTokens)).register(on: api)
    FHIRController(registry: registry, publicBaseURL: configuration.publicBaseURL).register(on: app.routes.grouped("fhir"))
}
