import Foundation
import SwiftASN1
import X509

/// A private key that signs without ever handing out its secret.
///
/// The software backend holds the key in memory; a PKCS#11 backend would hold only a handle
/// and send `sign(_:)` to the token. Everything in this module signs through this protocol.
public protocol PKISigningKey: Sendable {
    /// The label the key is stored under.
    var label: String { get }
    /// The key type, which also fixes the signature algorithm.
    var algorithm: KeyAlgorithm { get }
    /// The public half, as swift-certificates represents it.
    var publicKey: Certificate.PublicKey { get }
    /// Signs `message` (the hash is computed by the key: SHA-256) and returns the signature
    /// value as it goes in a BIT STRING: PKCS#1 v1.5 bytes for RSA, a DER `ECDSA-Sig-Value` for ECDSA.
    /// - Parameter message: The bytes to sign, typically a DER `TBSCertificate`, `TBSCertList` or `ResponseData`.
    /// - Returns: The signature bytes.
    func sign(_ message: [UInt8]) throws -> [UInt8]
}

extension PKISigningKey {
    /// The signature algorithm this key produces.
    public var signatureAlgorithm: Certificate.SignatureAlgorithm { algorithm.signatureAlgorithm }

    /// A swift-certificates private key that signs through this key, for
    /// `Certificate(…, issuerPrivateKey:)` and `CertificateSigningRequest(…, privateKey:)`.
    public var certificatePrivateKey: Certificate.PrivateKey {
        Certificate.PrivateKey(SigningKeyAdapter(key: self))
    }
}

/// Stores private keys under labels and gives out signing handles.
///
/// Keys are created inside the store and never leave it: there is no export operation,
/// and no key material appears in errors or descriptions.
public protocol KeyStore: Sendable {
    /// Generates a new key pair and stores it under `label`.
    /// - Parameters:
    ///   - label: A unique label (letters, digits, `.`, `_`, `-`).
    ///   - algorithm: The key type.
    /// - Returns: A handle that signs with the new key.
    /// - Throws: `PKIError` `pki.keystore.key-exists` if the label is taken.
    func generateKey(label: String, algorithm: KeyAlgorithm) throws -> any PKISigningKey
    /// Opens the key stored under `label`.
    /// - Parameter label: The label.
    /// - Returns: A signing handle.
    /// - Throws: `pki.keystore.key-not-found`, `pki.keystore.wrong-passphrase`.
    func key(label: String) throws -> any PKISigningKey
    /// Whether a key is stored under `label`.
    /// - Parameter label: The label.
    func exists(label: String) -> Bool
}

/// Checks a key label: 1 to 64 of `[A-Za-z0-9._-]`, not starting with a dot, so it is a safe file name.
func validateKeyLabel(_ label: String) throws {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    guard (1...64).contains(label.count), !label.hasPrefix("."), label.allSatisfy({ allowed.contains($0) }) else {
        throw PKIError.invalidLabel(label)
    }
}

/// Bridges a `PKISigningKey` to swift-certificates' `CustomPrivateKey`, so certificates and
/// CSRs built by swift-certificates are signed by our key store (software or, later, HSM).
struct SigningKeyAdapter: CustomPrivateKey {
    let key: any PKISigningKey

    var publicKey: Certificate.PublicKey { key.publicKey }
    var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm { key.signatureAlgorithm }
    var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] { [key.signatureAlgorithm] }

    func signSynchronously(bytes: some DataProtocol, signatureAlgorithm: Certificate.SignatureAlgorithm) throws -> Certificate.Signature {
        guard signatureAlgorithm == key.signatureAlgorithm else {
            throw PKIError.signingFailed("the key '\(key.label)' cannot sign with \(signatureAlgorithm)")
        }
        let signature = try key.sign(Array(bytes))
        return try Certificate.Signature(signatureAlgorithm: signatureAlgorithm, signatureBytes: ASN1BitString(bytes: signature[...]))
    }

    static func == (lhs: SigningKeyAdapter, rhs: SigningKeyAdapter) -> Bool {
        lhs.key.label == rhs.key.label && lhs.key.publicKey == rhs.key.publicKey
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(key.label)
        hasher.combine(key.publicKey)
    }

    static var defaultPEMDiscriminator: String { "PRIVATE KEY" }

    /// Private keys are never exported; this is required by the protocol and always refuses.
    func serialize(into coder: inout DER.Serializer) throws {
        throw PKIError.signingFailed("private keys are not exportable")
    }
}
