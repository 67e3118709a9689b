import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSServices
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Login requests decided on an e-CPS device: listed with the device's proof, approved or
/// denied with the PIN-sealed key, refused from a revoked or expired device.
@Suite("e-CPS login approval")
struct ECPSLoginTests {
    static let idNat = SigningHolder.idNat

    /// An application with an active card holder and one enrolled device.
    static func withDevice(_ body: (Application, CardAPI, FixedWallClock, inout ECPSTestDevice) async throws -> Void) async throws {
        try await ECPSEnrolmentTests.withHolder { app, api, clock in
            var device = try ECPSTestDevice()
            defer { device.remove() }
            let (status, answer, _) = try await device.enrol(app, payload: try await ECPSEnrolmentTests.payload(api))
            try #require(status == .created, "\(answer)")
            try await body(app, api, clock, &device)
        }
    }

    static func request(_ app: Application, binding: String = "K7-31") async throws -> ECPSLoginRequest {
        let logins = try #require(app.ecpsLogins)
        return try await logins.create(
            holder: try IdNat(idNat), clientID: "dmp", clientName: "Dossier Médical Partagé", bindingMessage: binding, scope: "openid")
    }

    @Test("the device lists the request, approves it with its PIN, and the client collects it once")
    func approve() async throws {
        try await Self.withDevice { app, _, clock, device in
            let logins = try #require(app.ecpsLogins)
            let request = try await Self.request(app)
            #expect(try await logins.poll(requestID: request.id, clientID: "dmp") == .pending)
            let (status, pending, _) = try await device.pending(app, at: clock.now())
            #expect(status == .ok)
            let listed = try #require(pending.first)
            #expect(listed["clientName"] as? String == "Dossier Médical Partagé")
            #expect(listed["bindingMessage"] as? String == "K7-31")
            let (decided, answer) = try await device.decide(app, listed, .approve, at: clock.now())
            #expect(decided == .ok, "\(answer)")
            #expect(answer["state"] as? String == "approved")
            clock.advance(by: 6)
            guard case .approved(let collected) = try await logins.poll(requestID: request.id, clientID: "dmp") else {
                Issue.record("not approved")
                return
            }
            #expect(collected.deviceID == device.vault.state.deviceID)
            // Once only; and never for another client.
            await #expect(throws: ECPSRuleError.requestUnknown) { try await logins.poll(requestID: request.id, clientID: "dmp") }
            let other = try await Self.request(app)
            await #expect(throws: ECPSRuleError.requestUnknown) { try await logins.poll(requestID: other.id, clientID: "another") }
        }
    }

    @Test("a denial reaches the client as denied, and a second decision is refused")
    func deny() async throws {
        try await Self.withDevice { app, _, clock, device in
            let request = try await Self.request(app)
            let listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            #expect(try await device.decide(app, listed, .deny, at: clock.now()).0 == .ok)
            #expect(try await app.ecpsLogins?.poll(requestID: request.id, clientID: "dmp") == .denied)
            let (again, problem) = try await device.decide(app, listed, .approve, at: clock.now())
            #expect(again == .conflict)
            #expect(problem["code"] as? String == "ecps.request-decided")
        }
    }

    @Test("a client polling faster than the interval is told to slow down")
    func slowDown() async throws {
        try await Self.withDevice { app, _, clock, _ in
            let logins = try #require(app.ecpsLogins)
            let request = try await Self.request(app)
            #expect(try await logins.poll(requestID: request.id, clientID: "dmp") == .pending)
            clock.advance(by: 2)
            #expect(try await logins.poll(requestID: request.id, clientID: "dmp") == .slowDown)
            clock.advance(by: 121)
            #expect(try await logins.poll(requestID: request.id, clientID: "dmp") == .expired)
        }
    }

