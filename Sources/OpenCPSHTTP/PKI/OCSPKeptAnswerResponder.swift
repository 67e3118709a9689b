import OpenCPSPKI
import OpenCPSServices
import Prometheus
import Vapor

/// Answers OCSP questions asked again (the RFC 5019 pattern: the same request, without
/// nonce, from every relying party) from the responder's kept answers, in front of the
/// application's responder: no routing, no middleware, no route handler.
///
/// It is the server's responder (installed with `app.responder.use`), wrapping Vapor's own:
/// on two cores, the router's work on the long GET path (splitting it, percent-decoding
/// each piece, walking the trie) and the hop of an async middleware to a task and back cost
/// more than the answer itself. A kept answer is given on the connection's event loop.
///
/// Everything else — a first question, a nonce, a malformed or oversized request, another
/// content type, any other path — goes to the wrapped responder (routing, middleware and
/// ``PKIController``, which answers and keeps the answer). Revocation drops kept answers
/// before it returns, so this path never answers with a stale status. Answers given here
/// are counted in `opencps_ocsp_kept_answers_total`.
public struct OCSPKeptAnswerResponder: Responder {
    private let pki: PKIService
    private let next: any Responder
    private let counters: OCSPKeptAnswerCounters

    /// Creates the responder.
    /// - Parameters:
    ///   - pki: the responders and their kept answers.
    ///   - registry: the Prometheus registry `/metrics` exposes.
    ///   - next: the responder for everything else (the application's default).
    public init(pki: PKIService, registry: PrometheusCollectorRegistry, next: any Responder) {
        self.pki = pki
        self.next = next
        self.counters = OCSPKeptAnswerCounters(registry: registry)
    }

    /// Answers from the kept answers when it can, else passes the request on.
    public func respond(to request: Request) -> EventLoopFuture<Response> {
        switch request.method {
        case .GET:
            guard let ocsp = OCSPPath(request.url.path[...]), let encoded = ocsp.encodedRequest,
                  let der = OCSPRequest.derFromGETPathComponent(encoded),
                  let kept = pki.cachedOCSPAnswer(slug: ocsp.slug, request: der) else { break }
            counters.get.increment()
            return request.eventLoop.makeSucceededFuture(
                PKIController.response(to: kept, cacheable: true, httpMaxAge: pki.publishing.httpMaxAge))
        case .POST:
            guard request.headers.first(name: .contentType) == "application/ocsp-request",
                  let length = request.headers.first(name: .contentLength).flatMap(Int.init),
                  length <= PKIController.maximumOCSPRequestSize else { break }
            guard let ocsp = OCSPPath(request.url.path[...]), ocsp.encodedRequest == nil else { break }
            let slug = ocsp.slug
            // Collected here, the body is what the route handler reads if the answer is not kept;
            // a body that cannot be collected is the route handler's to refuse.
            return request.body.collect(max: PKIController.maximumOCSPRequestSize)
                .map { Optional($0) }
                .recover { _ in nil }
                .flatMap { body in
                    guard let body = body ?? nil,
                          let kept = pki.cachedOCSPAnswer(slug: slug, request: Array(body.readableBytesView)) else {
                        return next.respond(to: request)
                    }
                    counters.post.increment()
                    return request.eventLoop.makeSucceededFuture(
                        PKIController.response(to: kept, cacheable: false, httpMaxAge: pki.publishing.httpMaxAge))
                }
        default:
            break
        }
        return next.respond(to: request)
    }
}

/// `opencps_ocsp_kept_answers_total{method}`: OCSP questions answered from kept answers, on the
/// main port and on the OCSP listener alike.
struct OCSPKeptAnswerCounters: Sendable {
    /// Answers to GET.
    let get: Counter
    /// Answers to POST.
    let post: Counter

    init(registry: PrometheusCollectorRegistry) {
        let descriptor = MetricNameDescriptor(
            namespace: "opencps", metricName: "ocsp_kept_answers", unitName: "total",
            helpText: "OCSP requests answered from kept answers, before routing and middleware")
        get = registry.makeCounter(descriptor: descriptor, labels: [("method", "GET")])
        post = registry.makeCounter(descriptor: descriptor, labels: [("method", "POST")])
    }
}
