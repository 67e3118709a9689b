import Foundation
import OpenCPSPKI
import Testing
import X509

@Suite("Encrypted software key store")
struct EncryptedSoftwareKeyStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-keys-\(UUID().uuidString)")

    func store(_ passphrase: String = "correct horse battery staple") throws -> EncryptedSoftwareKeyStore {
        try EncryptedSoftwareKeyStore(directory: directory, passphrase: KeyStorePassphrase(passphrase),
                                      kdfParameters: .testsOnly, random: .seeded(7))
    }

    @Test("a generated key is reopened from its file and signs verifiably")
    func roundTrip() throws {
        let key = try store().generateKey(label: "forte-personnes", algorithm: .p256)
        let reopened = try store().key(label: "forte-personnes")
        #expect(reopened.publicKey == key.publicKey)
        let message = Array("to be signed".utf8)
        let signature = try reopened.sign(message)
        #expect(key.publicKey.isValidSignature(signature, for: message, signatureAlgorithm: .ecdsaWithSHA256))
    }

    @Test("the key file is 0600, records the KDF and holds no clear private key")
    func fileAtRest() throws {
        _ = try store().generateKey(label: "k1", algorithm: .p256)
        let path = directory.appendingPathComponent("k1.key").path
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"kdf\" : \"scrypt\""))
        #expect(text.contains("AES-256-GCM"))
        #expect(!text.contains("PRIVATE KEY"))
    }

    @Test("a wrong passphrase gives a clear error")
    func wrongPassphrase() throws {
        _ = try store().generateKey(label: "k2", algorithm: .p256)
        #expect(throws: PKIError.wrongPassphrase(label: "k2")) {
            try store("not the right passphrase").key(label: "k2")
        }
    }

    @Test("an edited header makes the key unreadable")
    func tamperedHeader() throws {
        _ = try store().generateKey(label: "k3", algorithm: .p256)
        let url = directory.appendingPathComponent("k3.key")
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"n\" : 1024", with: "\"n\" : 2048")
        try text.write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: PKIError.wrongPassphrase(label: "k3")) { try store().key(label: "k3") }
    }

    @Test("labels are checked, keys are never overwritten, missing keys are reported")
    func labels() throws {
        let store = try store()
        #expect(throws: PKIError.invalidLabel("../x")) { try store.generateKey(label: "../x", algorithm: .p256) }
        _ = try store.generateKey(label: "k4", algorithm: .p256)
        #expect(store.exists(label: "k4"))
        #expect(!store.exists(label: "nope"))
        #expect(throws: PKIError.keyExists(label: "k4")) { try store.generateKey(label: "k4", algorithm: .p256) }
        #expect(throws: PKIError.keyNotFound(label: "nope")) { try store.key(label: "nope") }
    }

    @Test("the passphrase comes from a file or the environment and never prints")
    func passphraseSources() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pass-\(UUID().uuidString)")
        try "a long enough passphrase\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try KeyStorePassphrase.fromFile(file)
        #expect(String(describing: fromFile) == "<redacted>")
        _ = try KeyStorePassphrase.fromEnvironment(["OPENCPS_KEYSTORE_PASSPHRASE": "another long passphrase"])
        #expect(throws: PKIError.self) { try KeyStorePassphrase.fromEnvironment([:]) }
        #expect(throws: PKIError.self) { try KeyStorePassphrase("short") }
    }
}
