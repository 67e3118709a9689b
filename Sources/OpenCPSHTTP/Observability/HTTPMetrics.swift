import NIOConcurrencyHelpers
import Prometheus
import Vapor

/// The HTTP server's own metrics, registered in the registry that `/metrics` exposes.
public struct HTTPMetricsMiddleware: Middleware {
    private let registry: PrometheusCollectorRegistry
    /// The counter and histogram of each route, method and status seen, so that a request
    /// touches its two series without spelling the route and looking the series up by name
    /// and labels in the registry (a few per cent of the server's CPU under issuance load).
    private let series = NIOLockedValueBox<[SeriesKey: Series]>([:])

    private struct SeriesKey: Hashable {
        let route: ObjectIdentifier?
        let method: String
        let status: UInt
    }

    private struct Series {
        let requests: Counter
        let duration: DurationHistogram
    }

    /// Creates the middleware.
    /// - Parameter registry: the Prometheus registry `/metrics` exposes.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Counts and times each request by route, method and status.
    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let start = ContinuousClock.now
        return next.respond(to: request).map { response in
            let series = series(for: request, status: response.status.code)
            series.requests.increment()
            series.duration.record(ContinuousClock.now - start)
            return response
        }
    }

    private func series(for request: Request, status: UInt) -> Series {
        // A method NIO does not know is any token a client sends: one label for all of them keeps
        // the number of series bounded.
        let method: String
        if case .RAW = request.method { method = "other" } else { method = request.method.rawValue }
        let key = SeriesKey(route: request.route.map(ObjectIdentifier.init), method: method, status: status)
        return self.series.withLockedValue { known in
            if let found = known[key] { return found }
            // The route pattern, not the path, keeps the number of series bounded.
            let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
            let labels = [("method", key.method), ("route", route), ("status", String(status))]
            let made = Series(
                requests: registry.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "opencps", metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered"),
                    labels: labels),
                duration: registry.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(namespace: "opencps", metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer HTTP requests"),
                    labels: labels.dropLast().map { $0 },
                    buckets: Self.buckets))
            known[key] = made
            return made
        }
    }

    private static let buckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]
}
