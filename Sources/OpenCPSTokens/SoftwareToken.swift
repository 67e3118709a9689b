import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OpenCPSDomain
import OpenCPSPKI
import X509
import _CryptoExtras

/// A card held in a file: the embedded default, for development and demos.
///
/// The two private keys are sealed (AES-256-GCM) under a random token key; that key is in
/// turn sealed under a key derived (scrypt) from the PIN and, separately, from the PUK. A PIN
/// is checked by opening its seal; the counters are written to the file, atomically, before
/// the answer is given.
///
/// Limits, said plainly: a 4-digit PIN cannot resist an offline search by whoever copies the
/// file, and counters in a file can be reset by whoever can write it. Real cards enforce both
/// in hardware; the PKCS#11 backend is the production path.
public final class SoftwareToken: CardToken, @unchecked Sendable {
    /// scrypt costs for PIN and PUK seals: low enough to manufacture hundreds of cards a second.
    public struct KDFCost: Sendable, Codable, Hashable {
        /// CPU/memory cost.
        public var n: Int
        /// Block size.
        public var r: Int
        /// Parallelism.
        public var p: Int

        /// The default: n = 2¹⁰, r = 8, p = 1 (1 MiB, a few milliseconds).
        public static let standard = KDFCost(n: 1 << 10, r: 8, p: 1)

        /// Creates costs; tests use small ones.
        public init(n: Int, r: Int, p: Int) {
            self.n = n
            self.r = r
            self.p = p
        }
    }

    struct Seal: Codable {
        var salt: String
        var sealed: String
    }

    struct KeyEntry: Codable {
        var role: CardKeyRole
        var algorithm: KeyAlgorithm
        var sealed: String
        var certificate: String
    }

    struct File: Codable {
        var format = "opencps-software-token"
        var version = 1
        var publicData: CardPublicData
        var keys: [KeyEntry]
        var pinSeal: Seal
        var pukSeal: Seal
        var kdf: KDFCost
        var counters: CardSecretCounters
    }

    /// Where the token lives.
    public let url: URL
    /// The PIN policy (tries before blocking).
    public let policy: PINPolicy
    private let lock = NSLock()
    // Guarded by lock; mirrors the file.
    private var file: File

    private init(url: URL, file: File, policy: PINPolicy) {
        self.url = url
        self.file = file
        self.policy = policy
    }

    /// The public data.
    public var publicData: CardPublicData { lock.withLock { file.publicData } }

    /// Creates a token file (never replacing one) holding the given keys and certificates.
    /// - Parameters:
    ///   - url: the file to create.
    ///   - publicData: the card's public data.
    ///   - keys: the key pairs, generated for this card, with their certificates (PEM).
    ///   - pin: the first PIN (4 digits).
    ///   - puk: the PUK (8 digits).
    ///   - random: the source of the token key, salts and nonces.
    ///   - durable: whether the file is flushed to disk before returning (a production run
    ///     flushes a whole batch at once instead).
    public static func create(
        at url: URL, publicData: CardPublicData, keys: [(CardKeyRole, SoftwareSigningKey, String)], pin: String, puk: String,
        policy: PINPolicy = .standard, kdf: KDFCost = .standard, random: RandomBytes = .system, durable: Bool = true
    ) throws -> SoftwareToken {
        try PINPolicy.checkPINFormat(pin)
        try PINPolicy.checkPUKFormat(puk)
        let tokenKey = SymmetricKey(data: random.bytes(32))
        let entries = try keys.map { role, key, certificate in
            KeyEntry(
                role: role, algorithm: key.algorithm,
                sealed: try seal(key.privateDER, with: tokenKey, random: random), certificate: certificate)
        }
        let tokenKeyBytes = tokenKey.withUnsafeBytes { Array($0) }
        let file = File(
            publicData: publicData, keys: entries,
            pinSeal: try sealSecret(tokenKeyBytes, secret: pin, kdf: kdf, random: random),
            pukSeal: try sealSecret(tokenKeyBytes, secret: puk, kdf: kdf, random: random),
            kdf: kdf, counters: policy.freshCounters)
        let token = SoftwareToken(url: url, file: file, policy: policy)
        try token.write(file, createOnly: true, durable: durable)
        return token
    }

    /// Opens a token file.
    public static func open(_ url: URL, policy: PINPolicy = .standard) throws -> SoftwareToken {
        SoftwareToken(url: url, file: try read(url), policy: policy)
    }

