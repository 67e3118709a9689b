import FluentKit
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
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
public final class OCSPListener: Sendable {
    private let service: OCSPHTTPHandler.Service
    private let threads: Int
    /// The channel listened on and the threads serving it, while listening.
    private let running = NIOLockedValueBox<(channel: any Channel, group: MultiThreadedEventLoopGroup)?>(nil)

    /// Creates the listener (not yet listening).
    /// - Parameters:
    ///   - pki: the responders and their kept answers.
    ///   - registry: the Prometheus registry `/metrics` exposes (kept answers are counted in
    ///     `opencps_ocsp_kept_answers_total`, as on the main server).
    ///   - database: the database a first answer reads the revocation state from.
    ///   - threads: how many threads serve the port (at least one).
    ///   - logger: where failures are logged.
    public init(
        pki: PKIService, registry: PrometheusCollectorRegistry, database: @escaping @Sendable () -> any Database,
        threads: Int = 1, logger: Logger
    ) {
        self.service = OCSPHTTPHandler.Service(pki: pki, registry: registry, database: database, logger: logger)
        self.threads = max(1, threads)
    }

    /// Starts listening.
    /// - Returns: the port listened on (useful with port 0).
    /// - Throws: when the address cannot be bound, or the listener already listens.
    @discardableResult
    public func start(host: String, port: Int) async throws -> Int {
        guard running.withLockedValue({ $0 }) == nil else {
            throw PKIError.invalidConfiguration("the OCSP listener is already listening")
        }
        let service = self.service
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Every header this listener writes is its own: constant names, and values
                    // that are constants, numbers, HTTP dates or hex; no byte of a request reaches
                    // one. NIO's check of outbound header bytes took a tenth of a GET's samples.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(OCSPHTTPHandler(service: service))
                }
            }
        let bound: any Channel
        do {
            bound = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        running.withLockedValue { $0 = (bound, group) }
        return bound.localAddress?.port ?? port
    }

    /// Stops listening and closes the connections still open.
    public func stop() async throws {
        guard let (bound, group) = running.withLockedValue({ current -> (any Channel, MultiThreadedEventLoopGroup)? in
            defer { current = nil }
            return current
        }) else { return }
        try? await bound.close()
        try await group.shutdownGracefully()
    }

    /// The port listened on, while listening.
    public var port: Int? { running.withLockedValue { $0?.channel.localAddress?.port } }
}

/// One connection's OCSP requests. SwiftNIO's pipelining handler gives it one request at a
/// time: the next is read only once this one's answer is written.
final class OCSPHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What every connection shares.
    struct Service: Sendable {
        let pki: PKIService
        let database: @Sendable () -> any Database
        let logger: Logger
        let kept: OCSPKeptAnswerCounters

        init(pki: PKIService, registry: PrometheusCollectorRegistry, database: @escaping @Sendable () -> any Database, logger: Logger) {
            self.pki = pki
            self.database = database
            self.logger = logger
            self.kept = OCSPKeptAnswerCounters(registry: registry)
        }
    }

    private let service: Service
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var oversized = false
    /// The `Date` header, computed once a second.
    private var date: (second: Int, text: String) = (0, "")

    init(service: Service) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            oversized = head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > PKIController.maximumOCSPRequestSize } ?? false
        case .body(var chunk):
            // The rest of an oversized body is read and dropped, so that the connection stays in step.
            guard !oversized else { return }
            if body.readableBytes + chunk.readableBytes > PKIController.maximumOCSPRequestSize {
                oversized = true
                body.clear()
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        // Byte-level string work throughout: Foundation's string methods cost more than the answer.
        let uri = head.uri
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
        guard let ocsp = OCSPPath(path) else {
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
            guard !oversized else {
                return problem(.payloadTooLarge, code: "http.413", detail: "an OCSP request is at most \(PKIController.maximumOCSPRequestSize) bytes", head: head, context: context)
            }
            guard Self.isOCSPRequestType(head.headers.first(name: "content-type")) else {
                return problem(.unsupportedMediaType, code: "ocsp.content-type", detail: "an OCSP request is sent as application/ocsp-request", head: head, context: context)
            }
            answer(slug: slug, der: Array(body.readableBytesView), cacheable: false, head: head, context: context)
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
            await service.pki.answerOCSP(slug: slug, request: der, on: service.database())
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

    private func problem(_ problem: Problem, headers: HTTPHeaders = HTTPHeaders(), head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = headers
        headers.add(name: "content-type", value: "application/problem+json; charset=utf-8")
        let document = (try? JSONEncoder().encode(problem)) ?? Data()
        write(HTTPResponseStatus(statusCode: problem.status), headers: headers, body: ByteBuffer(bytes: document), head: head, context: context)
    }

    private func write(_ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = headers
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "date", value: currentDate())
        // An oversized body was not kept: the connection ends with its refusal.
        let keepAlive = head.isKeepAlive && !oversized
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func currentDate() -> String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        if second != date.second { date = (second, PKIController.httpDate(now)) }
        return date.text
    }
}
