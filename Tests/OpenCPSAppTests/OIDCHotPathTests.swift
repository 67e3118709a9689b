import Foundation
import NIOCore
@testable import OpenCPSHTTP
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// The parts the login and introspection benchmark made OpenCPS write itself (docs/benchmarks.md,
/// issue 23): the OAuth form reader, a login's transactions on the SQLite file's own writer, and
/// the queue of SQLite transactions.
@Suite("OpenID Connect hot paths")
struct OIDCHotPathTests {
    private func fields(_ body: String) throws -> [String: String] {
        var bytes = Array(body.utf8)
        return try bytes.withUnsafeMutableBytes { try OAuthForm.fields(UnsafeRawBufferPointer($0)) }
    }

    @Test("the form reader unescapes %XX and + as RFC 6749's forms do, and refuses repeats, bad escapes and bytes that are not UTF-8")
    func formReader() throws {
        #expect(try fields("token=eyJ.a-b_c&client_id=svc") == ["token": "eyJ.a-b_c", "client_id": "svc"])
        #expect(try fields("client_secret=a%2Bb+c%25%C3%A9&empty=&bare") == ["client_secret": "a+b c%é", "empty": "", "bare": ""])
        #expect(try fields("") == [:])
        #expect(try fields("&&token=x&") == ["token": "x"])
        #expect(throws: OIDCError.self) { try fields("token=a&token=b") }
        #expect(throws: OIDCError.self) { try fields("token=%G1") }
        #expect(throws: OIDCError.self) { try fields("token=%4") }
        #expect(throws: OIDCError.self) { try fields("token=%FF%FE") }
        do {
            _ = try fields("token=a&token=b")
        } catch let error as OIDCError {
            #expect(error.code == "oidc.form.repeated-parameter")
        }
    }

