import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSServices
import OpenCPSTokens

/// `opencps bench oidc`: complete card logins per second and introspections per second against
/// a running server (`opencps serve --demo`), as a relying service and a user agent see them.
///
/// A login is the whole path: `GET /oidc/authorize` (PKCE S256, nonce) answered with a card
/// challenge, the card's authentication key signing it, `POST /oidc/login/card`, the code
/// redeemed at `POST /oidc/token` (HTTP Basic), and the ID token checked as a client checks it
/// (ES256 signature against the JWKS fetched once, `iss`, `aud`, `nonce`, `exp`, `at_hash`). The
/// card's key is unlocked once with its PIN (a real card unlocks once per session too); its
/// signatures are the load generator's CPU, not the server's. The server's CPU is read from
/// `/proc/<pid>/stat` before and after each phase when `--server-pid` is given.
struct BenchOIDCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oidc",
        abstract: "Complete card logins/s (authorize → signed challenge → code → tokens → ID token checked) and introspections/s against a running server.",
        discussion: """
            Start the server with `opencps serve --demo --data DIR` (release build), then run this with the same --data: \
            it takes the demo's first CPS token and the PIN from its letter, and the demo client demo-service. \
            Benchmarks/oidc/run.sh does both and measures glewlwyd in the same run.
            """)

    @Option(name: .long, help: "The server's base URL (its issuer).")
    var url = "http://127.0.0.1:8080"

    @Option(name: .long, help: "The server's data folder (for the demo card's token and PIN letter).")
    var data: String

    @Option(name: .long, help: "Complete card logins to make.")
    var logins = 2_000

    @Option(name: .long, help: "Introspections to make.")
    var introspections = 20_000

    @Option(name: .long, help: "Requests in flight at once (each a worker with its own sequence).")
    var concurrency = 16

    @Option(name: .long, help: "The server's process id, to report its CPU time per phase.")
    var serverPid: Int?

    @Option(name: .long, help: "Write one of the access tokens to this file (for a wrk run on introspection).")
    var accessTokenFile: String?

    func run() async throws {
        let folder = URL(fileURLWithPath: data, isDirectory: true)
        let card = try Self.demoCard(folder)
        let key = try card.token.signingKey(.authentication, pin: card.pin).get()
        let certificate = card.token.certificatePEM(.authentication)
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)))
        do {
            try await phases(client: client, key: key, certificate: certificate)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func phases(client: HTTPClient, key: SoftwareSigningKey, certificate: String) async throws {
        let relying = try await RelyingService.discover(url, client: client)

        // Warm-up: connections, the server's caches, the first key.
        for _ in 0..<20 { _ = try await relying.login(key: key, certificate: certificate) }

        let loginPhase = try await measure(logins) { count in
            var tokens: [String] = []
            for _ in 0..<count { tokens.append(try await relying.login(key: key, certificate: certificate)) }
            return tokens
        }
        print(Self.line("complete card logins", loginPhase))
        let tokens = loginPhase.results
        if let accessTokenFile, let first = tokens.first {
            try (first + "\n").write(toFile: accessTokenFile, atomically: true, encoding: .utf8)
        }
        let introspectionPhase = try await measure(introspections) { count in
            for index in 0..<count {
                guard try await relying.introspect(tokens[index % tokens.count]) else {
                    throw ValidationError("an access token was inactive at introspection")
                }
            }
            return []
        }
        print(Self.line("introspections", introspectionPhase))
    }

    /// A phase's figures.
    struct Phase {
        var count: Int
        var seconds: Double
        var serverCPU: Double?
        var benchCPU: Double
        var results: [String]
    }

    /// Runs `total` operations over ``concurrency`` workers.
    private func measure(_ total: Int, _ work: @escaping @Sendable (Int) async throws -> [String]) async throws -> Phase {
        let workers = max(1, min(concurrency, total))
        let serverBefore = serverPid.flatMap(Self.processCPU)
        let benchBefore = Self.processCPU(pid: Int(getpid())) ?? 0
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<workers {
                let count = total / workers + (worker < total % workers ? 1 : 0)
                group.addTask { try await work(count) }
            }
            var all: [String] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let serverAfter = serverPid.flatMap(Self.processCPU)
        let serverCPU = serverBefore.flatMap { before in serverAfter.map { $0 - before } }
        return Phase(count: total, seconds: seconds, serverCPU: serverCPU, benchCPU: (Self.processCPU(pid: Int(getpid())) ?? 0) - benchBefore, results: results)
    }

    private static func line(_ what: String, _ phase: Phase) -> String {
        let rate = Double(phase.count) / phase.seconds
        var text = "\(what): \(phase.count) in \(String(format: "%.2f", phase.seconds)) s = \(String(format: "%.0f", rate))/s"
        if let cpu = phase.serverCPU {
            text += String(format: "; server CPU %.2f s (%.0f %% of one core, %.3f ms per operation)", cpu, 100 * cpu / phase.seconds, 1000 * cpu / Double(phase.count))
        }
        text += String(format: "; bench CPU %.2f s (%.0f %% of one core)", phase.benchCPU, 100 * phase.benchCPU / phase.seconds)
        return text
    }

    /// User plus system CPU seconds of a process, from `/proc/<pid>/stat` (clock ticks of 1/100 s).
    static func processCPU(pid: Int) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The demo's first CPS token and the PIN from its letter.
    static func demoCard(_ data: URL) throws -> (token: SoftwareToken, pin: String) {
        let tokens = data.appendingPathComponent("tokens")
        let files = (try? FileManager.default.contentsOfDirectory(at: tokens, includingPropertiesForKeys: nil)) ?? []
        for file in files.filter({ $0.pathExtension == "token" }).sorted(by: { $0.path < $1.path }) {
            let token = try SoftwareToken.open(file)
            guard token.publicData.kind == "CPS" else { continue }
            return (token, try DemoCards.pinFromLetter(data.appendingPathComponent("letters"), serial: token.publicData.cardSerial))
        }
        throw ValidationError("no demo CPS token in \(tokens.path): start the server with `opencps serve --demo --data \(data.path)` first")
    }
}

