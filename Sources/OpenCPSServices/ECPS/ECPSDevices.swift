import Foundation
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSPKI
import OpenCPSPersistence

/// A code the holder's device will enrol with: shown as a QR code (card) or sent (activation).
public struct ECPSEnrolmentOffer: Sendable, Equatable {
    /// The enrolment.
    public var enrolmentID: String
    /// The QR payload (card enrolments only: an activation code is never returned to the caller).
    public var payload: EnrolmentPayload?
    /// When the code stops being accepted.
    public var expiresAt: Date
}

/// What a device posts to enrol.
public struct ECPSEnrolmentSubmission: Sendable, Equatable {
    /// The enrolment, for a QR code; nil for an activation code (found by `holder`).
    public var enrolmentID: String?
    /// The holder, for an activation code.
    public var holder: IdNat?
    /// The one-time code.
    public var code: String
    /// The name the holder gives the device.
    public var label: String
    /// The device key, SubjectPublicKeyInfo DER in base64url.
    public var deviceKey: String
    /// The approval key, SubjectPublicKeyInfo DER in base64url.
    public var approvalKey: String

    /// Creates a submission.
    public init(enrolmentID: String?, holder: IdNat?, code: String, label: String, deviceKey: String, approvalKey: String) {
        self.enrolmentID = enrolmentID
        self.holder = holder
        self.code = code
        self.label = label
        self.deviceKey = deviceKey
        self.approvalKey = approvalKey
    }
}

/// Enrolment of e-CPS devices, the holder's list of them, and their revocation.
///
/// Each change is one transaction with its audit entry. A wrong code is counted (per
/// enrolment and per address) and the count committed before the refusal is answered.
public struct ECPSDevices: Sendable {
    let core: ECPSCore
    let publicBaseURL: String
    let outbox: ECPSOutbox
    /// The PKI, which revokes a device's certificates with it; nil without a PKI.
    let pki: PKIService?

    /// Creates the service.
    /// - Parameters:
    ///   - database: where devices and the audit log are kept.
    ///   - clock: the clock (tests move it past the 90 seconds).
    ///   - random: the CSPRNG of codes and nonces.
    ///   - settings: lifetimes and limits.
    ///   - publicBaseURL: the server's address, put in QR payloads.
    ///   - outbox: where activation messages are written.
    ///   - pki: the PKI that issued the devices' certificates (``ECPSCertificates``).
    public init(
        database: ServiceDatabase, clock: any WallClock, random: RandomBytes = .system, settings: ECPSSettings = ECPSSettings(),
        publicBaseURL: String, outbox: ECPSOutbox, pki: PKIService? = nil
    ) {
        core = ECPSCore(database: database, clock: clock, random: random, settings: settings)
        self.publicBaseURL = publicBaseURL
        self.outbox = outbox
        self.pki = pki
    }

