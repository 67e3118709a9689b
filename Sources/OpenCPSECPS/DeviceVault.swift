import Crypto
import Foundation

/// Everything a device keeps: its two keys, what the server said at enrolment, and the PIN
/// try counter.
///
/// Two keys, so that asking for pending requests needs no PIN: the *device key* proves which
/// device asks (kept unsealed, as a phone keeps a key in its key store without user
/// presence), the *approval key* signs the holder's decisions and is sealed under the PIN.
/// A copied device file can therefore see pending requests, never approve one.
public struct DeviceState: Codable, Sendable, Equatable {
    /// The server's base URL.
    public var serverURL: String
    /// The identifier the server gave the device at enrolment (nil until then).
    public var deviceID: String?
    /// The holder's idNat, as the server confirmed it.
    public var idNat: String?
    /// The device key's raw private bytes, base64url.
    public var deviceKey: String
    /// The approval key, sealed under the PIN; nil once the device locked (the key is erased).
    public var approvalKey: SealedKey?
    /// The approval key's public half (kept when the sealed key is erased, to say which it was).
    public var approvalPublicKey: String
    /// Wrong PINs entered since the last right one.
    public var failedPINs: Int
    /// How many wrong PINs in a row lock the device.
    public var maximumPINTries: Int

    /// Whether the device is locked.
    public var isLocked: Bool { approvalKey == nil }
}

/// The device side of e-CPS: makes the keys, proves the device, and signs approvals after
/// checking the PIN against the sealed key, counting wrong PINs.
///
/// Every change of the counter is written (through `save`) before the answer is given, so
/// stopping the program after a wrong PIN does not give the try back.
public struct DeviceVault: Sendable {
    /// Wrong PINs in a row that lock a device unless configured otherwise.
    public static let defaultMaximumPINTries = 5

    /// The device's state as last read or written.
    public private(set) var state: DeviceState
    private let save: @Sendable (DeviceState) throws -> Void

    /// Opens a device from its state.
    /// - Parameters:
    ///   - state: what the device keeps.
    ///   - save: writes the state durably; called after every change.
    public init(state: DeviceState, save: @escaping @Sendable (DeviceState) throws -> Void) {
        self.state = state
        self.save = save
    }

    /// Makes a new device: two P-256 keys, the approval key sealed under `pin`.
    /// - Parameters:
    ///   - serverURL: the server it will enrol with.
    ///   - pin: the PIN the holder chose.
    ///   - maximumPINTries: wrong PINs in a row that lock it.
    ///   - cost: the scrypt cost.
    ///   - randomBytes: a source of random bytes (the salt).
    ///   - save: writes the state durably.
    public static func create(
        serverURL: String, pin: String, maximumPINTries: Int = defaultMaximumPINTries, cost: SealedKey.Cost = .standard,
        randomBytes: @Sendable (Int) -> [UInt8] = DeviceVault.systemRandom, save: @escaping @Sendable (DeviceState) throws -> Void
    ) throws -> DeviceVault {
        guard maximumPINTries >= 1 else { throw ECPSError.invalidPIN("the device must allow at least one PIN try") }
        let deviceKey = P256.Signing.PrivateKey()
        let approvalKey = P256.Signing.PrivateKey()
        let sealed = try SealedKey.seal(approvalKey, pin: pin, cost: cost, salt: randomBytes(16))
        let state = DeviceState(
            serverURL: serverURL, deviceID: nil, idNat: nil, deviceKey: Base64URL.encode(deviceKey.rawRepresentation),
            approvalKey: sealed, approvalPublicKey: sealed.publicKey, failedPINs: 0, maximumPINTries: maximumPINTries)
        try save(state)
        return DeviceVault(state: state, save: save)
    }

