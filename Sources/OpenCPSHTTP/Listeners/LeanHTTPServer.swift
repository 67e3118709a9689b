// Hand-written on purpose: a small HTTP/1.1 server on SwiftNIO's codec beside Vapor's, the plumbing of OCSPListener
// and IssuanceListener, so that their requests skip Vapor's request object and response pipeline.
// Why: in the same run (2026-12-03 20:00, binary of 629ed0f) the OCSP listener answered POST 22,590/s at p99 4.35 ms,
// the main port 11,912/s at p99 7.50 ms; the issuance port took server CPU per certificate from 0.546–0.557 to
// 0.421–0.450 ms (alternated pairs, 2026-12-03). Each listener's header gives its own figures.
// Benchmark: `bash Benchmarks/pki/run.sh --rounds 5 --duration 15`, docs/benchmarks.md "PKI: OCSP and issuance
// beside cfssl and OpenSSL (issue 3)" and "Appendix: what made the difference".

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OpenCPSPKI

/// A port of its own for a few endpoints, served without Vapor: ``OCSPListener`` and
/// ``IssuanceListener`` say which endpoints; this class starts, stops and names the port.
public class DedicatedListener: @unchecked Sendable {
    // @unchecked: its one stored property is a constant of a Sendable type; the class is open
    // to subclassing only so that each listener names its endpoints in its initialiser.
    let server: LeanHTTPServer

    init(server: LeanHTTPServer) {
        self.server = server
    }

    /// Starts listening.
    /// - Returns: the port listened on (useful with port 0).
    /// - Throws: when the address cannot be bound, or the listener already listens.
    @discardableResult
    public func start(host: String, port: Int) async throws -> Int {
        try await server.start(host: host, port: port)
    }

    /// Stops listening and closes the connections still open.
    public func stop() async throws {
        try await server.stop()
    }

    /// The port listened on, while listening.
    public var port: Int? { server.port }
}

/// A small HTTP/1.1 server on SwiftNIO's codec and threads of its own, for the few endpoints
/// that skip Vapor's request and response objects (``OCSPListener``, ``IssuanceListener``).
///
/// Each connection gets a handler from `makeHandler`; SwiftNIO's pipelining handler gives it one
/// request at a time. On the main server every request pays for Vapor's request object (a
/// request id, a logger, URL parsing through Foundation) and its response pipeline: measured
/// under load, 85 µs of CPU per OCSP answer and 0.1 ms per certificate issued.
final class LeanHTTPServer: Sendable {
    private let name: String
    private let threads: Int
    private let limits: ListenerLimits
    private let tls: TLSTermination?
    private let makeHandler: @Sendable () -> any ChannelHandler
    /// The connections open now.
    private let openConnections = NIOLockedValueBox(0)
    /// The channel listened on and the threads serving it, while listening.
    private let running = NIOLockedValueBox<(channel: any Channel, group: MultiThreadedEventLoopGroup)?>(nil)

    /// Creates the server (not yet listening).
    /// - Parameters:
    ///   - name: how errors name it (`the OCSP listener`).
    ///   - threads: how many threads serve the port (at least one).
    ///   - tls: TLS in front of HTTP, for a listener that must see its clients' certificates
    ///     (``CardTLSLoginListener``); nil for plain HTTP.
    ///   - makeHandler: a connection's handler, after SwiftNIO's HTTP/1.1 server pipeline.
    init(
        name: String, threads: Int, limits: ListenerLimits = ListenerLimits(), tls: TLSTermination? = nil,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) {
        self.name = name
        self.threads = max(1, threads)
        self.limits = limits
        self.tls = tls
        self.makeHandler = makeHandler
    }