    @Test("CIBA's slow_down is a 400 error response, and the interval grows by 5 s for that poll and every later one")
    func slowDownOverHTTP() async throws {
        try await ECPSEnrolmentTests.withHolder { app, api, clock in
            let oidc = OIDCTestLogin(app: app)
            try await oidc.registerClients()
            var device = try ECPSTestDevice()
            defer { device.remove() }
            try #require(try await device.enrol(app, payload: try await ECPSEnrolmentTests.payload(api)).0 == .created)
            let started = try await oidc.post("/oidc/bc-authorize", form: ["login_hint": Self.idNat, "scope": "openid"])
            let id = try #require(started.json["auth_req_id"] as? String, "\(started.json)")
            #expect(started.json["interval"] as? Int == 5)
            func poll() async throws -> (HTTPStatus, String?) {
                let answer = try await oidc.post("/oidc/token", form: ["grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": id])
                return (answer.status, answer.json["error"] as? String)
            }
            #expect(try await poll() == (.badRequest, "authorization_pending"))
            clock.advance(by: 2)
            #expect(try await poll() == (.badRequest, "slow_down"))
            // 6 s is more than the first interval (5) but less than the grown one (10): slow down again.
            clock.advance(by: 6)
            #expect(try await poll() == (.badRequest, "slow_down"))
            // Now 15 s: a poll that waits that long is answered.
            clock.advance(by: 15)
            #expect(try await poll() == (.badRequest, "authorization_pending"))
        }
    }

    @Test("an approval signed over other fields, or with another key, is refused")
    func forged() async throws {
        try await Self.withDevice { app, _, clock, device in
            _ = try await Self.request(app)
            var listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            listed["bindingMessage"] = "something else"
            let (status, problem) = try await device.decide(app, listed, .approve, at: clock.now())
            #expect(status == .unauthorized)
            #expect(problem["code"] as? String == "ecps.bad-approval")
            // A proof signed with the wrong key (the approval key) does not list anything.
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .authorization, value: "ECPS \(device.vault.state.deviceID ?? "").n.\(Int(clock.now().timeIntervalSince1970)).\(String(repeating: "A", count: 86))")
            try await app.testing().test(.GET, "/api/v1/ecps/requests", headers: headers) { #expect($0.status == .unauthorized) }
        }
    }

    @Test("a device revoked after listing cannot approve, and its pending proof is refused")
    func revokedDevice() async throws {
        try await Self.withDevice { app, api, clock, device in
            _ = try await Self.request(app)
            let listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            // The device revokes itself with its own proof.
            let id = try #require(device.vault.state.deviceID)
            try await app.testing().test(.DELETE, "/api/v1/ecps/devices/\(id)", headers: try device.proofHeader(time: clock.now())) {
                #expect($0.status == .ok)
            }
            let (status, problem) = try await device.decide(app, listed, .approve, at: clock.now())
            #expect(status == .forbidden)
            #expect(problem["code"] as? String == "ecps.device-revoked")
            #expect(try await device.pending(app, at: clock.now()).0 == .forbidden)
            let history = try await api.call(.GET, "/api/v1/ecps/devices", as: TestActors.holder(Self.idNat)).json["items"] as? [[String: Any]]
            #expect(history?.first?["status"] as? String == "revoked")
        }
    }

    /// The audit entries of refused decisions: (actor, request, detail).
    static func refusals(_ app: Application) async throws -> [(actor: String, request: String, detail: String)] {
        try await (app.db as! any SQLDatabase).raw("SELECT actor, entity_id, detail FROM audit_log WHERE action = 'ecps.approval.failure' ORDER BY seq")
            .all().map { (try $0.decode(column: "actor", as: String.self), try $0.decode(column: "entity_id", as: String.self), try $0.decode(column: "detail", as: String.self)) }
    }

    @Test("a refused approval (forged signature, expired request, revoked device) is audited with the device, the client and the means")
    func refusedApprovalsAreAudited() async throws {
        try await Self.withDevice { app, _, clock, device in
            let deviceID = try #require(device.vault.state.deviceID)
            // A signature over another binding message: what a device without the right key makes.
            let forged = try await Self.request(app)
            var listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            listed["bindingMessage"] = "something else"
            #expect(try await device.decide(app, listed, .approve, at: clock.now()).1["code"] as? String == "ecps.bad-approval")
            // A request whose time ran out while the holder looked away.
            let late = try await Self.request(app, binding: "L8-02")
            let lateListed = try #require(try await device.pending(app, at: clock.now()).1.first { $0["id"] as? String == late.id })
            clock.advance(by: 121)
            #expect(try await device.decide(app, lateListed, .approve, at: clock.now()).1["code"] as? String == "ecps.request-expired")
            // A device revoked after it listed the request.
            let revoked = try await Self.request(app, binding: "R9-44")
            let revokedListed = try #require(try await device.pending(app, at: clock.now()).1.first { $0["id"] as? String == revoked.id })
            try await app.testing().test(.DELETE, "/api/v1/ecps/devices/\(deviceID)", headers: try device.proofHeader(time: clock.now())) {
                #expect($0.status == .ok)
            }
            #expect(try await device.decide(app, revokedListed, .approve, at: clock.now()).1["code"] as? String == "ecps.device-revoked")

            let entries = try await Self.refusals(app)
            #expect(entries.map(\.request) == [forged.id, late.id, revoked.id])
            for (entry, code) in zip(entries, ["ecps.bad-approval", "ecps.request-expired", "ecps.device-revoked"]) {
                #expect(entry.actor == "holder:\(Self.idNat)")
                #expect(entry.detail.hasPrefix("means=ecps device=\(deviceID) client=dmp decision=approve code=\(code) address="), "\(entry.detail)")
            }
            // The request itself stays undecided: the refusal's audit entry is all that was written.
            #expect(try await app.ecpsLogins?.poll(requestID: forged.id, clientID: "dmp") == .expired)
        }
    }

