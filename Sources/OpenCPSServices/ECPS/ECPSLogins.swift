import Foundation
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSPKI
import OpenCPSPersistence

/// A device's proof that it holds its device key (see ``DeviceProofMessage``).
public struct ECPSDeviceProof: Sendable, Equatable {
    /// The device.
    public var deviceID: String
    /// The device's nonce.
    public var nonce: String
    /// When the proof was made, seconds since 1970.
    public var time: Int64
    /// The signature, base64url (`r || s`).
    public var signature: String

    /// Creates a proof.
    public init(deviceID: String, nonce: String, time: Int64, signature: String) {
        self.deviceID = deviceID
        self.nonce = nonce
        self.time = time
        self.signature = signature
    }
}

/// What a client's poll finds (CIBA's token endpoint answers from it).
public enum ECPSPollOutcome: Sendable, Equatable {
    /// Still waiting for the holder.
    case pending
    /// Asked again before the interval passed: the interval grows by 5 s.
    case slowDown
    /// The holder refused, or the device or card stopped serving before the tokens were collected.
    case denied
    /// The request's time ran out.
    case expired
    /// The holder approved: the tokens may be issued, once (the request is now consumed).
    case approved(ECPSLoginRequest)
}

/// Login requests answered on an e-CPS device: made by a client (CIBA), listed to the device,
/// decided by the holder's signed approval, and collected once by the client.
public struct ECPSLogins: Sendable {
    let core: ECPSCore

    /// Creates the service.
    public init(database: ServiceDatabase, clock: any WallClock, random: RandomBytes = .system, settings: ECPSSettings = ECPSSettings()) {
        core = ECPSCore(database: database, clock: clock, random: random, settings: settings)
    }

    /// The settings.
    public var settings: ECPSSettings { core.settings }

