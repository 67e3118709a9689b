import OpenCPSServices
import Prometheus
import Vapor

/// `/health`, `/ready` and `/metrics`.
public struct OperationsController: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let database: ServiceDatabase

    /// Creates the controller.
    /// - Parameters:
    ///   - registry: the Prometheus registry to expose.
    ///   - database: the database whose reachability makes the server ready.
    public init(registry: PrometheusCollectorRegistry, database: ServiceDatabase) {
        self.registry = registry
        self.database = database
    }

    /// Registers the routes.
    public func register(on routes: any RoutesBuilder) {
        routes.get("health") { _ in HealthStatus(status: "ok") }
        routes.get("ready") { _ async throws -> HealthStatus in
            guard await database.isReachable() else {
                throw Problem(status: .serviceUnavailable, code: "server.not-ready", detail: "the database does not answer")
            }
            return HealthStatus(status: "ready")
        }
        routes.get("metrics") { _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16_384)
            registry.emit(into: &buffer)
            let response = Response(status: .ok, body: .init(data: Data(buffer)))
            response.headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
            return response
        }
    }
}

/// The body of `/health` and `/ready`.
struct HealthStatus: Content {
    var status: String
}
