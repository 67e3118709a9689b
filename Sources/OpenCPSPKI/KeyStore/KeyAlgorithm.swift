import X509

/// The key types the OpenCPS PKI generates and signs with.
///
/// Cards default to RSA-2048 (the IGC-Santé-compatible profile, signed with SHA-256);
/// ECDSA P-256 is the option. Authorities may use any of them (see `PKIConfiguration`).
public enum KeyAlgorithm: String, Sendable, Codable, CaseIterable, Hashable {
    /// RSA with a 2048-bit modulus, PKCS#1 v1.5 signatures over SHA-256.
    case rsa2048
    /// RSA with a 3072-bit modulus, PKCS#1 v1.5 signatures over SHA-256.
    case rsa3072
    /// RSA with a 4096-bit modulus, PKCS#1 v1.5 signatures over SHA-256.
    case rsa4096
    /// ECDSA on NIST P-256 with SHA-256.
    case p256

    /// The signature algorithm used by keys of this type.
    public var signatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .rsa2048, .rsa3072, .rsa4096: return .sha256WithRSAEncryption
        case .p256: return .ecdsaWithSHA256
        }
    }

    /// Whether the algorithm is RSA.
    public var isRSA: Bool { self != .p256 }

    /// The RSA modulus size in bits, or `nil` for ECDSA.
    public var rsaBits: Int? {
        switch self {
        case .rsa2048: return 2048
        case .rsa3072: return 3072
        case .rsa4096: return 4096
        case .p256: return nil
        }
    }
}
