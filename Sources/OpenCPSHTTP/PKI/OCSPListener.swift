// Hand-written on purpose: serves OCSP on SwiftNIO's HTTP/1.1 codec (LeanHTTPServer), on a port and thread of its
// own, instead of through Vapor's router, request object and response pipeline.
// Why: issue 3's aim is 1.5 times cfssl ocspserve's POST rate with p99 under 5 ms. In the same run (2026-12-03 20:00,
// binary of 629ed0f) this listener answered POST 22,590/s (p99 4.35 ms) and GET 21,638/s (p99 4.07 ms), the main
// port 11,912/s (p99 7.50 ms) and 11,424/s (p99 7.30 ms), cfssl ocspserve 6,031/s.
// Benchmark: `bash Benchmarks/pki/run.sh --only ocsp`, docs/benchmarks.md "PKI: OCSP and issuance beside cfssl and
// OpenSSL (issue 3)".

import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenCPSPKI
import OpenCPSServices
import Prometheus

/// A listener of its own for the OCSP responder: the same `POST /ocsp/<slug>` and
/// `GET /ocsp/<slug>/<base64 request>` as the main server, with the same answers, headers and
/// errors, on a port that serves nothing else.
///
/// OCSP is the busiest endpoint of a PKI (every relying party asks, again and again) and the
/// simplest. On the main server every question pays for Vapor's request object (a request id,
/// a logger, URL parsing) and response pipeline; here it is parsed by SwiftNIO's HTTP/1.1
/// codec and answered by one handler, on the connection's event loop when a kept answer
/// exists (the RFC 5019 pattern), through ``PKIService/answerOCSP(slug:request:on:)``
/// otherwise. Revocation drops kept answers for both listeners at once: they share the
/// ``PKIService``.
///
/// It serves on threads of its own (one by default: on two cores, one thread answered
/// 15,900–22,500 kept answers a second with a p99 of 3–3.6 ms, where two threads answered more but
/// with a tail near 5 ms, the server and its clients then competing for both cores) and shares
/// the application's database. Started by `opencps serve` when `OPENCPS_OCSP_PORT` (or
/// `--ocsp-port`) is set; a reverse proxy can route the OCSP URL the certificates name to it.
public final class OCSPListener: DedicatedListener, @unchecked Sendable {
    /// Creates the listener (not yet listening).
    /// - Parameters:
    ///   - pki: the responders and their kept answers.
    ///   - registry: the Prometheus registry `/metrics` exposes (kept answers are counted in
    ///     `opencps_ocsp_kept_answers_total`, as on the main server).
    ///   - threads: how many threads serve the port (at least one).
    ///   - limits: idle timeout and connection cap.
    ///   - logger: where failures are logged.
    public init(
        pki: PKIService, registry: PrometheusCollectorRegistry, threads: Int = 1, limits: ListenerLimits = ListenerLimits(),
        logger: Logger
    ) {
        let service = OCSPHTTPHandler.Service(pki: pki, registry: registry, logger: logger)
        super.init(server: LeanHTTPServer(name: "the OCSP listener", threads: threads, limits: limits) { OCSPHTTPHandler(service: service) })
    }
}

/// One connection's OCSP requests, one at a time.
final class OCSPHTTPHandler: LeanHTTPHandler {
    /// What every connection shares.
    struct Service: Sendable {
        let pki: PKIService
        let logger: Logger
        let kept: OCSPKeptAnswerCounters

        init(pki: PKIService, registry: PrometheusCollectorRegistry, logger: Logger) {
            self.pki = pki
            self.logger = logger
            self.kept = OCSPKeptAnswerCounters(registry: registry)
        }
    }

    private let service: Service

    init(service: Service) {
        self.service = service
        super.init(maximumBodySize: PKIController.maximumOCSPRequestSize)
    }

