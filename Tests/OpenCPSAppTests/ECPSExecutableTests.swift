import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSServices
import Testing
import Vapor

/// The real `opencps ecps` executable as the holder's device, against a listening server.
@Suite("e-CPS command-line device")
struct ECPSExecutableTests {
    static let idNat = SigningHolder.idNat

    /// Runs `opencps ecps <arguments>`, on a thread of its own: the server it talks to answers
    /// on Swift's cooperative threads, which a waiting test must not hold.
    static func ecps(_ arguments: [String], device: URL) async throws -> ExternalTool.Result {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        let arguments = ["ecps"] + arguments + ["--device-dir", device.path]
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try ExternalTool.run(ExecutableTests.executable.path, arguments, environment: environment) })
            }
        }
    }

    /// An application with an active card holder, listening on a free port: the base URL.
    static func withListeningHolder(_ body: (Application, CardAPI, FixedWallClock, String) async throws -> Void) async throws {
        try await ECPSEnrolmentTests.withHolder { app, api, clock in
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            // The device signs its proofs with the real time and the server allows 120 s of
            // skew: on a loaded machine a test outlives that, so the server's clock follows the
            // real time from here (never going back, so the test's own advances still count).
            let follower = Task {
                while !Task.isCancelled {
                    clock.catchUp(to: Date())
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
            defer { follower.cancel() }
            do {
                try await body(app, api, clock, "http://127.0.0.1:\(port)")
            } catch {
                await app.server.shutdown()
                throw error
            }
            await app.server.shutdown()
        }
    }

    /// The holder's QR payload, naming the listening server (a deployment's public URL).
    static func payload(_ api: CardAPI, base: String) async throws -> String {
        let served = try EnrolmentPayload(text: try await ECPSEnrolmentTests.payload(api))
        return EnrolmentPayload(serverURL: base, enrolmentID: served.enrolmentID, code: served.code).text
    }

    @Test("the device enrols from a QR payload, lists a login request, approves one and denies another; a wrong PIN exits 3 and the fifth locks it (4)")
    func approveAndDeny() async throws {
        try await Self.withListeningHolder { app, api, _, base in
            let device = try ExternalTool.temporaryFolder("ecps-device")
            defer { try? FileManager.default.removeItem(at: device) }
            let enrolled = try await Self.ecps(["enrol", "--payload", try await Self.payload(api, base: base), "--pin", "135790", "--label", "poste"], device: device)
            #expect(enrolled.status == 0, "\(enrolled.output)")
            #expect(enrolled.output.contains("Enrolled device"))

            let logins = try #require(app.ecpsLogins)
            let first = try await logins.create(
                holder: try IdNat(Self.idNat), clientID: "lgc", clientName: "Logiciel de cabinet", bindingMessage: "Q4-88", scope: "openid")
            let listed = try await Self.ecps(["pending"], device: device)
            #expect(listed.output.contains(first.id) && listed.output.contains("Logiciel de cabinet") && listed.output.contains("Q4-88"), "\(listed.output)")
            let certificate = device.appendingPathComponent("device-certificate.pem")
            let approved = try await Self.ecps(["approve", first.id, "--pin", "135790", "--certificate", certificate.path], device: device)
            #expect(approved.status == 0, "\(approved.output)")
            #expect(approved.output.contains("elementaire-personnes"), "\(approved.output)")
            let subject = try ExternalTool.run("openssl", ["x509", "-in", certificate.path, "-noout", "-subject", "-issuer", "-nameopt", "utf8"]).output
            #expect(subject.contains(Self.idNat) && subject.contains("Élémentaire"), "\(subject)")
            guard case .approved = try await logins.poll(requestID: first.id, clientID: "lgc") else {
                Issue.record("the request is not approved")
                return
            }

            let second = try await logins.create(
                holder: try IdNat(Self.idNat), clientID: "lgc", clientName: "Logiciel de cabinet", bindingMessage: "", scope: "openid")
            #expect(try await Self.ecps(["deny", second.id, "--pin", "135790"], device: device).status == 0)
            #expect(try await logins.poll(requestID: second.id, clientID: "lgc") == .denied)

            let third = try await logins.create(
                holder: try IdNat(Self.idNat), clientID: "lgc", clientName: "Logiciel de cabinet", bindingMessage: "", scope: "openid")
            for _ in 1...4 {
                let wrong = try await Self.ecps(["approve", third.id, "--pin", "000000"], device: device)
                #expect(wrong.status == 3, "\(wrong.output)")
            }
            let locked = try await Self.ecps(["approve", third.id, "--pin", "000000"], device: device)
            #expect(locked.status == 4, "\(locked.output)")
            #expect(try await Self.ecps(["approve", third.id, "--pin", "135790"], device: device).status == 4)
            #expect(try await logins.poll(requestID: third.id, clientID: "lgc") == .pending)
        }
    }

    @Test("the device lists the holder's devices and revokes itself; afterwards it can list nothing")
    func devicesAndRevoke() async throws {
        try await Self.withListeningHolder { _, api, _, base in
            let device = try ExternalTool.temporaryFolder("ecps-device")
            defer { try? FileManager.default.removeItem(at: device) }
            #expect(try await Self.ecps(["enrol", "--payload", try await Self.payload(api, base: base), "--pin", "2468"], device: device).status == 0)
            let devices = try await Self.ecps(["devices"], device: device)
            #expect(devices.output.contains("active") && devices.output.contains("(this device)"), "\(devices.output)")
            let revoked = try await Self.ecps(["revoke"], device: device)
            #expect(revoked.status == 0 && revoked.output.contains("revoked"), "\(revoked.output)")
            let after = try await Self.ecps(["pending"], device: device)
            #expect(after.status != 0)
            #expect(after.output.contains("revoked"), "\(after.output)")
        }
    }

    /// The claims of a JWS, unverified (the provider's signatures are checked by authlib in its own tests).
    static func claims(_ jws: String) throws -> [String: Any] {
        let part = String(try #require(jws.split(separator: ".").dropFirst().first))
        let payload = try #require(Base64URL.decode(part))
        return try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
    }

    @Test("CIBA: a client asks, the command-line device approves, the client's poll gets tokens with amr ecps; a denial is access_denied; revoking the device ends the tokens")
    func ciba() async throws {
        try await Self.withListeningHolder { app, api, clock, base in
            let oidc = OIDCTestLogin(app: app)
            try await oidc.registerClients()
            let device = try ExternalTool.temporaryFolder("ecps-device")
            defer { try? FileManager.default.removeItem(at: device) }
            #expect(try await Self.ecps(["enrol", "--payload", try await Self.payload(api, base: base), "--pin", "975310"], device: device).status == 0)

            let started = try await oidc.post("/oidc/bc-authorize", form: [
                "login_hint": Self.idNat, "binding_message": "W2-19", "scope": "openid profile",
            ])
            #expect(started.status == .ok, "\(started.json)")
            let id = try #require(started.json["auth_req_id"] as? String)
            #expect(started.json["interval"] as? Int == 5)
            let grant = ["grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": id]
            let early = try await oidc.post("/oidc/token", form: grant)
            #expect(early.status == .badRequest)
            #expect(early.json["error"] as? String == "authorization_pending")

            let listed = try await Self.ecps(["pending"], device: device)
            #expect(listed.output.contains("Service") && listed.output.contains("W2-19"), "\(listed.output)")
            let approved = try await Self.ecps(["approve", id, "--pin", "975310"], device: device)
            #expect(approved.status == 0, "\(approved.output)")
            clock.advance(by: 6)
            let tokens = try await oidc.post("/oidc/token", form: grant)
            #expect(tokens.status == .ok, "\(tokens.json)")
            let idToken = try Self.claims(try #require(tokens.json["id_token"] as? String))
            #expect((idToken["amr"] as? [String])?.contains("ecps") == true)
            #expect(idToken["acr"] as? String == "eidas1")
            #expect(idToken["aud"] as? String == "service")
            #expect(idToken["SubjectNameID"] as? String == Self.idNat)
            let access = try #require(tokens.json["access_token"] as? String)
            let refresh = try #require(tokens.json["refresh_token"] as? String)
            #expect(try await oidc.isActive(access))
            // Once only.
            #expect(try await oidc.post("/oidc/token", form: grant).json["error"] as? String == "invalid_grant")

            let second = try await oidc.post("/oidc/bc-authorize", form: ["login_hint": Self.idNat, "scope": "openid"])
            let secondID = try #require(second.json["auth_req_id"] as? String)
            #expect(try await Self.ecps(["deny", secondID, "--pin", "975310"], device: device).status == 0)
            clock.advance(by: 6)
            let denied = try await oidc.post("/oidc/token", form: ["grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": secondID])
            #expect(denied.status == .badRequest)
            #expect(denied.json["error"] as? String == "access_denied")

            // The device is revoked: its session's tokens end with it, on the next call.
            #expect(try await Self.ecps(["revoke"], device: device).status == 0)
            #expect(try await oidc.isActive(access) == false)
            let refreshed = try await oidc.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": refresh])
            #expect(refreshed.status != .ok, "\(refreshed.json)")
            // And nobody is left to ask.
            let nobody = try await oidc.post("/oidc/bc-authorize", form: ["login_hint": Self.idNat, "scope": "openid"])
            #expect(nobody.json["error"] as? String == "unknown_user_id")
        }
    }
}