    /// Random bytes from the system's generator.
    public static let systemRandom: @Sendable (Int) -> [UInt8] = { count in
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The device key's public half, SubjectPublicKeyInfo DER in base64url.
    public var devicePublicKey: String {
        get throws { ES256.encode(try deviceKey().publicKey) }
    }

    /// Replaces the approval key with a new one sealed under `pin`, keeping the device key:
    /// how a device enrolled again (reactivated, or after it locked) gets a working approval
    /// key. The server accepts the new key only with a new enrolment code.
    public mutating func renewApprovalKey(
        pin: String, cost: SealedKey.Cost = .standard, randomBytes: @Sendable (Int) -> [UInt8] = DeviceVault.systemRandom
    ) throws {
        let sealed = try SealedKey.seal(P256.Signing.PrivateKey(), pin: pin, cost: cost, salt: randomBytes(16))
        state.approvalKey = sealed
        state.approvalPublicKey = sealed.publicKey
        state.failedPINs = 0
        try save(state)
    }

    /// Records what the server answered at enrolment.
    public mutating func enrolled(deviceID: String, idNat: String) throws {
        state.deviceID = deviceID
        state.idNat = idNat
        try save(state)
    }

    /// Proves the device holds its key: signs its identifier, a nonce and the time.
    /// - Returns: the message signed and the signature (64 bytes, `r || s`).
    public func proof(time: Int64, nonce: String) throws -> (message: DeviceProofMessage, signature: [UInt8]) {
        guard let deviceID = state.deviceID else { throw ECPSError.storage("the device is not enrolled yet") }
        let message = DeviceProofMessage(deviceID: deviceID, nonce: nonce, time: time)
        let signature = try deviceKey().signature(for: message.bytes).rawRepresentation
        return (message, [UInt8](signature))
    }

    /// Signs the holder's decision on a login request, after the PIN opens the approval key.
    ///
    /// A wrong PIN is counted and written before this throws; the last allowed wrong PIN
    /// erases the sealed key (the device must be enrolled again), so that editing the counter
    /// in the file gives no more tries.
    /// - Throws: `ecps.wrong-pin` with the tries left, `ecps.device-locked`, `ecps.invalid-pin`.
    public mutating func sign(_ message: ApprovalMessage, pin: String) throws -> [UInt8] {
        guard let sealed = state.approvalKey else { throw ECPSError.locked }
        try PIN.check(pin)
        guard let key = try sealed.open(pin: pin) else {
            state.failedPINs += 1
            if state.failedPINs >= state.maximumPINTries {
                state.approvalKey = nil
                try save(state)
                throw ECPSError.locked
            }
            try save(state)
            throw ECPSError.wrongPIN(remaining: state.maximumPINTries - state.failedPINs)
        }
        if state.failedPINs != 0 {
            state.failedPINs = 0
            try save(state)
        }
        return [UInt8](try key.signature(for: message.bytes).rawRepresentation)
    }

    private func deviceKey() throws -> P256.Signing.PrivateKey {
        guard let raw = Base64URL.decode(state.deviceKey) else { throw ECPSError.storage("the device key is not base64url") }
        return try P256.Signing.PrivateKey(rawRepresentation: raw)
    }
}

/// A device's state in a folder (`device.json`, readable by its owner only): how the command
/// line's stand-in for the phone keeps it.
public struct DeviceFolder: Sendable {
    /// The folder.
    public let url: URL

    /// Names the folder.
    public init(url: URL) {
        self.url = url
    }

    /// The state file.
    public var file: URL { url.appendingPathComponent("device.json") }

    /// Whether a device lives here.
    public var exists: Bool { FileManager.default.fileExists(atPath: file.path) }

    /// Reads the device.
    public func open() throws -> DeviceVault {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ECPSError.storage("no device in \(url.path): enrol one first")
        }
        let state: DeviceState
        do {
            state = try JSONDecoder().decode(DeviceState.self, from: data)
        } catch {
            throw ECPSError.storage("\(file.path) is not a device file")
        }
        return DeviceVault(state: state, save: save)
    }

    /// Writes the state atomically, owner-only.
    @Sendable public func save(_ state: DeviceState) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let temporary = url.appendingPathComponent(".device.json.\(UUID().uuidString)")
            try encoder.encode(state).write(to: temporary)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary.path)
            // rename(2) replaces the old file in one step: a crash leaves the old state or the new.
            guard rename(temporary.path, file.path) == 0 else {
                try? FileManager.default.removeItem(at: temporary)
                throw ECPSError.storage("the device could not be written to \(file.path)")
            }
        } catch let error as ECPSError {
            throw error
        } catch {
            throw ECPSError.storage("the device could not be written to \(url.path): \(error.localizedDescription)")
        }
    }
}
