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
            let approved = try await Self.ecps(["approve", first.id, "--pin", "135790"], device: device)
            #expect(approved.status == 0, "\(approved.output)")
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
}