    /// Starts listening.
    /// - Returns: the port listened on (useful with port 0).
    /// - Throws: when the address cannot be bound, or the server already listens.
    func start(host: String, port: Int) async throws -> Int {
        guard running.withLockedValue({ $0 }) == nil else {
            throw PKIError.invalidConfiguration("\(name) is already listening")
        }
        let makeHandler = self.makeHandler
        let limits = self.limits
        let tls = self.tls
        let openConnections = self.openConnections
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Past the cap a connection is closed as it arrives, so that idle or slow clients
                // cannot hold every descriptor of the process (and OCSP with it).
                let admitted = openConnections.withLockedValue { count -> Bool in
                    guard count < limits.maximumConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in openConnections.withLockedValue { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    // The idle event reaches the connection's handler, which closes only a connection
                    // with no request being answered (LeanHTTPHandler.userInboundEventTriggered).
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: limits.idleTimeout))
                    if let tls { try channel.pipeline.syncOperations.addHandler(tls.handler()) }
                    // Every header these servers write is their own: constant names, and values
                    // that are constants, numbers, HTTP dates, hex or paths they built; no byte of a
                    // request reaches one. NIO's check of outbound header bytes took a tenth of an
                    // OCSP GET's samples.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
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
    func stop() async throws {
        guard let (bound, group) = running.withLockedValue({ current -> (any Channel, MultiThreadedEventLoopGroup)? in
            defer { current = nil }
            return current
        }) else { return }
        try? await bound.close()
        try await group.shutdownGracefully()
    }

    /// The port listened on, while listening.
    var port: Int? { running.withLockedValue { $0?.channel.localAddress?.port } }
}

/// TLS in front of a ``LeanHTTPServer``: the server's certificate and key, and what it does
/// with the client's certificate.
struct TLSTermination: Sendable {
    /// The context every connection's TLS handler is made from.
    let context: NIOSSLContext
    /// Decides on the client's certificate chain during the handshake; nil for NIOSSL's own
    /// verification against the context's trust roots.
    let verification: (@Sendable ([NIOSSLCertificate]) -> NIOSSLVerificationResult)?

    /// A connection's TLS handler.
    func handler() -> NIOSSLServerHandler {
        guard let verification else { return NIOSSLServerHandler(context: context) }
        return NIOSSLServerHandler(context: context, customVerificationCallback: { chain, promise in
            promise.succeed(verification(chain))
        })
    }
}

/// The limits of a dedicated listener's connections; the defaults are OpenCPS's choices.
public struct ListenerLimits: Sendable {
    /// A connection that neither reads nor writes for this long is closed (30 s).
    public var idleTimeout: TimeAmount
    /// The most connections open at once; past it, a new one is closed as it arrives (10,000).
    public var maximumConnections: Int

    /// Creates limits.
    public init(idleTimeout: TimeAmount = .seconds(30), maximumConnections: Int = 10_000) {
        self.idleTimeout = idleTimeout
        self.maximumConnections = maximumConnections
    }
}

/// A connection's handler on a ``LeanHTTPServer``: reads each request whole (its body capped),
/// hands it to ``respond(to:context:)``, which a listener's handler overrides, and writes the
/// answers. SwiftNIO's pipelining handler gives it one request at a time: the next is read only
/// once this one's answer is written.
class LeanHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The request being read.
    private(set) var reader: LeanHTTPRequestReader
    private var writer = LeanHTTPResponseWriter()

    /// Creates a handler that keeps request bodies of at most `maximumBodySize` bytes.
    init(maximumBodySize: Int) {
        reader = LeanHTTPRequestReader(maximumBodySize: maximumBodySize)
    }