    @Test("a device that expired after listing cannot approve")
    func expiredDevice() async throws {
        try await Self.withDevice { app, api, clock, device in
            let listedDevice = try #require(try await api.call(.GET, "/api/v1/ecps/devices", as: TestActors.holder(Self.idNat)).json["items"] as? [[String: Any]])
            let expiresAt = try #require((listedDevice.first?["expiresAt"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            clock.set(expiresAt.addingTimeInterval(-60))
            _ = try await Self.request(app)
            let listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            clock.advance(by: 61)
            let (status, problem) = try await device.decide(app, listed, .approve, at: clock.now())
            #expect(status == .forbidden)
            #expect(problem["code"] as? String == "ecps.device-expired")
        }
    }

    @Test("a wrong device PIN never reaches the server: the device counts it and locks")
    func wrongPIN() async throws {
        try await Self.withDevice { app, _, clock, device in
            _ = try await Self.request(app)
            let listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            let message = ApprovalMessage(
                requestID: listed["id"] as? String ?? "", clientName: listed["clientName"] as? String ?? "",
                bindingMessage: listed["bindingMessage"] as? String ?? "", serverNonce: listed["serverNonce"] as? String ?? "",
                decision: .approve, time: Int64(clock.now().timeIntervalSince1970))
            for remaining in (1...4).reversed() {
                #expect(throws: ECPSError.wrongPIN(remaining: remaining)) { try device.vault.sign(message, pin: "000000") }
            }
            #expect(throws: ECPSError.locked) { try device.vault.sign(message, pin: "000000") }
            #expect(throws: ECPSError.locked) { try device.vault.sign(message, pin: device.pin) }
            // The request still waits: nothing reached the server.
            #expect(try await device.pending(app, at: clock.now()).1.count == 1)
        }
    }

    @Test("a holder logged in with e-CPS whose only card is opposed: the next introspection says inactive and the refresh fails")
    func oppositionEndsECPSSessions() async throws {
        try await ECPSEnrolmentTests.withHolder { app, api, clock in
            let oidc = OIDCTestLogin(app: app)
            try await oidc.registerClients()
            var device = try ECPSTestDevice()
            defer { device.remove() }
            try #require(try await device.enrol(app, payload: try await ECPSEnrolmentTests.payload(api)).0 == .created)
            let started = try await oidc.post("/oidc/bc-authorize", form: ["login_hint": Self.idNat, "scope": "openid"])
            let id = try #require(started.json["auth_req_id"] as? String, "\(started.json)")
            let listed = try #require(try await device.pending(app, at: clock.now()).1.first)
            #expect(try await device.decide(app, listed, .approve, at: clock.now()).0 == .ok)
            let tokens = try await oidc.post("/oidc/token", form: ["grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": id])
            let access = try #require(tokens.json["access_token"] as? String, "\(tokens.json)")
            let refresh = try #require(tokens.json["refresh_token"] as? String)
            #expect(try await oidc.isActive(access))

            let cardID = try #require(try await api.call(.GET, "/api/v1/cards?idNat=\(Self.idNat)", as: TestActors.holder(Self.idNat)).array.first?["id"] as? String)
            try await api.act(cardID, "opposition", as: TestActors.holder(Self.idNat), json: #"{"reason": "perdue"}"#)
            #expect(try await oidc.isActive(access) == false)
            let refreshed = try await oidc.post("/oidc/token", form: ["grant_type": "refresh_token", "refresh_token": refresh])
            #expect(refreshed.status != .ok, "\(refreshed.json)")
        }
    }
}