/// The relying service and user agent of the benchmark: demo-service, its secret, the JWKS.
struct RelyingService: @unchecked Sendable {
    // @unchecked: swift-crypto's public keys are immutable values not marked Sendable on Linux.
    let base: String
    let client: HTTPClient
    let keys: [String: P256.Signing.PublicKey]
    static let clientID = DemoClients.confidentialID
    static let basic = "Basic " + Data("\(DemoClients.confidentialID):\(DemoClients.confidentialSecret)".utf8).base64EncodedString()

    /// Reads the discovery document and the JWKS once, as a client caches them.
    static func discover(_ base: String, client: HTTPClient) async throws -> RelyingService {
        let discovery = try await get(client, "\(base)/.well-known/openid-configuration")
        guard case .object(let document) = discovery, document["issuer"]?.string == base, let jwksURL = document["jwks_uri"]?.string,
              case .object(let jwks) = try await get(client, jwksURL), case .array(let entries)? = jwks["keys"] else {
            throw ValidationError("\(base) does not answer discovery and JWKS as an OpenCPS issuer")
        }
        var keys: [String: P256.Signing.PublicKey] = [:]
        for case .object(let jwk) in entries {
            guard let kid = jwk["kid"]?.string, let x = jwk["x"]?.string.flatMap(Base64URL.decode), let y = jwk["y"]?.string.flatMap(Base64URL.decode),
                  let key = try? P256.Signing.PublicKey(rawRepresentation: x + y) else { continue }
            keys[kid] = key
        }
        return RelyingService(base: base, client: client, keys: keys)
    }