    /// Makes a one-time enrolment code for a card-authenticated holder, valid 90 seconds.
    public func startCardEnrolment(holder: IdNat) async throws -> ECPSEnrolmentOffer {
        try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            try await core.requireActiveCard(holder)
            let now = core.clock.now()
            let code = core.token(bytes: 16)
            let enrolment = ECPSEnrolment(
                id: core.newID(), holder: holder, method: .card, codeDigest: ECPSCore.digest(code), createdAt: now,
                expiresAt: now.addingTimeInterval(core.settings.qrCodeLifetime))
            try await repository.insert(enrolment)
            try await repository.record([AuditEvent(
                actor: ECPSCore.actor(holder), action: "ecps.enrolment.start", entityType: "ecps-enrolment", entityID: enrolment.id,
                detail: "QR code for \(holder.value), valid \(Int(core.settings.qrCodeLifetime)) s")])
            return ECPSEnrolmentOffer(
                enrolmentID: enrolment.id, payload: EnrolmentPayload(serverURL: publicBaseURL, enrolmentID: enrolment.id, code: code),
                expiresAt: enrolment.expiresAt)
        }
    }

    /// Sends an activation code to the holder's registered e-mail address or phone (written to
    /// the outbox), valid ``ECPSSettings/activationCodeLifetime``. A new request replaces the
    /// code of the one before.
    /// - Parameter address: the caller's network address, for the abuse limit.
    public func requestActivation(holder: IdNat, address: String) async throws -> ECPSEnrolmentOffer {
        try await core.checkLimit("address:\(address)")
        return try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            try await core.requireActiveCard(holder)
            guard let contact = try await repository.contact(holder: holder), let recipient = contact.email ?? contact.phone else {
                throw ECPSRuleError.noContact
            }
            let now = core.clock.now()
            // Eight digits: typed by a person from a text message; five tries per code.
            let code = core.random.bytes(8).map { String($0 % 10) }.joined()
            if var previous = try await repository.latestEnrolment(holder: holder, method: .activation), previous.usedAt == nil, previous.expiresAt > now {
                previous.expiresAt = now
                try await repository.update(previous)
            }
            let enrolment = ECPSEnrolment(
                id: core.newID(), holder: holder, method: .activation, codeDigest: ECPSCore.digest(code), createdAt: now,
                expiresAt: now.addingTimeInterval(core.settings.activationCodeLifetime))
            try await repository.insert(enrolment)
            let channel = contact.email != nil ? "email" : "sms"
            try await repository.record([AuditEvent(
                actor: ECPSCore.actor(holder), action: "ecps.enrolment.activation-sent", entityType: "ecps-enrolment", entityID: enrolment.id,
                detail: "activation code sent by \(channel)")])
            _ = try outbox.write(
                to: recipient, channel: channel, subject: "Votre code d'activation e-CPS",
                body: "Code d'activation e-CPS : \(code)\nValable \(Int(core.settings.activationCodeLifetime / 60)) minutes. Ne le communiquez à personne.",
                name: "\(StoredTimestamp.string(now))-\(enrolment.id)")
            return ECPSEnrolmentOffer(enrolmentID: enrolment.id, payload: nil, expiresAt: enrolment.expiresAt)
        }
    }

    /// Enrols a device with a code: a new device, or a new period for the same device key
    /// when it had expired (reactivation).
    /// - Parameter address: the caller's network address, for the abuse limit.
    /// - Throws: `ecps.wrong-code`, `ecps.enrolment-expired`, `ecps.enrolment-used`,
    ///   `ecps.too-many-attempts`, `ecps.device-revoked` (a revoked key never comes back).
    public func enrol(_ submission: ECPSEnrolmentSubmission, address: String) async throws -> ECPSDevice {
        let addressKey = "address:\(address)"
        try await core.checkLimit(addressKey)
        _ = try core.publicKey(submission.deviceKey, "deviceKey")
        _ = try core.publicKey(submission.approvalKey, "approvalKey")
        let label = submission.label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...80).contains(label.count) else {
            throw ECPSRuleError(code: "ecps.invalid-label", reason: "the device label must be 1 to 80 characters")
        }
        enum Outcome: Sendable { case enrolled(ECPSDevice), wrongCode }
        let outcome: Outcome = try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            let now = core.clock.now()
            let found: ECPSEnrolment?
            if let id = submission.enrolmentID {
                found = try await repository.enrolment(id: id)
            } else if let holder = submission.holder {
                found = try await repository.latestEnrolment(holder: holder, method: .activation)
            } else {
                found = nil
            }
            guard var enrolment = found else {
                try await repository.recordFailure(key: addressKey, at: now, window: core.settings.addressWindow)
                return .wrongCode
            }
            try enrolment.checkOpen(at: now, maximumAttempts: core.settings.maximumCodeAttempts)
            guard ECPSCore.same(ECPSCore.digest(submission.code), enrolment.codeDigest) else {
                enrolment.failedAttempts += 1
                try await repository.update(enrolment)
                try await repository.recordFailure(key: addressKey, at: now, window: core.settings.addressWindow)
                try await repository.record([AuditEvent(
                    actor: ECPSCore.actor(enrolment.holder), action: "ecps.enrolment.wrong-code", entityType: "ecps-enrolment",
                    entityID: enrolment.id, detail: "attempt \(enrolment.failedAttempts) of \(core.settings.maximumCodeAttempts) from \(address)")])
                return .wrongCode
            }
            try await core.requireActiveCard(enrolment.holder)
            enrolment.usedAt = now
            try await repository.update(enrolment)
            let expiry = core.settings.deviceExpiry(enrolledAt: now)
            if var existing = try await repository.device(deviceKey: submission.deviceKey) {
                guard existing.holder == enrolment.holder else { throw ECPSRuleError(code: "ecps.device-taken", reason: "this device key belongs to another holder") }
                guard existing.revokedAt == nil else { throw ECPSRuleError.deviceRevoked }
                let before = existing.status(at: now)
                existing.approvalKey = submission.approvalKey
                existing.label = label
                existing.enrolledAt = now
                existing.expiresAt = expiry
                existing.method = enrolment.method
                try await repository.update(existing)
                try await repository.record([AuditEvent(
                    actor: ECPSCore.actor(existing.holder), action: "ecps.device.reactivate", entityType: "ecps-device", entityID: existing.id,
                    detail: "\(before.rawValue) device re-enrolled by \(enrolment.method.rawValue) until \(StoredTimestamp.string(expiry))")])
                return .enrolled(existing)
            }
            let device = ECPSDevice(
                id: core.newID(), holder: enrolment.holder, label: label, deviceKey: submission.deviceKey, approvalKey: submission.approvalKey,
                method: enrolment.method, createdAt: now, enrolledAt: now, expiresAt: expiry)
            try await repository.insert(device)
            try await repository.record([AuditEvent(
                actor: ECPSCore.actor(device.holder), action: "ecps.device.enrol", entityType: "ecps-device", entityID: device.id,
                detail: "\"\(label)\" enrolled by \(enrolment.method.rawValue) until \(StoredTimestamp.string(expiry))")])
            return .enrolled(device)
        }
        switch outcome {
        case .enrolled(let device): return device
        case .wrongCode: throw ECPSRuleError.wrongCode
        }
    }

    /// The holder's devices, oldest first.
    public func devices(holder: IdNat) async throws -> [ECPSDevice] {
        try await core.repository.devices(holder: holder)
    }

    /// Revokes one of the holder's devices; its sessions and refresh tokens end in the same
    /// transaction, and its pending approvals can no longer be given.
    /// - Throws: `ecps.device-unknown` when the device is not the holder's.
    public func revoke(deviceID: String, holder: IdNat) async throws -> ECPSDevice {
        try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            guard var device = try await repository.device(id: deviceID), device.holder == holder else { throw ECPSRuleError.deviceUnknown }
            guard device.revokedAt == nil else { return device }
            let now = core.clock.now()
            device.revokedAt = now
            try await repository.update(device)
            // The provider's sessions opened with this device, and their tokens, end in this transaction.
            let ended = try await OIDCRepository(database: core.database.current, clock: core.clock)
                .endSessions(where: .device, equals: device.id, reason: "e-CPS device revoked", at: now)
            // Its certificates end with it, in this transaction too.
            if let pki {
                try await ECPSCertificates.revokeCertificates(
                    .device(device.id), reason: .cessationOfOperation, actor: ECPSCore.actor(holder), detail: "e-CPS device revoked",
                    database: core.database.current, clock: core.clock, pki: pki)
            }
            try await repository.record([AuditEvent(
                actor: ECPSCore.actor(holder), action: "ecps.device.revoke", entityType: "ecps-device", entityID: device.id,
                detail: "\"\(device.label)\" revoked, \(ended.count) session(s) ended")])
            return device
        }
    }

    /// Registers the holder's contact details, where activation codes are sent.
    public func setContact(holder: IdNat, email: String?, phone: String?) async throws {
        let email = email?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        let phone = phone?.filter { !$0.isWhitespace }.nilIfEmpty
        if let email, !(email.count <= 254 && email.split(separator: "@").count == 2 && !email.hasPrefix("@") && !email.hasSuffix("@")) {
            throw ECPSRuleError(code: "ecps.invalid-contact", reason: "the e-mail address is not valid")
        }
        if let phone, !(phone.count >= 6 && phone.count <= 20 && phone.enumerated().allSatisfy({ $1.isNumber || ($0 == 0 && $1 == "+") })) {
            throw ECPSRuleError(code: "ecps.invalid-contact", reason: "the phone number must be digits, with an optional leading +")
        }
        guard email != nil || phone != nil else { throw ECPSRuleError(code: "ecps.invalid-contact", reason: "give an e-mail address or a phone number") }
        try await core.database.transaction { _ in
            let repository = core.repository
            try await repository.lock()
            try await repository.setContact(ECPSContact(idNat: holder.value, email: email, phone: phone))
            try await repository.record([AuditEvent(
                actor: ECPSCore.actor(holder), action: "ecps.contact.set", entityType: "ecps-contact", entityID: holder.value,
                detail: [email.map { _ in "e-mail" }, phone.map { _ in "phone" }].compactMap { $0 }.joined(separator: " and ") + " registered")])
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
