import Crypto
import _CryptoExtras
import Foundation

/// The approval key, kept encrypted under a key derived from the device PIN.
///
/// Why scrypt: of what swift-crypto offers, HKDF is not meant for passwords (it is fast, so
/// a stolen file could be tried against every PIN at once), PBKDF2 is slow in CPU only (cheap
/// to run in parallel on a GPU), and scrypt (in `_CryptoExtras`, BoringSSL's implementation)
/// is slow in memory too: the default costs N = 2^15, r = 8, p = 1, that is 32 MiB and about
/// 0.1 s per try on a phone. A PIN has few digits, so this only raises the cost of guessing
/// from a copied file (10^6 six-digit PINs ≈ a day of one core); what stops guessing on the
/// device is the try counter (``DeviceVault``), and on a real phone the platform's key store
/// holds the file. The derived key seals the private key with AES-256-GCM, the public key
/// as associated data, so a wrong PIN is told by the tag and a swapped key file is refused.
public struct SealedKey: Codable, Sendable, Equatable {
    /// The cost of the derivation.
    public struct Cost: Codable, Sendable, Equatable {
        /// scrypt's N, a power of two.
        public var rounds: Int
        /// scrypt's r.
        public var blockSize: Int
        /// scrypt's p.
        public var parallelism: Int

        /// Creates a cost.
        public init(rounds: Int, blockSize: Int, parallelism: Int) {
            self.rounds = rounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// N = 2^15, r = 8, p = 1: 32 MiB per try.
        public static let standard = Cost(rounds: 1 << 15, blockSize: 8, parallelism: 1)
    }

    /// The scrypt salt, base64url.
    public var salt: String
    /// The cost the key was derived with.
    public var cost: Cost
    /// AES-GCM's combined nonce, ciphertext and tag over the private key's raw bytes, base64url.
    public var box: String
    /// The key's public half, SubjectPublicKeyInfo DER in base64url (authenticated with the box).
    public var publicKey: String

    /// Seals a private key under a PIN.
    /// - Parameters:
    ///   - key: the private key.
    ///   - pin: the device PIN (4 to 12 digits).
    ///   - cost: the scrypt cost.
    ///   - salt: 16 random bytes.
    public static func seal(_ key: P256.Signing.PrivateKey, pin: String, cost: Cost = .standard, salt: [UInt8]) throws -> SealedKey {
        try PIN.check(pin)
        let publicKey = ES256.encode(key.publicKey)
        let derived = try derive(pin: pin, salt: salt, cost: cost)
        let sealed = try AES.GCM.seal(key.rawRepresentation, using: derived, authenticating: Array(publicKey.utf8))
        guard let combined = sealed.combined else { throw ECPSError.storage("the key could not be sealed") }
        return SealedKey(salt: Base64URL.encode(salt), cost: cost, box: Base64URL.encode(combined), publicKey: publicKey)
    }

    /// Opens the key with a PIN.
    /// - Returns: the private key, or nil when the PIN is wrong.
    public func open(pin: String) throws -> P256.Signing.PrivateKey? {
        guard let salt = Base64URL.decode(salt), let combined = Base64URL.decode(box) else {
            throw ECPSError.storage("the sealed key is not base64url")
        }
        let derived = try Self.derive(pin: pin, salt: salt, cost: cost)
        let sealedBox = try AES.GCM.SealedBox(combined: combined)
        guard let raw = try? AES.GCM.open(sealedBox, using: derived, authenticating: Array(publicKey.utf8)) else { return nil }
        return try P256.Signing.PrivateKey(rawRepresentation: raw)
    }

    static func derive(pin: String, salt: [UInt8], cost: Cost) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(
            from: Array(pin.utf8), salt: salt, outputByteCount: 32, rounds: cost.rounds, blockSize: cost.blockSize,
            parallelism: cost.parallelism)
    }
}

/// The device PIN's form: 4 to 12 digits (the holder chooses it on the device; it never leaves it).
public enum PIN {
    /// Throws `ecps.invalid-pin` unless `pin` is 4 to 12 ASCII digits.
    public static func check(_ pin: String) throws {
        guard (4...12).contains(pin.count), pin.unicodeScalars.allSatisfy({ $0.value >= 0x30 && $0.value <= 0x39 }) else {
            throw ECPSError.invalidPIN("the device PIN must be 4 to 12 digits")
        }
    }
}
