import CPKCS11
import Crypto
import Foundation
import OpenCPSPKCS11
import X509

/// The key store of an HSM: CA and OCSP responder keys generated inside a PKCS #11 token
/// (any vendor's module; SoftHSM2 in tests), where they stay.
///
/// A key is a pair of token objects sharing `CKA_LABEL` (the store's label) and `CKA_ID`; the
/// private half is `CKA_PRIVATE`, `CKA_SENSITIVE` and not `CKA_EXTRACTABLE`, so neither this
/// store nor anyone else can read it out, and every signature is made by the token. The store
/// logs into the token with the user PIN once and shares its sessions between threads.
public final class PKCS11KeyStore: KeyStore, @unchecked Sendable {
    /// Where the keys are: a module and the label of one token in it.
    public struct Location: Sendable, Codable, Hashable {
        /// The module's path, such as `/usr/lib/softhsm/libsofthsm2.so`.
        public var modulePath: String
        /// The token's label.
        public var tokenLabel: String

        /// Creates a location.
        public init(modulePath: String, tokenLabel: String) {
            self.modulePath = modulePath
            self.tokenLabel = tokenLabel
        }
    }

    /// Where the keys are.
    public let location: Location
    private let sessions: PKCS11SessionPool
    private let lock = NSLock()
    // Guarded by lock: keys opened so far, so that a label is looked up on the token once.
    private var opened: [String: PKCS11SigningKey] = [:]

    /// Loads the module, finds the token and logs in.
    /// - Parameters:
    ///   - location: the module and the token's label.
    ///   - pin: the token's user PIN (from a file or the environment, never a flag).
    /// - Throws: ``PKIError`` `pki.keystore.token-unavailable` when the module or token cannot
    ///   be used, `pki.keystore.wrong-pin` when the PIN is refused.
    public init(location: Location, pin: String) throws {
        self.location = location
        do {
            let module = try PKCS11Module.load(path: location.modulePath)
            let slot = try module.slot(tokenLabel: location.tokenLabel)
            sessions = try PKCS11SessionPool(module: module, slot: slot, pin: pin)
        } catch let error where [CK_RV(CKR_PIN_INCORRECT), CK_RV(CKR_PIN_LOCKED), CK_RV(CKR_PIN_LEN_RANGE)].contains(error.returnValue) {
            throw PKIError(code: "pki.keystore.wrong-pin", reason: "The token '\(location.tokenLabel)' refused the user PIN (\(error.reason)).")
        } catch {
            throw PKIError(code: "pki.keystore.token-unavailable", reason: "The key store's token cannot be used: \(error.reason).")
        }
    }

    /// The `CKA_ID` of a label's key pair: the first 16 bytes of the label's SHA-256.
    static func keyID(_ label: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(label.utf8)).prefix(16))
    }

    private func template(_ objectClass: CK_OBJECT_CLASS, label: String) -> [PKCS11Attribute] {
        [
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: objectClass),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: label),
        ]
    }

    /// Whether the token holds a private key labelled `label`.
    public func exists(label: String) -> Bool {
        (try? sessions.withSession { try !$0.findObjects(template(CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: label)).isEmpty }) ?? false
    }

    /// Generates a key pair on the token under `label`.
    /// - Throws: `pki.keystore.key-exists` when the token has a key so labelled.
    public func generateKey(label: String, algorithm: KeyAlgorithm) throws -> any PKISigningKey {
        try validateKeyLabel(label)
        return try sessions.withSession { session in
            guard try session.findObjects(template(CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: label)).isEmpty else {
                throw PKIError.keyExists(label: label)
            }
            let (publicKey, privateKey) = try PKCS11Keys.generate(on: session, algorithm: algorithm, label: label, id: Self.keyID(label))
            let key = PKCS11SigningKey(
                label: label, algorithm: algorithm, publicKey: try PKCS11Keys.publicKey(on: session, object: publicKey, algorithm: algorithm),
                handle: privateKey, sessions: sessions)
            lock.withLock { opened[label] = key }
            return key
        }
    }

    /// The key pair labelled `label` on the token.
    /// - Throws: `pki.keystore.key-not-found`.
    public func key(label: String) throws -> any PKISigningKey {
        try validateKeyLabel(label)
        if let key = lock.withLock({ opened[label] }) { return key }
        let key = try sessions.withSession { session in
            let privateKeys = try session.findObjects(template(CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: label))
            let publicKeys = try session.findObjects(template(CK_OBJECT_CLASS(CKO_PUBLIC_KEY), label: label))
            guard privateKeys.count == 1, publicKeys.count == 1 else {
                if privateKeys.isEmpty { throw PKIError.keyNotFound(label: label) }
                throw PKIError.corruptKeyFile(label: label, detail: "the token holds \(privateKeys.count) private and \(publicKeys.count) public keys so labelled")
            }
            let algorithm = try PKCS11Keys.algorithm(on: session, privateKey: privateKeys[0], publicKey: publicKeys[0])
            return PKCS11SigningKey(
                label: label, algorithm: algorithm,
                publicKey: try PKCS11Keys.publicKey(on: session, object: publicKeys[0], algorithm: algorithm),
                handle: privateKeys[0], sessions: sessions)
        }
        lock.withLock { opened[label] = key }
        return key
    }
}

/// A private key held by a PKCS #11 token: a handle, and the token's sessions to sign with.
public struct PKCS11SigningKey: PKISigningKey, CustomStringConvertible {
    /// The label.
    public let label: String
    /// The key type.
    public let algorithm: KeyAlgorithm
    /// The public half, read from the token.
    public let publicKey: Certificate.PublicKey
    let handle: CK_OBJECT_HANDLE
    let sessions: PKCS11SessionPool

    /// Signs on the token (SHA-256).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        do {
            return try sessions.withSession { try PKCS11Keys.sign(message, on: $0, key: handle, algorithm: algorithm) }
        } catch let error as PKCS11Error {
            throw PKIError.signingFailed("the token could not sign with '\(label)': \(error.reason)")
        }
    }

    /// Label, type and token only.
    public var description: String { "PKCS11SigningKey(\(label), \(algorithm.rawValue))" }
}
