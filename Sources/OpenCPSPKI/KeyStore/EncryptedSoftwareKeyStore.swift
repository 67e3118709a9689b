import Crypto
import Foundation
import X509
import _CryptoExtras

/// The default key store: each private key in its own file `<label>.key`, sealed with
/// AES-256-GCM under a key derived from the operator passphrase with scrypt and a per-file salt.
///
/// The file is JSON: a clear header (format, label, algorithm, KDF name and parameters, salt,
/// the public key) and the sealed private key. The header is bound to the ciphertext as
/// authenticated data, so editing it makes decryption fail. Files are written with mode 0600
/// and never overwritten. A wrong passphrase gives `pki.keystore.wrong-passphrase`.
public struct EncryptedSoftwareKeyStore: KeyStore {
    /// scrypt cost parameters, recorded in each file so they can be raised later.
    public struct KDFParameters: Sendable, Codable, Hashable {
        /// CPU/memory cost N (a power of two).
        public var n: Int
        /// Block size r.
        public var r: Int
        /// Parallelism p.
        public var p: Int

        /// Creates parameters.
        public init(n: Int, r: Int, p: Int) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s): the default for real keys.
        public static let standard = KDFParameters(n: 1 << 15, r: 8, p: 1)
        /// N = 2^10: fast and weak, for tests only.
        public static let testsOnly = KDFParameters(n: 1 << 10, r: 8, p: 1)
    }

    struct KeyFile: Codable {
        static let formatName = "opencps-encrypted-key"
        var format: String
        var version: Int
        var label: String
        var algorithm: KeyAlgorithm
        var kdf: String
        var kdfParameters: KDFParameters
        var salt: String
        var cipher: String
        var publicKey: String
        var sealed: String

        /// The authenticated data: everything in the header that matters.
        var associatedData: Data {
            Data("\(format)|\(version)|\(label)|\(algorithm.rawValue)|\(kdf)|\(kdfParameters.n)|\(kdfParameters.r)|\(kdfParameters.p)|\(cipher)|\(publicKey)".utf8)
        }
    }

    /// The folder holding the key files.
    public let directory: URL
    private let passphrase: KeyStorePassphrase
    private let kdfParameters: KDFParameters
    private let random: RandomBytes

    /// Opens (and creates, mode 0700) a key store folder.
    /// - Parameters:
    ///   - directory: Where key files live, e.g. `<data>/keys`.
    ///   - passphrase: The operator passphrase.
    ///   - kdfParameters: scrypt costs for keys written from now on (reading uses each file's own).
    ///   - random: Source of salts.
    public init(directory: URL, passphrase: KeyStorePassphrase,
                kdfParameters: KDFParameters = .standard, random: RandomBytes = .system) throws {
        self.directory = directory
        self.passphrase = passphrase
        self.kdfParameters = kdfParameters
        self.random = random
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw PKIError.hierarchyStorage("The key folder \(directory.path) cannot be created.")
        }
    }

    private func fileURL(_ label: String) -> URL {
        directory.appendingPathComponent("\(label).key")
    }

    /// Moves `<label>.key`, still sealed, into `destination` (created mode 0700): how the root
    /// key leaves the server's data folder for offline media. The moved file opens with the same
    /// passphrase in a store on that folder.
    /// - Throws: `pki.keystore.key-not-found`, `pki.keystore.key-exists` (in `destination`),
    ///   `pki.hierarchy.storage` when the move fails.
    public func moveKey(label: String, to destination: URL) throws {
        try validateKeyLabel(label)
        guard exists(label: label) else { throw PKIError.keyNotFound(label: label) }
        let target = destination.appendingPathComponent("\(label).key")
        guard !FileManager.default.fileExists(atPath: target.path) else { throw PKIError.keyExists(label: label) }
        do {
            try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.moveItem(at: fileURL(label), to: target)
        } catch {
            throw PKIError.hierarchyStorage("The key '\(label)' cannot be moved to \(destination.path): \(error.localizedDescription)")
        }
    }

    /// Whether `<label>.key` exists.
    /// - Parameter label: The label.
    public func exists(label: String) -> Bool {
        guard (try? validateKeyLabel(label)) != nil else { return false }
        return FileManager.default.fileExists(atPath: fileURL(label).path)
    }

    /// Generates a key, seals it and writes `<label>.key` (mode 0600).
    /// - Parameters:
    ///   - label: The label.
    ///   - algorithm: The key type.
    /// - Returns: The signing handle.
    public func generateKey(label: String, algorithm: KeyAlgorithm) throws -> any PKISigningKey {
        try validateKeyLabel(label)
        guard !exists(label: label) else { throw PKIError.keyExists(label: label) }
        let key = try SoftwareSigningKey.generate(label: label, algorithm: algorithm)
        let salt = random.bytes(16)
        var file = KeyFile(format: KeyFile.formatName, version: 1, label: label, algorithm: algorithm,
                           kdf: "scrypt", kdfParameters: kdfParameters, salt: Data(salt).base64EncodedString(),
                           cipher: "AES-256-GCM",
                           publicKey: Data(try DERHelpers.encode(key.publicKey)).base64EncodedString(), sealed: "")
        let symmetricKey = try deriveKey(salt: salt, parameters: kdfParameters)
        let nonce = try AES.GCM.Nonce(data: random.bytes(12))
        let box = try AES.GCM.seal(key.privateDER, using: symmetricKey, nonce: nonce, authenticating: file.associatedData)
        guard let combined = box.combined else { throw PKIError.signingFailed("sealing produced no data") }
        file.sealed = combined.base64EncodedString()

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(file)
        // Created with 0600 before any byte is written, and never replacing an existing file.
        guard FileManager.default.createFile(atPath: fileURL(label).path, contents: data,
                                             attributes: [.posixPermissions: 0o600]) else {
            throw PKIError.hierarchyStorage("The key file for '\(label)' cannot be written in \(directory.path).")
        }
        return key
    }

    /// Reads and decrypts `<label>.key`.
    /// - Parameter label: The label.
    /// - Returns: The signing handle.
    public func key(label: String) throws -> any PKISigningKey {
        try validateKeyLabel(label)
        guard let data = FileManager.default.contents(atPath: fileURL(label).path) else {
            throw PKIError.keyNotFound(label: label)
        }
        let file: KeyFile
        do {
            file = try JSONDecoder().decode(KeyFile.self, from: data)
        } catch {
            throw PKIError.corruptKeyFile(label: label, detail: "not an OpenCPS key file")
        }
        guard file.format == KeyFile.formatName, file.version == 1, file.kdf == "scrypt",
              file.cipher == "AES-256-GCM", file.label == label,
              let salt = Data(base64Encoded: file.salt), let sealed = Data(base64Encoded: file.sealed) else {
            throw PKIError.corruptKeyFile(label: label, detail: "unsupported format or header")
        }
        let symmetricKey = try deriveKey(salt: Array(salt), parameters: file.kdfParameters)
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            plaintext = try AES.GCM.open(box, using: symmetricKey, authenticating: file.associatedData)
        } catch {
            throw PKIError.wrongPassphrase(label: label)
        }
        let key = try SoftwareSigningKey(label: label, algorithm: file.algorithm, privateDER: Array(plaintext))
        guard Data(try DERHelpers.encode(key.publicKey)).base64EncodedString() == file.publicKey else {
            throw PKIError.corruptKeyFile(label: label, detail: "the public key does not match the private key")
        }
        return key
    }

    private func deriveKey(salt: [UInt8], parameters: KDFParameters) throws -> SymmetricKey {
        guard parameters.n >= 2, parameters.n & (parameters.n - 1) == 0, parameters.r >= 1, parameters.p >= 1,
              parameters.n <= 1 << 22 else {
            throw PKIError.corruptKeyFile(label: "?", detail: "invalid scrypt parameters")
        }
        do {
            return try KDF.Scrypt.deriveKey(from: passphrase.bytes, salt: salt, outputByteCount: 32,
                                            rounds: parameters.n, blockSize: parameters.r, parallelism: parameters.p)
        } catch {
            throw PKIError.signingFailed("the key-derivation function failed")
        }
    }
}

/// A key store that keeps keys in memory only: for tests, demos and benchmarks.
public final class InMemoryKeyStore: KeyStore, @unchecked Sendable {
    private var keys: [String: SoftwareSigningKey] = [:]
    private let lock = PKILock()

    /// Creates an empty store.
    public init() {}

    /// Generates and keeps a key.
    public func generateKey(label: String, algorithm: KeyAlgorithm) throws -> any PKISigningKey {
        try validateKeyLabel(label)
        return try lock.withLock {
            guard keys[label] == nil else { throw PKIError.keyExists(label: label) }
            let key = try SoftwareSigningKey.generate(label: label, algorithm: algorithm)
            keys[label] = key
            return key
        }
    }

    /// Returns a kept key.
    public func key(label: String) throws -> any PKISigningKey {
        guard let key = lock.withLock({ keys[label] }) else { throw PKIError.keyNotFound(label: label) }
        return key
    }

    /// Whether a key is kept under `label`.
    public func exists(label: String) -> Bool {
        lock.withLock { keys[label] != nil }
    }
}
