import Foundation
import OpenCPSDomain

/// A device as stored.
struct ECPSDeviceRow: Codable, Sendable {
    var id: String
    var idNat: String
    var label: String
    var deviceKey: String
    var approvalKey: String
    var method: String
    var createdAt: String
    var enrolledAt: String
    var expiresAt: String
    var revokedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, label, method
        case idNat = "id_nat", deviceKey = "device_key", approvalKey = "approval_key", createdAt = "created_at"
        case enrolledAt = "enrolled_at", expiresAt = "expires_at", revokedAt = "revoked_at"
    }

    init(_ device: ECPSDevice) {
        id = device.id
        idNat = device.holder.value
        label = device.label
        deviceKey = device.deviceKey
        approvalKey = device.approvalKey
        method = device.method.rawValue
        createdAt = StoredTimestamp.string(device.createdAt)
        enrolledAt = StoredTimestamp.string(device.enrolledAt)
        expiresAt = StoredTimestamp.string(device.expiresAt)
        revokedAt = device.revokedAt.map(StoredTimestamp.string)
    }

    func device() throws -> ECPSDevice {
        guard let method = ECPSEnrolmentMethod(rawValue: method) else { throw PersistenceError.corrupt("e-CPS device \(id)", "method \(method)") }
        return ECPSDevice(
            id: id, holder: try IdNat(idNat), label: label, deviceKey: deviceKey, approvalKey: approvalKey, method: method,
            createdAt: try ECPSRows.date(createdAt, id), enrolledAt: try ECPSRows.date(enrolledAt, id), expiresAt: try ECPSRows.date(expiresAt, id),
            revokedAt: try revokedAt.map { try ECPSRows.date($0, id) })
    }
}

/// An enrolment as stored.
struct ECPSEnrolmentRow: Codable, Sendable {
    var id: String
    var idNat: String
    var method: String
    var codeDigest: String
    var createdAt: String
    var expiresAt: String
    var usedAt: String?
    var failedAttempts: Int

    enum CodingKeys: String, CodingKey {
        case id, method
        case idNat = "id_nat", codeDigest = "code_digest", createdAt = "created_at", expiresAt = "expires_at", usedAt = "used_at"
        case failedAttempts = "failed_attempts"
    }

    init(_ enrolment: ECPSEnrolment) {
        id = enrolment.id
        idNat = enrolment.holder.value
        method = enrolment.method.rawValue
        codeDigest = enrolment.codeDigest
        createdAt = StoredTimestamp.string(enrolment.createdAt)
        expiresAt = StoredTimestamp.string(enrolment.expiresAt)
        usedAt = enrolment.usedAt.map(StoredTimestamp.string)
        failedAttempts = enrolment.failedAttempts
    }

    func enrolment() throws -> ECPSEnrolment {
        guard let method = ECPSEnrolmentMethod(rawValue: method) else { throw PersistenceError.corrupt("e-CPS enrolment \(id)", "method \(method)") }
        return ECPSEnrolment(
            id: id, holder: try IdNat(idNat), method: method, codeDigest: codeDigest, createdAt: try ECPSRows.date(createdAt, id),
            expiresAt: try ECPSRows.date(expiresAt, id), usedAt: try usedAt.map { try ECPSRows.date($0, id) }, failedAttempts: failedAttempts)
    }
}

/// A login request as stored.
struct ECPSLoginRequestRow: Codable, Sendable {
    var id: String
    var idNat: String
    var clientID: String
    var clientName: String
    var bindingMessage: String
    var scope: String
    var serverNonce: String
    var createdAt: String
    var expiresAt: String
    var state: String
    var deviceID: String?
    var decidedAt: String?
    var lastPolledAt: String?
    var pollInterval: Int

    enum CodingKeys: String, CodingKey {
        case id, scope, state
        case idNat = "id_nat", clientID = "client_id", clientName = "client_name", bindingMessage = "binding_message"
        case serverNonce = "server_nonce", createdAt = "created_at", expiresAt = "expires_at", deviceID = "device_id"
        case decidedAt = "decided_at", lastPolledAt = "last_polled_at", pollInterval = "poll_interval"
    }

    init(_ request: ECPSLoginRequest) {
        id = request.id
        idNat = request.holder.value
        clientID = request.clientID
        clientName = request.clientName
        bindingMessage = request.bindingMessage
        scope = request.scope
        serverNonce = request.serverNonce
        createdAt = StoredTimestamp.string(request.createdAt)
        expiresAt = StoredTimestamp.string(request.expiresAt)
        state = request.state.rawValue
        deviceID = request.deviceID
        decidedAt = request.decidedAt.map(StoredTimestamp.string)
        lastPolledAt = request.lastPolledAt.map(StoredTimestamp.string)
        pollInterval = request.interval
    }

    func request() throws -> ECPSLoginRequest {
        guard let state = ECPSLoginState(rawValue: state) else { throw PersistenceError.corrupt("e-CPS login request \(id)", "state \(state)") }
        return ECPSLoginRequest(
            id: id, holder: try IdNat(idNat), clientID: clientID, clientName: clientName, bindingMessage: bindingMessage, scope: scope,
            serverNonce: serverNonce, createdAt: try ECPSRows.date(createdAt, id), expiresAt: try ECPSRows.date(expiresAt, id), state: state,
            deviceID: deviceID, decidedAt: try decidedAt.map { try ECPSRows.date($0, id) },
            lastPolledAt: try lastPolledAt.map { try ECPSRows.date($0, id) }, interval: pollInterval)
    }
}

enum ECPSRows {
    static func date(_ text: String, _ id: String) throws -> Date {
        guard let date = StoredTimestamp.date(text) else { throw PersistenceError.corrupt("e-CPS record \(id)", "timestamp \(text)") }
        return date
    }
}

/// A holder's contact details for activation codes.
public struct ECPSContact: Sendable, Equatable, Codable {
    /// The holder.
    public var idNat: String
    /// Their e-mail address.
    public var email: String?
    /// Their phone number.
    public var phone: String?

    /// Creates contact details.
    public init(idNat: String, email: String?, phone: String?) {
        self.idNat = idNat
        self.email = email
        self.phone = phone
    }

    enum CodingKeys: String, CodingKey {
        case email, phone
        case idNat = "id_nat"
    }
}
