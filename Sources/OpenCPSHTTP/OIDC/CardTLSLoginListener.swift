// A listener of its own, not a route of the main server: the card login by mutual TLS needs the TLS handshake to ask
// for a client certificate, and the main server may sit behind a proxy that terminates TLS (or serve plain HTTP on
// 127.0.0.1). Vapor's request object does not carry the peer's certificate, so this port runs on LeanHTTPServer
// (SwiftNIO's HTTP/1.1 codec) with swift-nio-ssl in front; it serves one endpoint.

import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// Card login by mutual TLS (issue 23, item 2): `GET /oidc/authorize` with the authorization
/// request's usual parameters, over a TLS connection on which the user agent presented the
/// card's **authentication** certificate and proved possession of its key (the handshake's
/// CertificateVerify, made by the card after its PIN). A browser with the card's PKCS #11
/// module, or `curl --cert auth.pem --key key.pem`, logs in with it.
///
/// The handshake accepts any client certificate: the decision is ``OIDCCardCheck``'s, the same
/// fail-closed check as the challenge login (our issuing CAs, the very certificate stored under
/// its serial, its status, the card's state), made on every login after the handshake, so that
/// a refusal is an answer the user can read (`oidc.card.untrusted-certificate`,
/// `oidc.card.certificate-revoked`...) instead of a TLS alert. The answer is the same as the
/// challenge login's: the SSO session's cookie and a redirect (302) to the service's redirect
/// URI with `code`, `state` and `iss`; the ID token's `amr` is `["mtls", "card", "hwk"]`.
///
/// Started by `opencps serve` when `OPENCPS_OIDC_MTLS_PORT` is set (see docs/operations.md).
public final class CardTLSLoginListener: DedicatedListener, @unchecked Sendable {
    /// Creates the listener (not yet listening).
    /// - Parameters:
    ///   - provider: the OpenID Connect provider that decides and completes the login.
    ///   - certificateChainPEM: the listener's own certificate chain (PEM), leaf first.
    ///   - privateKeyPEM: the listener's private key (PEM).
    ///   - clientCAs: the CA certificates (PEM) named in the handshake's certificate request, so
    ///     that a browser offers the card's certificate; they decide nothing.
    ///   - logger: where failures are logged.
    /// - Throws: when the certificate or the key cannot be read.
    public init(provider: OIDCProvider, certificateChainPEM: String, privateKeyPEM: String, clientCAs: [String], logger: Logger) throws {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificateChainPEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)))
        // Asked for, not required: without one the answer says what is missing.
        configuration.certificateVerification = .optionalVerification
        configuration.trustRoots = .certificates(try clientCAs.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) })
        configuration.sendCANameList = true
        configuration.minimumTLSVersion = .tlsv12
        let tls = TLSTermination(context: try NIOSSLContext(configuration: configuration), verification: { _ in .certificateVerified })
        let service = CardTLSLoginHandler.Service(provider: provider, logger: logger)
        super.init(server: LeanHTTPServer(name: "the mutual TLS login listener", threads: 1, tls: tls) { CardTLSLoginHandler(service: service) })
    }
}

/// One connection's login requests.
final class CardTLSLoginHandler: LeanHTTPHandler {
    /// What every connection shares.
    struct Service: Sendable {
        let provider: OIDCProvider
        let logger: Logger
    }

    private static let path = "/oidc/authorize"
    private let service: Service

    init(service: Service) {
        self.service = service
        super.init(maximumBodySize: 0)
    }

    override func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard LeanHTTPRequestReader.path(of: head) == Self.path else {
            return problem(Problem(status: .notFound, code: "route.not-found", detail: "this listener logs cards in only: GET \(Self.path)"),
                           head: head, context: context)
        }
        guard head.method == .GET else {
            var headers = HTTPHeaders()
            headers.add(name: "allow", value: "GET")
            return problem(Problem(status: .methodNotAllowed, code: "http.405", detail: "a card logs in with GET \(Self.path)"),
                           headers: headers, head: head, context: context)
        }
        let certificate = (try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self))?.peerCertificate
        let der = try? certificate?.toDERBytes()
        let parameters = Self.parameters(head.uri)
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let service = self.service
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            try await service.provider.authorization.completeTLSLogin(parameters, certificate: der, address: address)
        }.whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let (session, redirect)):
                var headers = HTTPHeaders()
                headers.add(name: "location", value: redirect)
                headers.add(name: "cache-control", value: "no-store")
                let cookie = HTTPCookies.Value(
                    string: session.id, expires: session.expiresAt, path: "/oidc", isSecure: true, isHTTPOnly: true, sameSite: .lax)
                headers.add(name: "set-cookie", value: cookie.serialize(name: OIDCController.cookie))
                handler.write(.found, headers: headers, body: ByteBuffer(), head: head, context: context)
            case .failure(let error):
                if let (status, headers, body) = OIDCController.oauthRefusal(error) {
                    return handler.write(status, headers: headers, body: ByteBuffer(bytes: body), head: head, context: context)
                }
                let problem = ProblemMiddleware.problem(for: error)
                if problem.status >= 500 {
                    service.logger.error("mutual TLS login failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                handler.problem(problem, head: head, context: context)
            }
        }
    }

    /// The authorization request's parameters from the query.
    static func parameters(_ uri: String) -> OIDCAuthorizeParameters {
        let items = URLComponents(string: uri)?.queryItems ?? []
        func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
        return OIDCAuthorizeParameters(
            responseType: value("response_type"), clientID: value("client_id"), redirectURI: value("redirect_uri"), scope: value("scope"),
            state: value("state"), nonce: value("nonce"), codeChallenge: value("code_challenge"),
            codeChallengeMethod: value("code_challenge_method"), prompt: value("prompt"))
    }
}