    @Test("the token, introspection, revocation and CIBA endpoints answer a body that is not a form, or a bad one, with 400 invalid_request")
    func formRefusals() async throws {
        try await withConfiguredTestApp(pki: TestPKIMaterial.shared) { app, _ in
            let login = OIDCTestLogin(app: app)
            try await login.registerClients()
            func post(_ path: String, body: String, type: HTTPMediaType) async throws -> (HTTPStatus, [String: Any]) {
                var headers = HTTPHeaders()
                headers.contentType = type
                headers.basicAuthorization = BasicAuthorization(username: "service", password: OIDCTestLogin.secret)
                var result: (HTTPStatus, [String: Any]) = (.ok, [:])
                try await app.testing().test(.POST, path, headers: headers, body: ByteBuffer(string: body)) { response in
                    result = (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
                }
                return result
            }
            for path in ["/oidc/token", "/oidc/introspect", "/oidc/revoke", "/oidc/bc-authorize"] {
                let json = try await post(path, body: #"{"token": "x"}"#, type: .json)
                #expect(json.0 == .badRequest, "\(path)")
                #expect(json.1["error"] as? String == "invalid_request")
                #expect(json.1["code"] as? String == "oidc.form.content-type")
                let repeated = try await post(path, body: "token=x&token=y", type: .urlEncodedForm)
                #expect(repeated.0 == .badRequest)
                #expect(repeated.1["code"] as? String == "oidc.form.repeated-parameter")
                let malformed = try await post(path, body: "token=%ZZ", type: .urlEncodedForm)
                #expect(malformed.1["code"] as? String == "oidc.form.malformed")
            }
            // A well-formed form is read: an unknown token is inactive, not an error.
            let inactive = try await post("/oidc/introspect", body: "token=not+a%2Btoken", type: .urlEncodedForm)
            #expect(inactive.0 == .ok)
            #expect(inactive.1["active"] as? Bool == false)
        }
    }

    private static let request = OIDCAuthorizationRequest(
        clientID: "service", redirectURI: OIDCTestLogin.redirectURI, scope: "openid", state: "s", nonce: "n", codeChallenge: "c")

    private func session(_ id: String) throws -> OIDCSession {
        let subject = AuthenticatedSubject(idNat: try IdNat("810100271385"), cardID: "card-1", means: .cardChallenge, authenticatedAt: testNow)
        return OIDCSession(id: id, subject: subject, lastUsedAt: testNow, expiresAt: testNow.addingTimeInterval(4 * 3600))
    }

    private func tokens(session: String, family: String) -> (OIDCAccessTokenRecord, OIDCRefreshToken) {
        (OIDCAccessTokenRecord(
            jti: "jti-\(family)", familyID: family, sessionID: session, clientID: "service", idNat: "810100271385", scope: "openid",
            createdAt: testNow, expiresAt: testNow.addingTimeInterval(120)),
         OIDCRefreshToken(
            digest: "refresh-\(family)", familyID: family, sessionID: session, clientID: "service", scope: "openid",
            createdAt: testNow, expiresAt: testNow.addingTimeInterval(1800)))
    }

    @Test("a login's writer spends a challenge and a code once, refuses an ended session without spending its code, and chains its audit",
          .enabled(if: !TestDatabase.isPostgres))
    func loginWriter() async throws {
        try await withConfiguredTestApp(pki: TestPKIMaterial.shared) { app, _ in
            try await OIDCTestLogin(app: app).registerClients()
            let auditLog = AuditLog(clock: FixedWallClock(testNow))
            guard case .intact(let entriesBefore) = try await auditLog.verify(on: app.db) else {
                Issue.record("the audit log is not intact before the test")
                return
            }
            let writer = try #require(try await OIDCLoginWriter.open(for: app.db))
            let repository = OIDCRepository(database: app.db, clock: FixedWallClock(testNow))
            let challenge = OIDCLoginChallenge(
                id: "sealed", challenge: "challenge-1", request: Self.request, createdAt: testNow, expiresAt: testNow.addingTimeInterval(120))
            let audit = [AuditEvent(actor: "810100271385", action: "oidc.login.success", entityType: "oidc-session", entityID: "s")]

            let first = try session("session-1")
            let code = OIDCAuthorizationCode(
                digest: "code-1", sessionID: first.id, request: Self.request, createdAt: testNow, expiresAt: testNow.addingTimeInterval(60))
            #expect(try await writer.openSession(first, code: code, spending: challenge, audit: audit, at: testNow))
            #expect(try await repository.session(id: first.id) == first)
            #expect(try await repository.code(digest: "code-1")?.sessionID == first.id)
            // The same challenge again: refused, and the second session is not stored.
            let second = try session("session-2")
            let secondCode = OIDCAuthorizationCode(
                digest: "code-2", sessionID: second.id, request: Self.request, createdAt: testNow, expiresAt: testNow.addingTimeInterval(60))
            #expect(try await !writer.openSession(second, code: secondCode, spending: challenge, audit: audit, at: testNow))
            #expect(try await repository.session(id: second.id) == nil)

            let (access, refresh) = tokens(session: first.id, family: "code-1")
            let issue = [AuditEvent(actor: "service", action: "oidc.token.issue", entityType: "oidc-token", entityID: access.jti)]
            let later = testNow.addingTimeInterval(5)
            #expect(try await writer.redeem(codeDigest: "code-1", access: access, refresh: refresh, audit: issue, idleTimeout: 1800, at: later) == .recorded)
            #expect(try await repository.accessToken(jti: access.jti) == access)
            #expect(try await repository.refreshToken(digest: refresh.digest) == refresh)
            #expect(try await repository.session(id: first.id)?.lastUsedAt == later)
            #expect(try await writer.redeem(codeDigest: "code-1", access: access, refresh: refresh, audit: issue, idleTimeout: 1800, at: later) == .codeSpent)

            // A session ended meanwhile (its card opposed): nothing is written, the code stays unspent.
            let third = try session("session-3")
            let thirdCode = OIDCAuthorizationCode(
                digest: "code-3", sessionID: third.id, request: Self.request, createdAt: testNow, expiresAt: testNow.addingTimeInterval(60))
            #expect(try await writer.openSession(third, code: thirdCode, spending: nil, audit: audit, at: testNow))
            try await repository.endSessions(where: .card, equals: "card-1", reason: "card opposed", at: later)
            let (thirdAccess, thirdRefresh) = tokens(session: third.id, family: "code-3")
            #expect(try await writer.redeem(
                codeDigest: "code-3", access: thirdAccess, refresh: thirdRefresh, audit: issue, idleTimeout: 1800, at: later) == .sessionEnded)
            #expect(try await repository.code(digest: "code-3")?.usedAt == nil)
            #expect(try await repository.accessToken(jti: thirdAccess.jti) == nil)
            // An idle session has ended too.
            #expect(try await writer.redeem(
                codeDigest: "code-3", access: thirdAccess, refresh: thirdRefresh, audit: issue, idleTimeout: 1,
                at: testNow.addingTimeInterval(2)) == .sessionEnded)

            #expect(try await auditLog.verify(on: app.db) == .intact(entries: entriesBefore + 3))
        }
    }

    @Test("on SQLite, a service's transactions run one at a time, and a transaction opened inside another joins it")
    func serialisedTransactions() async throws {
        try await withTestApp { app in
            let database = ServiceDatabase(serializingTransactions: true) { app.db }
            let overlap = OverlapCounter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await database.transaction { _ in
                            await overlap.enter()
                            try await Task.sleep(for: .milliseconds(5))
                            // Nested: joins the open transaction instead of waiting behind it.
                            try await database.transaction { _ in #expect(database.inTransaction) }
                            await overlap.leave()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await overlap.most == 1)
            #expect(!database.inTransaction)
        }
    }
}

/// Counts the transactions running at once.
private actor OverlapCounter {
    private var running = 0
    private(set) var most = 0

    func enter() {
        running += 1
        most = max(most, running)
    }

    func leave() { running -= 1 }
}
