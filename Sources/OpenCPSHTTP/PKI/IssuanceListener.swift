// Hand-written on purpose: serves POST /api/v1/certificates on SwiftNIO's HTTP/1.1 codec (LeanHTTPServer), on a
// port of its own, instead of through Vapor's request object and response pipeline.
// Why: a profile of the main port put a fifth of issuance's samples in those. Alternated pairs (2026-12-03): main port
// 2,818 / 2,841 / 2,855 certificates/s at 0.557 / 0.549 / 0.546 ms of server CPU each, this port 3,130 / 3,654 /
// 3,491 at 0.450 / 0.421 / 0.438 ms. Full run (629ed0f): this port a median 104 % of cfssl serve (the aim), main 93 %.
// Benchmark: `bash Benchmarks/pki/run.sh --rounds 5 --duration 15`, docs/benchmarks.md "PKI: OCSP and issuance
// beside cfssl and OpenSSL (issue 3)" and "Appendix: what made the difference".

import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenCPSDomain
import OpenCPSServices

/// A listener of its own for issuance: the same `POST /api/v1/certificates` as the main server,
/// with the same operator tokens, checks, answers and problem documents, on a port that serves
/// nothing else.
///
/// Issuance is the certificate authority's hot path when cards are produced in bulk, and its
/// callers are few and known (the card production, registration authorities): a port of their
/// own keeps it off the public address, and skips Vapor's request object and response pipeline,
/// which cost about a fifth of the CPU of each certificate issued on the main server (0.55
/// against 0.44 ms in alternated loops). The certificate is stored and audited before its answer,
/// exactly as on the main server (``CertificateIssuanceEndpoint``).
///
/// Started by `opencps serve` when `OPENCPS_ISSUANCE_PORT` (or `--issuance-port`) is set.
public final class IssuanceListener: DedicatedListener, @unchecked Sendable {
    /// The largest issuance request read, in bytes: a CSR with an RSA-4096 key and every field
    /// fits in a tenth of it.
    public static let maximumRequestSize = 64 * 1024

    /// Creates the listener (not yet listening).
    /// - Parameters:
    ///   - pki: the issuing CAs.
    ///   - tokens: the operators allowed to issue, by bearer token (as on the main server).
    ///   - registry: where the holder of a certificate to issue is looked up.
    ///   - clock: the clock that dates certificates.
    ///   - threads: how many threads read and answer requests (at least one; signing and
    ///     recording run off them).
    ///   - failures: where refused tokens go for the audit log, as on the main server.
    ///   - logger: where failures are logged.
    public init(
        pki: PKIService, registry: RegistryService, tokens: OperatorTokens, clock: any WallClock,
        threads: Int = 1, failures: FailedAuthentications? = nil, logger: Logger
    ) {
        let service = IssuanceHTTPHandler.Service(
            endpoint: CertificateIssuanceEndpoint(pki: pki, registry: registry, clock: clock), tokens: tokens, failures: failures, logger: logger)
        super.init(server: LeanHTTPServer(name: "the issuance listener", threads: threads) { IssuanceHTTPHandler(service: service) })
    }
}

/// One connection's issuance requests, one at a time.
final class IssuanceHTTPHandler: LeanHTTPHandler {
    /// What every connection shares.
    struct Service: Sendable {
        let endpoint: CertificateIssuanceEndpoint
        let tokens: OperatorTokens
        let failures: FailedAuthentications?
        let logger: Logger
    }

    private static let path = "/api/v1/certificates"
    private let service: Service

    init(service: Service) {
        self.service = service
        super.init(maximumBodySize: IssuanceListener.maximumRequestSize)
    }

    override func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard LeanHTTPRequestReader.path(of: head) == Self.path else {
            return problem(Problem(status: .notFound, code: "route.not-found", detail: "this listener issues certificates only: POST \(Self.path)"),
                           head: head, context: context)
        }
        guard head.method == .POST else {
            var headers = HTTPHeaders()
            headers.add(name: "allow", value: "POST")
            return problem(Problem(status: .methodNotAllowed, code: "http.405", detail: "certificates are issued with POST \(Self.path)"),
                           headers: headers, head: head, context: context)
        }
        // The main server's order: the operator first, then the body.
        let actor: String
        switch OperatorAuthentication.operatorName(authorization: head.headers.first(name: "authorization"), tokens: service.tokens, roles: [.issuance]) {
        case .success(let name): actor = OperatorAuthentication.auditActor(operatorName: name)
        case .failure(let refusal):
            if let failures = service.failures, let kind = FailedAuthenticationMiddleware.kinds[refusal.code] {
                let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
                Task { await failures.record(kind: kind, address: address) }
            }
            return problem(refusal, head: head, context: context)
        }
        guard !reader.oversized else {
            return problem(Problem(status: .payloadTooLarge, code: "http.413", detail: "an issuance request is at most \(IssuanceListener.maximumRequestSize) bytes"),
                           head: head, context: context)
        }
        guard let contentType = head.headers.first(name: "content-type"), JSONContent.isJSON(contentType) else {
            return problem(JSONContent.notJSON, head: head, context: context)
        }
        guard reader.body.readableBytes > 0 else {
            return problem(JSONContent.noBody, head: head, context: context)
        }
        let body = Array(reader.body.readableBytesView)
        let service = self.service
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            try await service.endpoint.issue(body: body, actor: actor)
        }.whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let answer):
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/json; charset=utf-8")
                headers.add(name: "location", value: answer.location)
                handler.write(.created, headers: headers, body: ByteBuffer(bytes: answer.json), head: head, context: context)
            case .failure(let error):
                let problem = ProblemMiddleware.problem(for: error)
                if problem.status >= 500 {
                    service.logger.error("issuance failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                handler.problem(problem, head: head, context: context)
            }
        }
    }
}
