import Foundation
import NIOCore
import OpenCPSApp
import OpenCPSECPS
import Testing
import Vapor
import VaporTesting

/// A device made with the authenticator library, talking to a test application through its
/// HTTP layer: what the e-CPS tests enrol, prove and approve with.
struct ECPSTestDevice {
    /// A cheap scrypt cost: the server tests check the protocol, not the cost.
    static let cheap = SealedKey.Cost(rounds: 1 << 10, blockSize: 8, parallelism: 1)

    let folder: DeviceFolder
    var vault: DeviceVault
    let pin: String

    /// Makes a new device in a temporary folder.
    init(pin: String = "424242") throws {
        folder = DeviceFolder(url: FileManager.default.temporaryDirectory.appendingPathComponent("ecps-test-device-\(UUID().uuidString)"))
        self.pin = pin
        vault = try DeviceVault.create(serverURL: "http://opencps.test", pin: pin, cost: Self.cheap, save: folder.save)
    }

    /// The enrolment body for a code.
    func enrolmentJSON(enrolmentID: String? = nil, idNat: String? = nil, code: String, label: String = "Téléphone") throws -> String {
        var body: [String: String] = ["code": code, "label": label, "deviceKey": try vault.devicePublicKey, "approvalKey": vault.state.approvalPublicKey]
        body["enrolmentId"] = enrolmentID
        body["idNat"] = idNat
        return String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
    }

    /// Posts the enrolment and, when it succeeds, records the device id.
    @discardableResult
    mutating func enrol(_ app: Application, payload: String) async throws -> (HTTPStatus, [String: Any], HTTPHeaders) {
        let parsed = try EnrolmentPayload(text: payload)
        return try await enrol(app, json: try enrolmentJSON(enrolmentID: parsed.enrolmentID, code: parsed.code))
    }

    /// Posts an enrolment body.
    @discardableResult
    mutating func enrol(_ app: Application, json: String) async throws -> (HTTPStatus, [String: Any], HTTPHeaders) {
        var result: (HTTPStatus, [String: Any], HTTPHeaders) = (.internalServerError, [:], [:])
        var headers = HTTPHeaders()
        headers.contentType = .json
        let request = TestingHTTPRequest(method: .POST, url: "/api/v1/ecps/devices", headers: headers, body: ByteBuffer(string: json))
        let response = try await app.testing().performTest(request: request)
        result = (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:], response.headers)
        if response.status == .created, let id = result.1["id"] as? String, let idNat = result.1["idNat"] as? String {
            try vault.enrolled(deviceID: id, idNat: idNat)
        }
        return result
    }

    /// The device's proof header at `time`.
    func proofHeader(time: Date) throws -> HTTPHeaders {
        let nonce = Base64URL.encode(DeviceVault.systemRandom(12))
        let (message, signature) = try vault.proof(time: Int64(time.timeIntervalSince1970), nonce: nonce)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .authorization, value: "ECPS \(message.deviceID).\(nonce).\(message.time).\(Base64URL.encode(signature))")
        return headers
    }

    /// The pending requests, as the device sees them.
    func pending(_ app: Application, at time: Date) async throws -> (HTTPStatus, [[String: Any]], [String: Any]) {
        var result: (HTTPStatus, [[String: Any]], [String: Any]) = (.internalServerError, [], [:])
        try await app.testing().test(.GET, "/api/v1/ecps/requests", headers: try proofHeader(time: time)) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            result = (response.status, object["items"] as? [[String: Any]] ?? [], object)
        }
        return result
    }

    /// Signs and posts a decision on a pending request (as listed).
    mutating func decide(_ app: Application, _ request: [String: Any], _ decision: ECPSDecision, at time: Date) async throws -> (HTTPStatus, [String: Any]) {
        let id = request["id"] as? String ?? ""
        let message = ApprovalMessage(
            requestID: id, clientName: request["clientName"] as? String ?? "", bindingMessage: request["bindingMessage"] as? String ?? "",
            serverNonce: request["serverNonce"] as? String ?? "", decision: decision, time: Int64(time.timeIntervalSince1970))
        let signature = try vault.sign(message, pin: pin)
        let body: [String: Any] = [
            "deviceId": vault.state.deviceID ?? "", "decision": decision.rawValue, "time": message.time, "signature": Base64URL.encode(signature),
        ]
        var headers = HTTPHeaders()
        headers.contentType = .json
        var result: (HTTPStatus, [String: Any]) = (.internalServerError, [:])
        try await app.testing().test(.POST, "/api/v1/ecps/requests/\(id)/decision", headers: headers,
                                     body: ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))) { response in
            result = (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
        }
        return result
    }

    /// Removes the folder.
    func remove() {
        try? FileManager.default.removeItem(at: folder.url)
    }
}
