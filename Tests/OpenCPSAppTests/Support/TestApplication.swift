import Fluent
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSPersistence
import OpenCPSPKI
import OpenCPSServices
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The database the suite runs on: in-memory SQLite by default, or the PostgreSQL server
/// named by `OPENCPS_TEST_DATABASE_URL` (each test then gets a schema of its own).
enum TestDatabase {
    static let url: String? = ProcessInfo.processInfo.environment["OPENCPS_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static var location: DatabaseLocation {
        guard let url else { return .sqliteMemory }
        return try! DatabaseLocation(url: url)
    }

    static var isPostgres: Bool { location.isPostgres }

    /// How many test applications may hold PostgreSQL connections at once: Swift Testing runs
    /// every test at the same time, and a server's `max_connections` (100 by default) is shared
    /// by all of them.
    static let postgresApplications = AsyncSemaphore(permits: 12)
}

/// A counting semaphore for async code.
actor AsyncSemaphore {
    private var permits: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) {
        self.permits = permits
    }

    /// Waits for a permit.
    func acquire() async {
        if permits > 0 {
            permits -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    /// Gives a permit back, to the longest waiter if there is one.
    func release() {
        if waiting.isEmpty {
            permits += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// The operator token the test applications accept.
let testOperatorToken = "test-operator-token-0123456789"

/// Operator tokens of one role each, which the test applications accept beside ``testOperatorToken`` (every role).
let testRoleOperatorTokens: [OperatorRole: String] = Dictionary(
    uniqueKeysWithValues: OperatorRole.allCases.map { ($0, "test-\($0.rawValue)-operator-0123456789") })

/// A fixed instant for tests: 2026-11-24T09:00:00Z.
let testNow = Date(timeIntervalSince1970: 1_795_510_800)

/// Runs `body` with a fresh, migrated application on a fresh database.
func withTestApp(
    clock: any WallClock = FixedWallClock(testNow), pki: PKIMaterial? = nil,
    _ body: (Application) async throws -> Void
) async throws {
    try await withConfiguredTestApp(clock: clock, pki: pki) { app, _ in try await body(app) }
}

/// Runs `body` with a fresh, migrated application and its configuration (data folder, tokens).
func withConfiguredTestApp(
    clock: any WallClock = FixedWallClock(testNow), pki: PKIMaterial? = nil, actorTokens: [String: CardActor] = [:],
    random: RandomBytes = .system, cardSettings: CardServiceSettings = CardServiceSettings(keyAlgorithm: .p256),
    cardPKCS11Module: String? = nil, publicBaseURL: String = "http://opencps.test",
    adjust: (inout OpenCPSConfiguration) -> Void = { _ in },
    _ body: (Application, OpenCPSConfiguration) async throws -> Void
) async throws {
    if TestDatabase.isPostgres { await TestDatabase.postgresApplications.acquire() }
    defer { if TestDatabase.isPostgres { Task { await TestDatabase.postgresApplications.release() } } }
    let app = try await Application.make(.testing)
    let schema = TestDatabase.isPostgres ? "t_\(UUID().uuidString.prefix(8).lowercased())" : nil
    do {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-test-\(UUID().uuidString)")
        var operators = [testOperatorToken: "tester"]
        for (role, token) in testRoleOperatorTokens { operators[token] = "tester-\(role.rawValue)" }
        var configuration = OpenCPSConfiguration(
            dataDirectory: data, database: TestDatabase.location, publicBaseURL: publicBaseURL,
            operatorTokens: operators, logLevel: .warning, actorTokens: actorTokens, cardPKCS11Module: cardPKCS11Module)
        configuration.operatorRoles = testRoleOperatorTokens.reduce(into: [:]) { $0[$1.value] = [$1.key] }
        adjust(&configuration)
        try await configure(
            app, configuration: configuration,
            dependencies: OpenCPSDependencies(
                clock: clock, postgresSearchPath: schema.map { [$0] }, pki: pki, random: random, cardSettings: cardSettings,
                // Many test applications run at once against one server: a small pool each.
                postgresConnectionsPerEventLoop: 1))
        if let schema {
            try await (app.db as! any SQLDatabase).raw("CREATE SCHEMA \(ident: schema)").run()
        }
        try await app.autoMigrate()
        try await body(app, configuration)
        if let schema {
            try await (app.db as! any SQLDatabase).raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        }
    } catch {
        if let schema {
            try? await (app.db as! any SQLDatabase).raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        }
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

extension HTTPHeaders {
    /// Headers carrying the test operator's token.
    static var operatorHeaders: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: testOperatorToken)
        headers.contentType = .json
        return headers
    }
}

/// A JSON body.
func jsonBody(_ text: String) -> ByteBuffer {
    ByteBuffer(string: text)
}

/// Decodes a response body as a JSON object.
func jsonObject(_ response: TestingHTTPResponse) throws -> [String: Any] {
    let data = Data(buffer: response.body)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(response.body.string)")
}
