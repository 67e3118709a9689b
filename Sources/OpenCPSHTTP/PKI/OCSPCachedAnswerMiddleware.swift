import OpenCPSPKI
import OpenCPSServices
import Prometheus
import Vapor

/// Answers OCSP questions asked again (the RFC 5019 pattern: the same request, without
/// nonce, from every relying party) from the responder's kept answers, before the rest of
/// the middleware chain runs: no request id, no per-route metrics, no route handler.
///
/// Everything else — a first question, a nonce, a malformed or oversized request, another
/// content type — goes down the chain to ``PKIController``, which answers it and keeps the
/// answer. Revocation drops kept answers before it returns, so this path never answers
/// with a stale status. Answers given here are counted in `opencps_ocsp_kept_answers_total`.
public struct OCSPCachedAnswerMiddleware: AsyncMiddleware {
    private let pki: PKIService
    private let answeredGET: Counter
    private let answeredPOST: Counter

    /// Creates the middleware.
    /// - Parameters:
    ///   - pki: the responders and their kept answers.
    ///   - registry: the Prometheus registry `/metrics` exposes.
    public init(pki: PKIService, registry: PrometheusCollectorRegistry) {
        self.pki = pki
        let descriptor = MetricNameDescriptor(
            namespace: "opencps", metricName: "ocsp_kept_answers", unitName: "total",
            helpText: "OCSP requests answered from kept answers, before the middleware chain")
        answeredGET = registry.makeCounter(descriptor: descriptor, labels: [("method", "GET")])
        answeredPOST = registry.makeCounter(descriptor: descriptor, labels: [("method", "POST")])
    }

    /// Answers from the kept answers when it can, else passes the request on.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let path = request.url.path
        guard path.hasPrefix("/ocsp/") else { return try await next.respond(to: request) }
        let rest = path.dropFirst("/ocsp/".count)
        switch request.method {
        case .GET:
            // `/ocsp/<slug>/<base64 request>`: the request may itself hold '/'.
            guard let slash = rest.firstIndex(of: "/"),
                  let der = OCSPRequest.derFromGETPathComponent(String(rest[rest.index(after: slash)...])),
                  let kept = pki.cachedOCSPAnswer(slug: String(rest[..<slash]), request: der) else { break }
            answeredGET.increment()
            return PKIController.response(to: kept, cacheable: true, httpMaxAge: pki.publishing.httpMaxAge)
        case .POST:
            guard !rest.contains("/"), request.headers.first(name: .contentType) == "application/ocsp-request",
                  let length = request.headers.first(name: .contentLength).flatMap(Int.init),
                  length <= PKIController.maximumOCSPRequestSize else { break }
            // Collected here, the body is what the route handler reads if the answer is not kept.
            guard let body = try? await request.body.collect(max: PKIController.maximumOCSPRequestSize).get(),
                  let kept = pki.cachedOCSPAnswer(slug: String(rest), request: Array(body.readableBytesView)) else { break }
            answeredPOST.increment()
            return PKIController.response(to: kept, cacheable: false, httpMaxAge: pki.publishing.httpMaxAge)
        default:
            break
        }
        return try await next.respond(to: request)
    }
}
