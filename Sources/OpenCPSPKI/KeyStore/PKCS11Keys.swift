import CPKCS11
import Crypto
import Foundation
import OpenCPSPKCS11
import X509
import _CryptoExtras

/// Key pairs on a PKCS #11 token, for the CA key store and for cards: generated on the token
/// (`CKA_SENSITIVE`, never `CKA_EXTRACTABLE`), their public halves read back, and signatures
/// made by the token in the form a certificate carries.
public enum PKCS11Keys {
    /// The DER of the named curve P-256 (`prime256v1`, 1.2.840.10045.3.1.7), as `CKA_EC_PARAMS` holds it.
    static let p256Parameters: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]

    /// Generates a key pair on the token: the private key is a token object, private,
    /// sensitive and not extractable, and may only sign; both halves carry `label` and `id`.
    /// - Parameters:
    ///   - session: a read-write session logged in as the user.
    ///   - algorithm: RSA (2048, 3072, 4096 bits, exponent 65537) or P-256.
    ///   - label: `CKA_LABEL` of both halves.
    ///   - id: `CKA_ID` of both halves (a card's certificate gets the same one).
    /// - Returns: the public and private key handles.
    public static func generate(
        on session: PKCS11Session, algorithm: KeyAlgorithm, label: String, id: [UInt8]
    ) throws(PKCS11Error) -> (publicKey: CK_OBJECT_HANDLE, privateKey: CK_OBJECT_HANDLE) {
        var publicTemplate = [
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: false),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_VERIFY), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: label),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id),
        ]
        let privateTemplate = [
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), bool: false),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_SIGN), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: label),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id),
        ]
        let mechanism: CK_MECHANISM_TYPE
        if let bits = algorithm.rsaBits {
            mechanism = CK_MECHANISM_TYPE(CKM_RSA_PKCS_KEY_PAIR_GEN)
            publicTemplate += [
                PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_MODULUS_BITS), ulong: CK_ULONG(bits)),
                PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_PUBLIC_EXPONENT), bytes: [0x01, 0x00, 0x01]),
            ]
        } else {
            mechanism = CK_MECHANISM_TYPE(CKM_EC_KEY_PAIR_GEN)
            publicTemplate.append(PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS), bytes: p256Parameters))
        }
        return try session.generateKeyPair(mechanism: mechanism, publicTemplate: publicTemplate, privateTemplate: privateTemplate)
    }

    /// The public key of a token's public-key object, as swift-certificates represents it.
    /// - Parameters:
    ///   - session: a session on the token.
    ///   - object: the public key's handle.
    ///   - algorithm: the key type it should be.
    public static func publicKey(on session: PKCS11Session, object: CK_OBJECT_HANDLE, algorithm: KeyAlgorithm) throws -> Certificate.PublicKey {
        if algorithm.isRSA {
            guard let modulus = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_MODULUS), of: object),
                  let exponent = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_PUBLIC_EXPONENT), of: object) else {
                throw PKIError.unsupportedKey("the token's RSA public key has no modulus or exponent")
            }
            let key = try _RSA.Signing.PublicKey(n: modulus, e: exponent)
            guard key.keySizeInBits == algorithm.rsaBits else {
                throw PKIError.unsupportedKey("the token's RSA key has \(key.keySizeInBits) bits, not \(algorithm.rsaBits ?? 0)")
            }
            return Certificate.PublicKey(key)
        }
        guard let point = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_EC_POINT), of: object) else {
            throw PKIError.unsupportedKey("the token's EC public key has no point")
        }
        // CKA_EC_POINT is the DER OCTET STRING of the uncompressed point (04 ‖ x ‖ y); some
        // modules give the bare point.
        let bare = point.count == 67 && point[0] == 0x04 && point[1] == 0x41 ? Array(point.dropFirst(2)) : point
        do {
            return Certificate.PublicKey(try P256.Signing.PublicKey(x963Representation: bare))
        } catch {
            throw PKIError.unsupportedKey("the token's EC public key is not a P-256 point")
        }
    }

    /// Signs `message` on the token with SHA-256: PKCS #1 v1.5 for RSA (`CKM_SHA256_RSA_PKCS`),
    /// ECDSA over the SHA-256 digest (`CKM_ECDSA`, the raw `r‖s` turned into a DER `ECDSA-Sig-Value`).
    /// - Returns: the signature value as it goes in a certificate's BIT STRING.
    public static func sign(_ message: [UInt8], on session: PKCS11Session, key: CK_OBJECT_HANDLE, algorithm: KeyAlgorithm) throws -> [UInt8] {
        if algorithm.isRSA {
            return try session.sign(message, key: key, mechanism: CK_MECHANISM_TYPE(CKM_SHA256_RSA_PKCS))
        }
        let digest = Array(SHA256.hash(data: message))
        let raw = try session.sign(digest, key: key, mechanism: CK_MECHANISM_TYPE(CKM_ECDSA))
        do {
            return Array(try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        } catch {
            throw PKIError.signingFailed("the token's ECDSA signature is not 64 bytes")
        }
    }

    /// The key type of a token's private key, from `CKA_KEY_TYPE` and, for RSA, the modulus size.
    public static func algorithm(on session: PKCS11Session, privateKey: CK_OBJECT_HANDLE, publicKey: CK_OBJECT_HANDLE) throws -> KeyAlgorithm {
        guard let type = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), of: privateKey), type.count == MemoryLayout<CK_ULONG>.size else {
            throw PKIError.unsupportedKey("the token's key has no key type")
        }
        let keyType = type.withUnsafeBytes { $0.loadUnaligned(as: CK_ULONG.self) }
        switch keyType {
        case CK_ULONG(CKK_EC):
            return .p256
        case CK_ULONG(CKK_RSA):
            let modulus = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_MODULUS), of: publicKey) ?? []
            let bits = (modulus.drop { $0 == 0 }.count) * 8
            guard let algorithm = KeyAlgorithm.allCases.first(where: { $0.rsaBits == bits }) else {
                throw PKIError.unsupportedKey("the token's RSA key has \(bits) bits: OpenCPS signs with 2048, 3072 or 4096")
            }
            return algorithm
        default:
            throw PKIError.unsupportedKey("the token's key is neither RSA nor EC")
        }
    }
}
