import Crypto
import Foundation
import X509
import _CryptoExtras

/// A private key held in memory by the software key store.
///
/// Its description never shows key material.
public struct SoftwareSigningKey: PKISigningKey, CustomStringConvertible {
    enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(ImmutableBox<P256.Signing.PrivateKey>)
    }

    /// swift-crypto's P-256 key is an immutable value but is not marked `Sendable` on Linux.
    struct ImmutableBox<Value>: @unchecked Sendable {
        let value: Value
    }

    /// The label the key is stored under.
    public let label: String
    /// The key type.
    public let algorithm: KeyAlgorithm
    /// The public half.
    public let publicKey: Certificate.PublicKey
    let backing: Backing

    init(label: String, algorithm: KeyAlgorithm, backing: Backing) {
        self.label = label
        self.algorithm = algorithm
        self.backing = backing
        switch backing {
        case .rsa(let key): self.publicKey = Certificate.PublicKey(key.publicKey)
        case .p256(let key): self.publicKey = Certificate.PublicKey(key.value.publicKey)
        }
    }

    /// Generates a fresh key with the system's generator.
    /// - Parameters:
    ///   - label: The label to give it.
    ///   - algorithm: The key type.
    /// - Returns: The new key.
    public static func generate(label: String, algorithm: KeyAlgorithm) throws -> SoftwareSigningKey {
        if let bits = algorithm.rsaBits {
            let key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits))
            return SoftwareSigningKey(label: label, algorithm: algorithm, backing: .rsa(key))
        }
        return SoftwareSigningKey(label: label, algorithm: algorithm, backing: .p256(ImmutableBox(value: P256.Signing.PrivateKey())))
    }

    /// Rebuilds a key from the DER kept inside an encrypted key file.
    package init(label: String, algorithm: KeyAlgorithm, privateDER: [UInt8]) throws {
        if algorithm.isRSA {
            let key = try _RSA.Signing.PrivateKey(derRepresentation: privateDER)
            guard key.keySizeInBits == algorithm.rsaBits else {
                throw PKIError.corruptKeyFile(label: label, detail: "the RSA key size does not match the header")
            }
            self.init(label: label, algorithm: algorithm, backing: .rsa(key))
        } else {
            self.init(label: label, algorithm: algorithm, backing: .p256(ImmutableBox(value: try P256.Signing.PrivateKey(derRepresentation: privateDER))))
        }
    }

    /// The private key as DER (PKCS#1 for RSA, PKCS#8 for P-256), only for sealing into a key file.
    package var privateDER: [UInt8] {
        switch backing {
        case .rsa(let key): return Array(key.derRepresentation)
        case .p256(let key): return Array(key.value.derRepresentation)
        }
    }

    /// Signs `message` with SHA-256.
    /// - Parameter message: The bytes to sign.
    /// - Returns: The signature value.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        do {
            switch backing {
            case .rsa(let key):
                return Array(try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
            case .p256(let key):
                return Array(try key.value.signature(for: SHA256.hash(data: message)).derRepresentation)
            }
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.signingFailed("the key '\(label)' could not sign")
        }
    }

    /// Label and type only.
    public var description: String { "SoftwareSigningKey(\(label), \(algorithm.rawValue))" }
}

extension SoftwareSigningKey {
    /// The private key in PEM, for the benchmark fixtures and tests only: the peers measured beside
    /// OpenCPS (openssl ocsp, cfssl) need the same CA and responder keys in a file, and curl a
    /// software card's authentication key to log in by mutual TLS. Package
    /// access keeps it out of every public API; no command of a real deployment calls it.
    package func pemForBenchmarkPeers() -> String {
        switch backing {
        case .rsa(let key): return key.pemRepresentation
        case .p256(let key): return key.value.pemRepresentation
        }
    }
}
