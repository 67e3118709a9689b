import Foundation
import OpenCPSECPS
import Testing

/// The device: enrolment payloads, the PIN-sealed approval key and its try counter.
@Suite("e-CPS device")
struct ECPSDeviceTests {
    /// A cheap scrypt cost: the tests check behaviour, not the cost.
    static let cheap = SealedKey.Cost(rounds: 1 << 10, blockSize: 8, parallelism: 1)

    static func folder() -> DeviceFolder {
        DeviceFolder(url: FileManager.default.temporaryDirectory.appendingPathComponent("ecps-device-\(UUID().uuidString)"))
    }

    static let message = ApprovalMessage(
        requestID: "r1", clientName: "Messagerie", bindingMessage: "X1", serverNonce: "n1", decision: .approve, time: 1_795_510_800)

    @Test("a payload reads back what was written, and malformed ones are refused")
    func payloads() throws {
        let payload = EnrolmentPayload(serverURL: "https://opencps.example:8443", enrolmentID: "3f2a-77", code: "AbCdEfGh12_-")
        #expect(payload.text.hasPrefix("ecps1."))
        #expect(try EnrolmentPayload(text: payload.text) == payload)
        #expect(try EnrolmentPayload(text: "ecps1.aHR0cHM6Ly9vcGVuY3BzLmV4YW1wbGU.e1.ABCDEFGH") == EnrolmentPayload(
            serverURL: "https://opencps.example", enrolmentID: "e1", code: "ABCDEFGH"))
        for bad in ["", "ecps2.aHR0cHM6Ly94.e.ABCDEFGH", "ecps1.aHR0cHM6Ly94.e", "ecps1.Zm9v.e.ABCDEFGH", "ecps1.aHR0cHM6Ly94Lnk.e.short",
                    "ecps1.aHR0cHM6Ly94Lnk.e/1.ABCDEFGH"] {
            #expect(throws: ECPSError.self, "\(bad)") { try EnrolmentPayload(text: bad) }
        }
    }

    @Test("the right PIN signs an approval that verifies with the approval key")
    func signs() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder.url) }
        var vault = try DeviceVault.create(serverURL: "http://s", pin: "123456", cost: Self.cheap, save: folder.save)
        let signature = try vault.sign(Self.message, pin: "123456")
        #expect(ES256.isValid(signature: signature, of: Self.message.bytes, publicKey: try ES256.publicKey(base64URLDER: vault.state.approvalPublicKey)))
        // The device key is another key: it cannot approve.
        #expect(!ES256.isValid(signature: signature, of: Self.message.bytes, publicKey: try ES256.publicKey(base64URLDER: try vault.devicePublicKey)))
    }

    @Test("wrong PINs count down, are kept across reopenings, a right PIN resets them, and the fifth locks the device for good")
    func lockout() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder.url) }
        var vault = try DeviceVault.create(serverURL: "http://s", pin: "2468", cost: Self.cheap, save: folder.save)
        #expect(throws: ECPSError.wrongPIN(remaining: 4)) { try vault.sign(Self.message, pin: "0000") }
        _ = try vault.sign(Self.message, pin: "2468")
        #expect(vault.state.failedPINs == 0)
        for remaining in [4, 3, 2] {
            var reopened = try folder.open()
            #expect(throws: ECPSError.wrongPIN(remaining: remaining)) { try reopened.sign(Self.message, pin: "1111") }
        }
        var reopened = try folder.open()
        #expect(throws: ECPSError.wrongPIN(remaining: 1)) { try reopened.sign(Self.message, pin: "1111") }
        #expect(throws: ECPSError.locked) { try reopened.sign(Self.message, pin: "1111") }
        var locked = try folder.open()
        #expect(locked.state.isLocked)
        // Even the right PIN, and a counter reset by hand, no longer open anything: the key is gone.
        #expect(throws: ECPSError.locked) { try locked.sign(Self.message, pin: "2468") }
        var state = locked.state
        state.failedPINs = 0
        try folder.save(state)
        var edited = try folder.open()
        #expect(throws: ECPSError.locked) { try edited.sign(Self.message, pin: "2468") }
    }

    @Test("the lock threshold is configurable")
    func threshold() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder.url) }
        var vault = try DeviceVault.create(serverURL: "http://s", pin: "2468", maximumPINTries: 2, cost: Self.cheap, save: folder.save)
        #expect(throws: ECPSError.wrongPIN(remaining: 1)) { try vault.sign(Self.message, pin: "1357") }
        #expect(throws: ECPSError.locked) { try vault.sign(Self.message, pin: "1357") }
    }

    @Test("a PIN that is not 4 to 12 digits is refused without counting a try")
    func pinForm() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder.url) }
        #expect(throws: ECPSError.self) { try DeviceVault.create(serverURL: "http://s", pin: "12a4", cost: Self.cheap, save: folder.save) }
        var vault = try DeviceVault.create(serverURL: "http://s", pin: "2468", cost: Self.cheap, save: folder.save)
        #expect(throws: ECPSError.invalidPIN("the device PIN must be 4 to 12 digits")) { try vault.sign(Self.message, pin: "12") }
        #expect(vault.state.failedPINs == 0)
    }

    @Test("the device proof verifies with the device key and names the enrolled device")
    func proof() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder.url) }
        var vault = try DeviceVault.create(serverURL: "http://s", pin: "2468", cost: Self.cheap, save: folder.save)
        #expect(throws: ECPSError.self) { try vault.proof(time: 1, nonce: "n") }
        try vault.enrolled(deviceID: "dev-9", idNat: "810000000001")
        let (message, signature) = try folder.open().proof(time: 1_795_510_800, nonce: "xyz")
        #expect(message.deviceID == "dev-9")
        #expect(ES256.isValid(signature: signature, of: message.bytes, publicKey: try ES256.publicKey(base64URLDER: try vault.devicePublicKey)))
    }
}