    private static func read(_ url: URL) throws -> File {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenError(code: "token.not-found", reason: "no token file \(url.lastPathComponent)")
        }
        guard let file = try? JSONDecoder().decode(File.self, from: data), file.format == "opencps-software-token", file.version == 1 else {
            throw TokenError(code: "token.corrupt", reason: "\(url.lastPathComponent) is not an OpenCPS software token")
        }
        return file
    }

    /// Runs `body` holding the token's lock, shared with every other object and process that
    /// opens the same file, on the counters as they are on disk now: two requests that present
    /// a secret at once see each other's tries, so no more than the policy's tries are ever had.
    /// (The lock is a file of its own beside the token, since the token file is replaced on
    /// every write.)
    private func exclusively<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock {
            let lockPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).lock").path
            let descriptor = Glibc.open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw TokenError(code: "token.write-failed", reason: "cannot lock \(url.lastPathComponent): \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    throw TokenError(code: "token.write-failed", reason: "cannot lock \(url.lastPathComponent): \(String(cString: strerror(errno)))")
                }
            }
            file = try Self.read(url)
            return try body()
        }
    }

    /// The certificate of a key, PEM.
    public func certificatePEM(_ role: CardKeyRole) -> String {
        lock.withLock { file.keys.first { $0.role == role }?.certificate ?? "" }
    }

    /// The PIN and PUK counters.
    public func counters() throws -> CardSecretCounters {
        try exclusively { file.counters }
    }

    /// Presents the PIN: 3 wrong tries block it.
    public func verifyPIN(_ pin: String) throws -> TokenSecretResult {
        try exclusively { try checkPIN(pin).result }
    }

    /// Changes the PIN after presenting the current one.
    public func changePIN(current: String, new: String) throws -> TokenSecretResult {
        try PINPolicy.checkPINFormat(new)
        return try exclusively {
            let (result, tokenKey) = try checkPIN(current)
            guard let tokenKey else { return result }
            var updated = file
            updated.pinSeal = try Self.sealSecret(tokenKey, secret: new, kdf: file.kdf, random: .system)
            try write(updated, createOnly: false)
            file = updated
            return .accepted
        }
    }

    /// Unblocks with the PUK and sets a new PIN; the PUK has its own limit, then the card is dead.
    public func unblock(puk: String, newPIN: String) throws -> TokenSecretResult {
        try PINPolicy.checkPINFormat(newPIN)
        return try exclusively {
            let tokenKey = Self.openSecret(file.pukSeal, secret: puk, kdf: file.kdf)
            let check = try file.counters.unblock(pukMatches: tokenKey != nil, newPIN: newPIN, policy: policy)
            var updated = file
            updated.counters = check.counters
            if case .unblocked = check.outcome, let tokenKey {
                updated.pinSeal = try Self.sealSecret(tokenKey, secret: newPIN, kdf: file.kdf, random: .system)
            }
            // Written before the answer, whatever it is.
            try write(updated, createOnly: false)
            file = updated
            switch check.outcome {
            case .unblocked: return .accepted
            case .wrongPUK(let left): return .wrong(triesLeft: left)
            case .exhaustedNow, .pukExhausted: return .pukExhausted
            }
        }
    }

    /// Signs after presenting the PIN.
    public func sign(_ message: [UInt8], with role: CardKeyRole, pin: String) throws -> Result<[UInt8], TokenRefusal> {
        try exclusively {
            let (result, tokenKey) = try checkPIN(pin)
            guard let tokenKey else { return .failure(TokenRefusal(result: result)) }
            return .success(try key(role, tokenKey: tokenKey).sign(message))
        }
    }

    /// The signing key of a role after presenting the PIN (for CMS and TLS code that signs itself).
    public func signingKey(_ role: CardKeyRole, pin: String) throws -> Result<SoftwareSigningKey, TokenRefusal> {
        try exclusively {
            let (result, tokenKey) = try checkPIN(pin)
            guard let tokenKey else { return .failure(TokenRefusal(result: result)) }
            return .success(try key(role, tokenKey: tokenKey))
        }
    }

    // MARK: Internals (called holding the token's lock)

    private func checkPIN(_ pin: String) throws -> (result: TokenSecretResult, tokenKey: [UInt8]?) {
        switch file.counters.status {
        case .pinBlocked: return (.pinBlocked, nil)
        case .pukExhausted: return (.pukExhausted, nil)
        case .usable: break
        }
        let tokenKey = (try? PINPolicy.checkPINFormat(pin)) == nil ? nil : Self.openSecret(file.pinSeal, secret: pin, kdf: file.kdf)
        let check = file.counters.verifyPIN(matches: tokenKey != nil, policy: policy)
        if check.counters != file.counters {
            var updated = file
            updated.counters = check.counters
            // Written before the answer is given.
            try write(updated, createOnly: false)
            file = updated
        }
        switch check.outcome {
        case .accepted: return (.accepted, tokenKey)
        case .wrongPIN(let left): return (.wrong(triesLeft: left), nil)
        case .blockedNow, .pinBlocked: return (.pinBlocked, nil)
        case .pukExhausted: return (.pukExhausted, nil)
        }
    }

    private func key(_ role: CardKeyRole, tokenKey: [UInt8]) throws -> SoftwareSigningKey {
        guard let entry = file.keys.first(where: { $0.role == role }),
              let sealed = Data(base64Encoded: entry.sealed),
              let der = try? AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: SymmetricKey(data: tokenKey)) else {
            throw TokenError(code: "token.corrupt", reason: "the \(role.rawValue) key of card \(file.publicData.cardSerial) cannot be read")
        }
        return try SoftwareSigningKey(label: "card-\(file.publicData.cardSerial)-\(role.rawValue)", algorithm: entry.algorithm, privateDER: Array(der))
    }

    private func write(_ file: File, createOnly: Bool, durable: Bool = true) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(file)
        let directory = url.deletingLastPathComponent()
        if createOnly {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            if let failure = PrivateFile.create(url, contents: data, durable: durable) {
                throw TokenError(code: "token.write-failed", reason: "cannot create \(url.lastPathComponent): \(String(cString: strerror(failure)))")
            }
            return
        }
        // Write then rename, so a crash leaves the old counters or the new ones, never half a file.
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw TokenError(code: "token.write-failed", reason: "cannot write \(url.lastPathComponent)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw TokenError(code: "token.write-failed", reason: "cannot replace \(url.lastPathComponent)")
        }
    }

    private static func seal(_ bytes: [UInt8], with key: SymmetricKey, random: RandomBytes) throws -> String {
        let box = try AES.GCM.seal(bytes, using: key, nonce: AES.GCM.Nonce(data: random.bytes(12)))
        return box.combined!.base64EncodedString()
    }

    private static func derive(_ secret: String, salt: [UInt8], kdf: KDFCost) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(
            from: Array(secret.utf8), salt: salt, outputByteCount: 32, rounds: kdf.n, blockSize: kdf.r, parallelism: kdf.p)
    }

    private static func sealSecret(_ tokenKey: [UInt8], secret: String, kdf: KDFCost, random: RandomBytes) throws -> Seal {
        let salt = random.bytes(16)
        return Seal(salt: Data(salt).base64EncodedString(), sealed: try seal(tokenKey, with: derive(secret, salt: salt, kdf: kdf), random: random))
    }

    private static func openSecret(_ seal: Seal, secret: String, kdf: KDFCost) -> [UInt8]? {
        guard let salt = Data(base64Encoded: seal.salt), let sealed = Data(base64Encoded: seal.sealed),
              let key = try? derive(secret, salt: Array(salt), kdf: kdf),
              let box = try? AES.GCM.SealedBox(combined: sealed),
              let opened = try? AES.GCM.open(box, using: key) else { return nil }
        return Array(opened)
    }
}

/// A token that cannot be used, with a stable code.
public struct TokenError: DomainError, Equatable {
    /// The stable code (`token.not-found`, `token.corrupt`, `token.write-failed`).
    public let code: String
    /// Why.
    public let reason: String

    /// Creates an error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// The software tokens of a data folder: `<folder>/<card serial>.token`.
public struct SoftwareTokenStore: Sendable {
    /// The folder.
    public let directory: URL
    /// The PIN policy of the tokens.
    public let policy: PINPolicy
    /// scrypt costs of new tokens.
    public let kdf: SoftwareToken.KDFCost

    /// Creates the store.
    public init(directory: URL, policy: PINPolicy = .standard, kdf: SoftwareToken.KDFCost = .standard) {
        self.directory = directory
        self.policy = policy
        self.kdf = kdf
    }

    /// The file of a card.
    public func url(cardSerial: String) -> URL {
        directory.appendingPathComponent("\(cardSerial).token")
    }

    /// Opens the token of a card.
    public func open(cardSerial: String) throws -> SoftwareToken {
        try SoftwareToken.open(url(cardSerial: cardSerial), policy: policy)
    }
}
