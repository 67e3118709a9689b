import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSECPS
import Testing
import Vapor
import VaporTesting

/// e-CPS enrolment through the API: QR codes from the card session (90 seconds, single use),
/// activation codes sent to the registered contact, the abuse limits, and the holder's devices.
@Suite("e-CPS enrolment")
struct ECPSEnrolmentTests {
    static let idNat = SigningHolder.idNat
    static var holder: String { TestActors.holder(idNat) }

    /// Runs `body` with an application whose médecin has an active CPS.
    static func withHolder(_ body: (Application, CardAPI, FixedWallClock) async throws -> Void) async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [idNat])) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            _ = try await SigningHolder(api)
            try await body(app, api, clock)
        }
    }

    /// A QR payload from the holder's card session.
    static func payload(_ api: CardAPI) async throws -> String {
        let reply = try await api.call(.POST, "/api/v1/ecps/enrolments", as: holder)
        #expect(reply.status == .created, "\(reply.json)")
        return try #require(reply.json["payload"] as? String)
    }

    @Test("a QR code enrols a device within 90 seconds and is refused after them")
    func qrLifetime() async throws {
        try await Self.withHolder { app, api, clock in
            var late = try ECPSTestDevice()
            defer { late.remove() }
            let stale = try await Self.payload(api)
            let fresh = try await Self.payload(api)
            clock.advance(by: 89)
            var onTime = try ECPSTestDevice()
            defer { onTime.remove() }
            let (status, device, _) = try await onTime.enrol(app, payload: fresh)
            #expect(status == .created, "\(device)")
            #expect(device["status"] as? String == "active")
            #expect(device["method"] as? String == "card")
            clock.advance(by: 2)
            let (lateStatus, problem, _) = try await late.enrol(app, payload: stale)
            #expect(lateStatus == .gone)
            #expect(problem["code"] as? String == "ecps.enrolment-expired")
        }
    }

    @Test("a QR code serves once: the second device with it is refused")
    func singleUse() async throws {
        try await Self.withHolder { app, api, _ in
            let payload = try await Self.payload(api)
            var first = try ECPSTestDevice(), second = try ECPSTestDevice()
            defer { first.remove(); second.remove() }
            #expect(try await first.enrol(app, payload: payload).0 == .created)
            let (status, problem, _) = try await second.enrol(app, payload: payload)
            #expect(status == .conflict)
            #expect(problem["code"] as? String == "ecps.enrolment-used")
        }
    }

    @Test("only the holder's card session asks for a QR code, and only with an active card")
    func whoMayAsk() async throws {
        try await Self.withHolder { _, api, _ in
            let helpDesk = try await api.call(.POST, "/api/v1/ecps/enrolments", as: TestActors.helpDesk)
            #expect(helpDesk.status == .forbidden)
            let stranger = try await api.call(.POST, "/api/v1/ecps/enrolments", as: "not-a-token-0123456789")
            #expect(stranger.status == .unauthorized)
        }
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, actorTokens: TestActors.tokens(holders: [Self.idNat])) { app, configuration in
            let reply = try await CardAPI(app: app, configuration: configuration).call(.POST, "/api/v1/ecps/enrolments", as: Self.holder)
            #expect(reply.status == .forbidden)
            #expect(reply.json["code"] as? String == "ecps.no-active-card")
        }
    }

    @Test("five wrong codes void an enrolment (429 with Retry-After), even for the right code after them")
    func perEnrolmentLimit() async throws {
        try await Self.withHolder { app, api, _ in
            let payload = try EnrolmentPayload(text: try await Self.payload(api))
            var device = try ECPSTestDevice()
            defer { device.remove() }
            for _ in 1...5 {
                let (status, problem, _) = try await device.enrol(app, json: try device.enrolmentJSON(enrolmentID: payload.enrolmentID, code: "wrongwrongwrong"))
                #expect(status == .forbidden)
                #expect(problem["code"] as? String == "ecps.wrong-code")
            }
            let (status, problem, headers) = try await device.enrol(app, payload: payload.text)
            #expect(status == .tooManyRequests)
            #expect(problem["code"] as? String == "ecps.too-many-attempts")
            let retryAfter = try #require(headers.first(name: .retryAfter).flatMap(Int.init))
            #expect((1...90).contains(retryAfter))
        }
    }

    @Test("twenty wrong codes from one address make it wait, whatever the enrolment")
    func perAddressLimit() async throws {
        try await Self.withHolder { app, _, clock in
            var device = try ECPSTestDevice()
            defer { device.remove() }
            for _ in 1...20 {
                #expect(try await device.enrol(app, json: try device.enrolmentJSON(enrolmentID: UUID().uuidString.lowercased(), code: "guessguess")).0 == .forbidden)
            }
            let (status, _, headers) = try await device.enrol(app, json: try device.enrolmentJSON(enrolmentID: "x", code: "guessguess"))
            #expect(status == .tooManyRequests)
            #expect(headers.first(name: .retryAfter) == "600")
            clock.advance(by: 601)
            #expect(try await device.enrol(app, json: try device.enrolmentJSON(enrolmentID: "x", code: "guessguess")).0 == .forbidden)
        }
    }

    @Test("an activation code goes to the registered contact through the outbox, and enrols a device with the idNat")
    func activation() async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [Self.idNat])) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            _ = try await SigningHolder(api)
            var headers = HTTPHeaders()
            headers.contentType = .json
            try await app.testing().test(.POST, "/api/v1/ecps/activations", headers: headers, body: jsonBody(#"{"idNat": "\#(Self.idNat)"}"#)) {
                let problem = try jsonObject($0)
                #expect($0.status == .unprocessableEntity)
                #expect(problem["code"] as? String == "ecps.no-contact")
            }
            #expect(try await api.call(.PUT, "/api/v1/ecps/contact", as: Self.holder, json: #"{"email": "dr.martin@example.org"}"#).status == .noContent)
            try await app.testing().test(.POST, "/api/v1/ecps/activations", headers: headers, body: jsonBody(#"{"idNat": "\#(Self.idNat)"}"#)) {
                #expect($0.status == .accepted)
            }
            let files = try FileManager.default.contentsOfDirectory(at: configuration.ecpsOutbox, includingPropertiesForKeys: nil)
            let message = try String(contentsOf: try #require(files.first), encoding: .utf8)
            #expect(message.contains("To: dr.martin@example.org"))
            let code = try #require(message.split(separator: "\n").first { $0.hasPrefix("Code d'activation") }?.split(separator: " ").last.map(String.init))
            #expect(code.count == 8)
            var device = try ECPSTestDevice()
            defer { device.remove() }
            let (status, body, _) = try await device.enrol(app, json: try device.enrolmentJSON(idNat: Self.idNat, code: code))
            #expect(status == .created, "\(body)")
            #expect(body["method"] as? String == "activation")
        }
    }

    @Test("the holder lists and revokes devices; an expired device is reactivated by a new enrolment of the same key")
    func listRevokeReactivate() async throws {
        try await Self.withHolder { app, api, clock in
            var phone = try ECPSTestDevice(), tablet = try ECPSTestDevice()
            defer { phone.remove(); tablet.remove() }
            try await phone.enrol(app, payload: try await Self.payload(api))
            try await tablet.enrol(app, payload: try await Self.payload(api))
            let listed = try await api.call(.GET, "/api/v1/ecps/devices", as: Self.holder).json["items"] as? [[String: Any]] ?? []
            #expect(listed.count == 2)
            let tabletID = try #require(tablet.vault.state.deviceID)
            let revoked = try await api.call(.DELETE, "/api/v1/ecps/devices/\(tabletID)", as: Self.holder)
            #expect(revoked.json["status"] as? String == "revoked")
            // A revoked key never comes back.
            #expect(try await tablet.enrol(app, payload: try await Self.payload(api)).0 == .forbidden)

            clock.advance(by: 366 * 86_400)
            let expired = try await api.call(.GET, "/api/v1/ecps/devices", as: Self.holder).json["items"] as? [[String: Any]] ?? []
            let statuses = Dictionary(uniqueKeysWithValues: expired.compactMap { item in (item["id"] as? String).map { ($0, item["status"] as? String) } })
            #expect(statuses[tabletID] == "revoked")
            #expect(statuses[phone.vault.state.deviceID ?? ""] == "expired")
            let phoneID = phone.vault.state.deviceID
            let (status, again, _) = try await phone.enrol(app, payload: try await Self.payload(api))
            #expect(status == .created)
            #expect(again["id"] as? String == phoneID)
            #expect(again["status"] as? String == "active")
        }
    }
}
