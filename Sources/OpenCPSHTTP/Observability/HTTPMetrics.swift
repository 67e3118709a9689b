import Prometheus
import Vapor

/// The HTTP server's own metrics, registered in the registry that `/metrics` exposes.
public struct HTTPMetricsMiddleware: Middleware {
    private let registry: PrometheusCollectorRegistry

    /// Creates the middleware.
    /// - Parameter registry: the Prometheus registry `/metrics` exposes.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Counts and times each request by route, method and status.
    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let start = ContinuousClock.now
        return next.respond(to: request).map { response in
            record(response, for: request, since: start)
            return response
        }
    }

    private func record(_ response: Response, for request: Request, since start: ContinuousClock.Instant) {
        // The route pattern, not the path, keeps the number of series bounded.
        let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
        let labels = [("method", request.method.rawValue), ("route", route), ("status", String(response.status.code))]
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "opencps", metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered"),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "opencps", metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer HTTP requests"),
            labels: labels.dropLast().map { $0 },
            buckets: Self.buckets
        ).record(ContinuousClock.now - start)
    }

    private static let buckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]
}