    /// Whether a request has been read and its answer not written yet.
    private var answering = false
    /// The idle timeouts passed while the request was being answered.
    private var idleWhileAnswering = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let head = reader.read(unwrapInboundIn(data)) {
            answering = true
            respond(to: head, context: context)
        }
    }

    /// Closes the connection when it has been idle (no byte read or written for the limits'
    /// idle timeout), unless a request is being answered: a slow answer (a loaded machine, a
    /// database waiting for its lock) gets three more timeouts before it is cut off with an
    /// empty reply.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else { return context.fireUserInboundEventTriggered(event) }
        if answering, idleWhileAnswering < 3 {
            idleWhileAnswering += 1
        } else {
            context.close(promise: nil)
        }
    }

    /// Answers a request whose head, and body (``reader``), have been read; a listener's handler
    /// overrides it. This one serves nothing.
    func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        problem(Problem(status: .notFound, code: "route.not-found", detail: "this port serves nothing at \(LeanHTTPRequestReader.path(of: head))"),
                head: head, context: context)
    }

    /// Writes an answer; the connection ends with it after an oversized body, which was not kept.
    func write(_ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, head: HTTPRequestHead, context: ChannelHandlerContext) {
        (answering, idleWhileAnswering) = (false, 0)
        writer.write(status, headers: headers, body: body, head: head, closing: reader.oversized, context: context)
    }

    /// Writes a problem document, as ``write(_:headers:body:head:context:)`` writes an answer.
    func problem(_ problem: Problem, headers: HTTPHeaders = HTTPHeaders(), head: HTTPRequestHead, context: ChannelHandlerContext) {
        (answering, idleWhileAnswering) = (false, 0)
        writer.problem(problem, headers: headers, head: head, closing: reader.oversized, context: context)
    }
}

/// One request as SwiftNIO's codec hands it over in parts: its head, and its body up to a
/// size; the rest of a longer body is read and dropped, so that the connection stays in step.
struct LeanHTTPRequestReader {
    /// The largest body kept, in bytes.
    let maximumBodySize: Int
    private var head: HTTPRequestHead?
    /// The body read so far (empty once it proved oversized).
    private(set) var body = ByteBuffer()
    /// Whether the body is (or announced itself) longer than ``maximumBodySize``.
    private(set) var oversized = false

    /// Creates a reader that keeps bodies of at most `maximumBodySize` bytes.
    init(maximumBodySize: Int) {
        self.maximumBodySize = maximumBodySize
    }

    /// Takes one part; returns the request's head once its end has arrived.
    mutating func read(_ part: HTTPServerRequestPart) -> HTTPRequestHead? {
        switch part {
        case .head(let head):
            self.head = head
            body.clear()
            oversized = head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > maximumBodySize } ?? false
            return nil
        case .body(var chunk):
            guard !oversized else { return nil }
            if body.readableBytes + chunk.readableBytes > maximumBodySize {
                oversized = true
                body.clear()
            } else {
                body.writeBuffer(&chunk)
            }
            return nil
        case .end:
            defer { head = nil }
            return head
        }
    }

    /// The request's path: its URI up to the query.
    static func path(of head: HTTPRequestHead) -> Substring {
        // Byte-level string work: Foundation's string methods cost more than an OCSP answer.
        let uri = head.uri
        return uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
    }
}

/// Writes a connection's answers as the main server does: `Content-Length`, a `Date` computed
/// once a second, RFC 9457 problem documents, and `Connection: close` when the request asked
/// for it or its body was too long to keep the connection in step.
struct LeanHTTPResponseWriter {
    /// The `Date` header, computed once a second.
    private var date: (second: Int, text: String) = (0, "")

    /// Writes an answer.
    /// - Parameter closing: whether the connection ends after it, whatever the request asked.
    mutating func write(
        _ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, head: HTTPRequestHead, closing: Bool = false,
        context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "date", value: currentDate())
        let keepAlive = head.isKeepAlive && !closing
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Writes an RFC 9457 problem document, as the main server's ``ProblemMiddleware`` does.
    mutating func problem(
        _ problem: Problem, headers: HTTPHeaders = HTTPHeaders(), head: HTTPRequestHead, closing: Bool = false,
        context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.add(name: "content-type", value: "application/problem+json; charset=utf-8")
        let document = (try? JSONEncoder().encode(problem)) ?? Data(#"{"title":"Internal Server Error","status":500}"#.utf8)
        write(HTTPResponseStatus(statusCode: problem.status), headers: headers, body: ByteBuffer(bytes: document), head: head,
              closing: closing, context: context)
    }

    private mutating func currentDate() -> String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        if second != date.second { date = (second, PKIController.httpDate(now)) }
        return date.text
    }
}
