import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSServices
import Testing
import Vapor

/// Card login by mutual TLS, driven by curl: the card's authentication certificate and key
/// (from its software token) complete an authorization request on the listener's own port; a
/// certificate from another CA, no certificate, and a suspended or revoked card are refused
/// with an answer that says why.
@Suite("OpenID Connect: card login by mutual TLS")
struct OIDCMutualTLSTests {
    /// The listener's certificate and key, and the card's, as files curl reads.
    struct Files {
        let folder: URL
        var serverCertificate: URL { folder.appendingPathComponent("server.pem") }
        var serverKey: URL { folder.appendingPathComponent("server-key.pem") }
        var cardCertificate: URL { folder.appendingPathComponent("card-auth.pem") }
        var cardKey: URL { folder.appendingPathComponent("card-key.pem") }

        /// A self-signed server certificate for 127.0.0.1 (openssl), and the card's authentication
        /// certificate and key taken from its token after the PIN.
        init(card: SigningHolder) throws {
            folder = try ExternalTool.temporaryFolder("oidc-mtls")
            let made = try ExternalTool.run("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", serverKey.path, "-out", serverCertificate.path,
            ])
            try #require(made.status == 0, "\(made.output)")
            try card.token.certificatePEM(.authentication).write(to: cardCertificate, atomically: true, encoding: .utf8)
            let key = try card.token.signingKey(.authentication, pin: card.pin).get()
            try key.pemForBenchmarkPeers().write(to: cardKey, atomically: true, encoding: .utf8)
        }
    }

    /// What curl saw: the status, the `Location` header and the body.
    struct Answer {
        var status: Int
        var location: String?
        var json: [String: Any]
    }

    /// An application with the médecin's active card, the test clients, and the listener on a
    /// free port of 127.0.0.1.
    private func withListener(_ body: (OIDCTestLogin, SigningHolder, CardAPI, Files, Int) async throws -> Void) async throws {
        try await Self.withListener(clock: FixedWallClock(Date()), body)
    }

    /// ``withListener(_:)`` for other suites, with the application's clock.
    static func withListener(clock: FixedWallClock, _ body: (OIDCTestLogin, SigningHolder, CardAPI, Files, Int) async throws -> Void) async throws {
        try await withConfiguredTestApp(
            clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [SigningHolder.idNat])
        ) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            let card = try await SigningHolder(api)
            let login = OIDCTestLogin(app: app)
            try await login.registerClients()
            let files = try Files(card: card)
            let listener = try CardTLSLoginListener(
                provider: try #require(app.oidcProvider),
                certificateChainPEM: try String(contentsOf: files.serverCertificate, encoding: .utf8),
                privateKeyPEM: try String(contentsOf: files.serverKey, encoding: .utf8),
                clientCAs: TestPKIMaterial.shared.hierarchy.issuingAuthorities.map { $0.ca.pem }, logger: app.logger)
            let port = try await listener.start(host: "127.0.0.1", port: 0)
            do {
                try await body(login, card, api, files, port)
            } catch {
                try await listener.stop()
                throw error
            }
            try await listener.stop()
        }
    }

    /// GETs the authorization URL with curl, with a client certificate and key or without.
    static func curl(port: Int, files: Files, certificate: URL?, key: URL?) async throws -> Answer {
        let bodyFile = files.folder.appendingPathComponent("body-\(UUID().uuidString)")
        var arguments = [
            "--silent", "--show-error", "--max-time", "30", "--cacert", files.serverCertificate.path, "--output", bodyFile.path,
            "--write-out", "%{http_code} %{redirect_url}",
        ]
        if let certificate, let key { arguments += ["--cert", certificate.path, "--key", key.path] }
        arguments.append("https://127.0.0.1:\(port)" + OIDCTestLogin.authorizeQuery())
        let captured = arguments
        // Off Swift's cooperative threads: the listener's login runs on them while curl waits.
        let result = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try ExternalTool.run("curl", captured) }) }
        }
        try #require(result.status == 0, "curl failed: \(result.output)")
        let words = result.output.split(separator: " ", maxSplits: 1).map(String.init)
        let body = (try? Data(contentsOf: bodyFile)) ?? Data()
        return Answer(
            status: Int(words.first ?? "") ?? 0, location: words.count > 1 ? words[1] : nil,
            json: (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:])
    }

    @Test("curl with the card's authentication certificate and key logs in: the code becomes tokens whose ID token says amr mtls")
    func login() async throws {
        try await withListener { login, card, _, files, port in
            let answer = try await Self.curl(port: port, files: files, certificate: files.cardCertificate, key: files.cardKey)
            #expect(answer.status == 302, "\(answer.json)")
            let location = try #require(answer.location.flatMap(URLComponents.init(string:)))
            #expect(location.host == "service.test")
            #expect(location.queryItems?.first { $0.name == "state" }?.value == "af0ifjsldkj")
            let code = try #require(location.queryItems?.first { $0.name == "code" }?.value)

            let tokens = try await login.tokens(code: code)
            #expect(tokens.status == .ok, "\(tokens.json)")
            let idToken = try #require(tokens.json["id_token"] as? String)
            let payload = try #require(Base64URL.decode(String(idToken.split(separator: ".")[1])))
            let claims = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
            #expect(claims["amr"] as? [String] == ["mtls", "card", "hwk"])
            #expect(claims["acr"] as? String == "eidas1")
            #expect((claims["sub"] as? String)?.hasSuffix(":\(SigningHolder.idNat)") == true)
            #expect(try await login.isActive(try #require(tokens.json["access_token"] as? String)))
            _ = card
        }
    }

    @Test("a certificate from another CA, or none, does not log in, and the answer says why")
    func strangerAndNone() async throws {
        try await withListener { _, _, _, files, port in
            let stranger = try OIDCStrangerCertificate()
            let refused = try await Self.curl(port: port, files: files, certificate: stranger.certificateFile, key: stranger.keyFile)
            #expect(refused.status == 403)
            #expect(refused.json["error"] as? String == "access_denied")
            #expect(refused.json["code"] as? String == "oidc.card.untrusted-certificate")

            let none = try await Self.curl(port: port, files: files, certificate: nil, key: nil)
            #expect(none.status == 403)
            #expect(none.json["code"] as? String == "oidc.card.no-client-certificate")
        }
    }

    @Test("a suspended card and a revoked card never log in by mutual TLS")
    func blockedCards() async throws {
        try await withListener { _, card, api, files, port in
            try await api.act(card.cardID, "suspension", as: TestActors.security, json: #"{"reason": "usage suspect"}"#)
            let suspended = try await Self.curl(port: port, files: files, certificate: files.cardCertificate, key: files.cardKey)
            #expect(suspended.status == 403)
            #expect(suspended.json["code"] as? String == "oidc.card.certificate-on-hold")

            try await api.act(card.cardID, "revocation", as: TestActors.security, json: #"{"reason": "radiation"}"#)
            let revoked = try await Self.curl(port: port, files: files, certificate: files.cardCertificate, key: files.cardKey)
            #expect(revoked.status == 403)
            #expect(revoked.json["code"] as? String == "oidc.card.certificate-revoked")
        }
    }

    @Test("the listener is off by default; its port needs the listener's certificate and key, and must be a port of its own")
    func settings() throws {
        let flags = OpenCPSConfiguration.Flags(data: "/tmp/opencps-mtls-settings")
        #expect(try OpenCPSConfiguration.resolve(flags: flags, environment: [:]).cardTLSLogin == nil)
        let on = try OpenCPSConfiguration.resolve(flags: flags, environment: [
            "OPENCPS_OIDC_MTLS_PORT": "8443", "OPENCPS_OIDC_MTLS_CERTIFICATE": "/etc/opencps/tls.pem", "OPENCPS_OIDC_MTLS_KEY": "/etc/opencps/tls-key.pem",
        ])
        #expect(on.cardTLSLogin == CardTLSLoginSettings(
            port: 8443, certificateChainFile: URL(fileURLWithPath: "/etc/opencps/tls.pem"), privateKeyFile: URL(fileURLWithPath: "/etc/opencps/tls-key.pem")))
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(flags: flags, environment: ["OPENCPS_OIDC_MTLS_PORT": "8443"])
        }
        #expect(throws: ConfigurationError.self) {
            try OpenCPSConfiguration.resolve(flags: flags, environment: [
                "OPENCPS_OIDC_MTLS_PORT": "8080", "OPENCPS_OIDC_MTLS_CERTIFICATE": "/a.pem", "OPENCPS_OIDC_MTLS_KEY": "/b.pem",
            ])
        }
    }
}