    /// One complete card login; returns the access token.
    func login(key: SoftwareSigningKey, certificate: String) async throws -> String {
        let verifier = Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
        let nonce = Base64URL.encode((0..<12).map { _ in UInt8.random(in: 0...255) })
        var query = URLComponents()
        query.queryItems = [
            .init(name: "response_type", value: "code"), .init(name: "client_id", value: Self.clientID),
            .init(name: "redirect_uri", value: DemoClients.redirectURI), .init(name: "scope", value: "openid profile"),
            .init(name: "state", value: "bench"), .init(name: "nonce", value: nonce),
            .init(name: "code_challenge", value: PKCE.s256(verifier)), .init(name: "code_challenge_method", value: "S256"),
        ]
        guard case .object(let challenge) = try await Self.get(client, "\(base)/oidc/authorize?\(query.percentEncodedQuery ?? "")"),
              let challengeID = challenge["challengeId"]?.string, let message = challenge["message"]?.string.flatMap(Base64URL.decode) else {
            throw ValidationError("the authorization request did not answer a card challenge")
        }
        let signature = try key.sign(message)
        let answer = JSONValue.object([
            "challengeId": .string(challengeID), "signature": .string(Data(signature).base64EncodedString()), "certificate": .string(certificate),
        ])
        guard case .object(let reply) = try await Self.send(client, "\(base)/oidc/login/card", body: answer.encoded(), contentType: "application/json"),
              let redirect = reply["redirect"]?.string.flatMap(URLComponents.init(string:)),
              let code = redirect.queryItems?.first(where: { $0.name == "code" })?.value else {
            throw ValidationError("the card login did not return to the client with a code")
        }
        var form = URLComponents()
        form.queryItems = [
            .init(name: "grant_type", value: "authorization_code"), .init(name: "code", value: code),
            .init(name: "redirect_uri", value: DemoClients.redirectURI), .init(name: "code_verifier", value: verifier),
        ]
        guard case .object(let tokens) = try await Self.send(
            client, "\(base)/oidc/token", body: Array((form.percentEncodedQuery ?? "").utf8), contentType: "application/x-www-form-urlencoded",
            authorization: Self.basic),
            let idToken = tokens["id_token"]?.string, let access = tokens["access_token"]?.string else {
            throw ValidationError("the token endpoint did not answer tokens")
        }
        try check(idToken: idToken, nonce: nonce, accessToken: access)
        return access
    }

    /// Whether introspection says the token is active.
    func introspect(_ token: String) async throws -> Bool {
        let body = Array("token=\(token)".utf8)
        guard case .object(let answer) = try await Self.send(
            client, "\(base)/oidc/introspect", body: body, contentType: "application/x-www-form-urlencoded", authorization: Self.basic) else {
            return false
        }
        return answer["active"] == .bool(true)
    }

    /// What a client checks of an ID token (OpenID Connect Core §3.1.3.7).
    private func check(idToken: String, nonce: String, accessToken: String) throws {
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]),
              case .object(let head) = try JSONDecoder().decode(JSONValue.self, from: Data(header)), head["alg"]?.string == "ES256",
              let key = head["kid"]?.string.flatMap({ keys[$0] }),
              key.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: Data((parts[0] + "." + parts[1]).utf8)),
              case .object(let claims) = try JSONDecoder().decode(JSONValue.self, from: Data(payload)) else {
            throw ValidationError("the ID token's signature does not verify with the JWKS")
        }
        let now = Int64(Date().timeIntervalSince1970)
        guard claims["iss"]?.string == base, claims["aud"]?.string == Self.clientID, claims["nonce"]?.string == nonce,
              let exp = claims["exp"]?.integer, exp > now, claims["at_hash"]?.string == OIDCKeys.halfHash(accessToken) else {
            throw ValidationError("the ID token's iss, aud, nonce, exp or at_hash is wrong")
        }
    }

    private static func get(_ client: HTTPClient, _ url: String) async throws -> JSONValue {
        try await answer(client, HTTPClientRequest(url: url))
    }

    private static func send(_ client: HTTPClient, _ url: String, body: [UInt8], contentType: String, authorization: String? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: contentType)
        if let authorization { request.headers.add(name: "authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await answer(client, request)
    }

    private static func answer(_ client: HTTPClient, _ request: HTTPClientRequest) async throws -> JSONValue {
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw ValidationError("\(request.method) \(request.url.prefix(80)): \(response.status.code) \(String(buffer: body).prefix(300))")
        }
        return try JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
    }
}