    /// Makes a login request for a holder's devices.
    /// - Throws: `ecps.no-active-card`, `ecps.no-device` when the holder has no active device.
    public func create(holder: IdNat, clientID: String, clientName: String, bindingMessage: String, scope: String) async throws -> ECPSLoginRequest {
        try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            let now = core.clock.now()
            try await core.requireActiveCard(holder)
            guard try await repository.devices(holder: holder).contains(where: { $0.status(at: now) == .active }) else {
                throw ECPSRuleError(code: "ecps.no-device", reason: "the holder has no active e-CPS device")
            }
            let request = ECPSLoginRequest(
                id: core.newID(), holder: holder, clientID: clientID, clientName: clientName, bindingMessage: bindingMessage, scope: scope,
                serverNonce: core.token(bytes: 16), createdAt: now, expiresAt: now.addingTimeInterval(core.settings.loginRequestLifetime),
                interval: core.settings.pollInterval)
            try await repository.insert(request)
            try await repository.record([AuditEvent(
                actor: "client:\(clientID)", action: "ecps.login.request", entityType: "ecps-login", entityID: request.id,
                detail: "for \(holder.value)\(bindingMessage.isEmpty ? "" : ", binding message \"\(bindingMessage)\"")")])
            return request
        }
    }

    /// The device's holder's pending requests, once its proof verifies.
    /// - Throws: `ecps.bad-proof`, `ecps.device-unknown`, `ecps.device-revoked`, `ecps.device-expired`.
    public func pending(proof: ECPSDeviceProof) async throws -> (device: ECPSDevice, requests: [ECPSLoginRequest]) {
        let device = try await device(proof: proof)
        return (device, try await core.repository.pendingRequests(holder: device.holder, at: core.clock.now()))
    }

    /// The device that made a proof, if the proof verifies and the device serves.
    public func device(proof: ECPSDeviceProof) async throws -> ECPSDevice {
        let now = core.clock.now()
        guard let device = try await core.repository.device(id: proof.deviceID) else { throw ECPSRuleError.deviceUnknown }
        try device.checkUsable(at: now)
        let message = DeviceProofMessage(deviceID: proof.deviceID, nonce: proof.nonce, time: proof.time)
        guard abs(Double(proof.time) - now.timeIntervalSince1970) <= core.settings.clockSkew, !proof.nonce.isEmpty,
              ES256.isValid(signature: try core.signature(proof.signature), of: message.bytes, publicKey: try core.publicKey(device.deviceKey, "deviceKey"))
        else { throw ECPSRuleError.badProof }
        return device
    }

    /// Records the holder's decision, signed on the device with the approval key.
    ///
    /// The server rebuilds the signed message from what it stored (client, binding message,
    /// nonce) and the device's decision and time, so a signature over anything else fails.
    /// A refusal is audited (`ecps.approval.failure`, with the device, the client, the means
    /// and the address), as a failed card login is, and counts toward the address's limit.
    /// - Parameter address: the caller's address, for the limit and the audit.
    /// - Throws: `ecps.device-unknown`, `ecps.device-revoked`, `ecps.device-expired`,
    ///   `ecps.request-unknown`, `ecps.request-decided`, `ecps.request-expired`, `ecps.bad-approval`,
    ///   `ecps.invalid-signature`, `ecps.no-active-card` (on approval), `ecps.too-many-attempts`.
    public func decide(
        requestID: String, deviceID: String, decision: ECPSDecision, time: Int64, signature: String, address: String
    ) async throws -> ECPSLoginRequest {
        try await core.checkLimit("address:\(address)")
        do {
            return try await record(requestID: requestID, deviceID: deviceID, decision: decision, time: time, signature: signature)
        } catch let error as ECPSRuleError {
            try await recordRefusal(error, requestID: requestID, deviceID: deviceID, decision: decision, address: address)
            throw error
        }
    }

    /// Writes a refused decision to the audit log in a transaction of its own (the decision's
    /// was rolled back): who tried (the device, or the address when the device is unknown),
    /// for which client's request, by which means, and why.
    private func recordRefusal(_ error: ECPSRuleError, requestID: String, deviceID: String, decision: ECPSDecision, address: String) async throws {
        try await core.database.transaction { _ in
            let repository = core.repository
            let now = core.clock.now()
            let device = try await repository.device(id: deviceID)
            let request = try await repository.loginRequest(id: requestID)
            try await repository.recordFailure(key: "address:\(address)", at: now, window: core.settings.addressWindow)
            try await repository.record([AuditEvent(
                actor: device.map { ECPSCore.actor($0.holder) } ?? "address:\(address)", action: "ecps.approval.failure",
                entityType: "ecps-login", entityID: requestID,
                detail: "means=ecps device=\(device?.id ?? "unknown:\(deviceID.prefix(64))") client=\(request?.clientID ?? "unknown") "
                    + "decision=\(decision.rawValue) code=\(error.code) address=\(address)")])
        }
    }

    /// The decision's transaction: checks the device, the request and the signature, then records.
    private func record(requestID: String, deviceID: String, decision: ECPSDecision, time: Int64, signature: String) async throws -> ECPSLoginRequest {
        let signatureBytes = try core.signature(signature)
        return try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            let now = core.clock.now()
            guard let device = try await repository.device(id: deviceID) else { throw ECPSRuleError.deviceUnknown }
            try device.checkUsable(at: now)
            guard var request = try await repository.loginRequest(id: requestID), request.holder == device.holder else {
                throw ECPSRuleError.requestUnknown
            }
            let message = ApprovalMessage(
                requestID: request.id, clientName: request.clientName, bindingMessage: request.bindingMessage, serverNonce: request.serverNonce,
                decision: decision, time: time)
            guard abs(Double(time) - now.timeIntervalSince1970) <= core.settings.clockSkew,
                  ES256.isValid(signature: signatureBytes, of: message.bytes, publicKey: try core.publicKey(device.approvalKey, "approvalKey"))
            else { throw ECPSRuleError.badApproval }
            if decision == .approve { try await core.requireActiveCard(device.holder) }
            try request.decide(decision == .approve, device: device.id, at: now)
            try await repository.update(request)
            try await repository.record([AuditEvent(
                actor: ECPSCore.actor(device.holder), action: decision == .approve ? "ecps.login.approve" : "ecps.login.deny",
                entityType: "ecps-login", entityID: request.id, detail: "on device \(device.id) for client \(request.clientID)")])
            return request
        }
    }

    /// A client's poll: where its request stands. An approved request is handed out once,
    /// after checking again that its device and the holder's card still serve.
    /// - Throws: `ecps.request-unknown` when the request is not this client's.
    public func poll(requestID: String, clientID: String) async throws -> ECPSPollOutcome {
        try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            let now = core.clock.now()
            guard var request = try await repository.loginRequest(id: requestID), request.clientID == clientID else {
                throw ECPSRuleError.requestUnknown
            }
            switch request.state {
            case .denied:
                return .denied
            case .consumed:
                throw ECPSRuleError.requestUnknown
            case .pending:
                guard now < request.expiresAt else { return .expired }
                let tooSoon = request.lastPolledAt.map { now.timeIntervalSince($0) < Double(request.interval) } ?? false
                if tooSoon { request.interval += 5 }
                request.lastPolledAt = now
                try await repository.update(request)
                return tooSoon ? .slowDown : .pending
            case .approved:
                guard let deviceID = request.deviceID, let device = try await repository.device(id: deviceID),
                      device.status(at: now) == .active else { return .denied }
                do {
                    try await core.requireActiveCard(request.holder)
                } catch {
                    return .denied
                }
                request.state = .consumed
                try await repository.update(request)
                try await repository.record([AuditEvent(
                    actor: "client:\(clientID)", action: "ecps.login.collect", entityType: "ecps-login", entityID: request.id,
                    detail: "tokens issued for \(request.holder.value) (amr ecps, device \(deviceID))")])
                return .approved(request)
            }
        }
    }
}