    override func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let ocsp = OCSPPath(LeanHTTPRequestReader.path(of: head)) else {
            return problem(.notFound, code: "route.not-found", detail: "this listener answers OCSP only, at /ocsp/<ca>", head: head, context: context)
        }
        switch head.method {
        case .GET:
            guard let encoded = ocsp.encodedRequest else {
                return problem(.notFound, code: "route.not-found", detail: "an OCSP GET is /ocsp/<ca>/<base64 request>", head: head, context: context)
            }
            let der = OCSPRequest.derFromGETPathComponent(encoded) ?? []
            answer(slug: ocsp.slug, der: der, cacheable: true, head: head, context: context)
        case .POST:
            let slug = ocsp.slug
            guard ocsp.encodedRequest == nil else {
                return problem(.notFound, code: "route.not-found", detail: "an OCSP POST is /ocsp/<ca>", head: head, context: context)
            }
            guard !reader.oversized else {
                return problem(.payloadTooLarge, code: "http.413", detail: "an OCSP request is at most \(PKIController.maximumOCSPRequestSize) bytes", head: head, context: context)
            }
            guard Self.isOCSPRequestType(head.headers.first(name: "content-type")) else {
                return problem(.unsupportedMediaType, code: "ocsp.content-type", detail: "an OCSP request is sent as application/ocsp-request", head: head, context: context)
            }
            answer(slug: slug, der: Array(reader.body.readableBytesView), cacheable: false, head: head, context: context)
        default:
            var headers = HTTPHeaders()
            headers.add(name: "allow", value: "GET, POST")
            problem(.methodNotAllowed, code: "http.405", detail: "OCSP is asked with GET or POST", headers: headers, head: head, context: context)
        }
    }

    /// Whether a `Content-Type` is `application/ocsp-request` (any case, parameters allowed).
    static func isOCSPRequestType(_ value: String?) -> Bool {
        guard let value else { return false }
        let expected = "application/ocsp-request".utf8
        var bytes = value.utf8.drop { $0 == UInt8(ascii: " ") }[...]
        for byte in expected {
            guard let first = bytes.first,
                  (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) ? first + 32 == byte : first == byte else { return false }
            bytes = bytes.dropFirst()
        }
        return bytes.first.map { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: " ") } ?? true
    }

    /// Answers from the kept answers, else asks the responder (off the event loop).
    private func answer(slug: String, der: [UInt8], cacheable: Bool, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let service = self.service
        guard service.pki.servesOCSP(slug) else {
            return problem(PKIController.unknownResponder(slug), head: head, context: context)
        }
        let maxAge = service.pki.publishing.httpMaxAge
        if let kept = service.pki.cachedOCSPAnswer(slug: slug, request: der) {
            (cacheable ? service.kept.get : service.kept.post).increment()
            return write(.ok, headers: PKIController.ocspHeaders(for: kept, cacheable: cacheable, httpMaxAge: maxAge),
                         body: ByteBuffer(bytes: kept.der), head: head, context: context)
        }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            await service.pki.answerOCSP(slug: slug, request: der)
        }.whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let answer?):
                handler.write(.ok, headers: PKIController.ocspHeaders(for: answer, cacheable: cacheable, httpMaxAge: maxAge),
                              body: ByteBuffer(bytes: answer.der), head: head, context: context)
            case .success(nil):
                handler.problem(PKIController.unknownResponder(slug), head: head, context: context)
            case .failure(let error):
                service.logger.error("OCSP answer failed", metadata: ["error": "\(error)"])
                handler.problem(.internalServerError, code: "server.internal", detail: "an internal error occurred; it has been logged", head: head, context: context)
            }
        }
    }

    /// An RFC 9457 problem, as the main server writes it.
    private func problem(
        _ status: HTTPResponseStatus, code: String, detail: String, headers: HTTPHeaders = HTTPHeaders(),
        head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        problem(Problem(status: status, code: code, detail: detail), headers: headers, head: head, context: context)
    }
}
