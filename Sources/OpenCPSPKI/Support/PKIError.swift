import OpenCPSDomain

/// An error of the PKI layer: a stable code that callers compare, and a reason for people.
///
/// Codes are namespaced `pki.<area>.<problem>`; they never contain secrets (no passphrase,
/// no key material), so the reason can be logged and shown as it is.
public struct PKIError: DomainError, Equatable, CustomStringConvertible {
    /// The stable machine-readable code, such as `pki.keystore.wrong-passphrase`.
    public let code: String
    /// A sentence that tells a person what is wrong.
    public let reason: String

    /// Creates an error with a code and a reason.
    /// - Parameters:
    ///   - code: The stable code.
    ///   - reason: The human-readable explanation.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The code and the reason, for logs.
    public var description: String { "\(code): \(reason)" }

    /// Errors compare by code only, as callers do.
    public static func == (lhs: PKIError, rhs: PKIError) -> Bool { lhs.code == rhs.code }
}

extension PKIError {
    /// The passphrase does not open the key file (or the file was altered).
    public static func wrongPassphrase(label: String) -> PKIError {
        PKIError(code: "pki.keystore.wrong-passphrase",
                 reason: "The key '\(label)' could not be decrypted: the passphrase is wrong or the key file was altered.")
    }
    /// No key with this label exists in the store.
    public static func keyNotFound(label: String) -> PKIError {
        PKIError(code: "pki.keystore.key-not-found", reason: "No key is stored under the label '\(label)'.")
    }
    /// A key with this label already exists and would be overwritten.
    public static func keyExists(label: String) -> PKIError {
        PKIError(code: "pki.keystore.key-exists", reason: "A key is already stored under the label '\(label)'; keys are never overwritten.")
    }
    /// The label is not made of letters, digits, '.', '_' or '-'.
    public static func invalidLabel(_ label: String) -> PKIError {
        PKIError(code: "pki.keystore.invalid-label",
                 reason: "The key label '\(label)' is invalid: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'.")
    }
    /// The key file cannot be read as an OpenCPS key file.
    public static func corruptKeyFile(label: String, detail: String) -> PKIError {
        PKIError(code: "pki.keystore.corrupt-key-file", reason: "The key file for '\(label)' is unreadable: \(detail).")
    }
    /// The passphrase is missing or too short.
    public static func weakPassphrase(_ detail: String) -> PKIError {
        PKIError(code: "pki.keystore.passphrase-invalid", reason: detail)
    }
    /// A signing operation failed.
    public static func signingFailed(_ detail: String) -> PKIError {
        PKIError(code: "pki.signing.failed", reason: "Signing failed: \(detail).")
    }
    /// The certificate signing request is malformed or its signature does not verify.
    public static func invalidCSR(_ detail: String) -> PKIError {
        PKIError(code: "pki.issuance.invalid-csr", reason: "The certificate signing request is not acceptable: \(detail).")
    }
    /// The request for a certificate is not acceptable for the profile.
    public static func invalidRequest(_ detail: String) -> PKIError {
        PKIError(code: "pki.issuance.invalid-request", reason: detail)
    }
    /// The public key type is not allowed by the profile.
    public static func unsupportedKey(_ detail: String) -> PKIError {
        PKIError(code: "pki.issuance.unsupported-key", reason: detail)
    }
    /// The hierarchy files cannot be read or written.
    public static func hierarchyStorage(_ detail: String) -> PKIError {
        PKIError(code: "pki.hierarchy.storage", reason: detail)
    }
    /// The hierarchy is not valid (missing authority, bad configuration).
    public static func invalidConfiguration(_ detail: String) -> PKIError {
        PKIError(code: "pki.configuration.invalid", reason: detail)
    }
    /// A DER structure (CRL, OCSP message) cannot be decoded.
    public static func malformed(_ what: String, _ detail: String) -> PKIError {
        PKIError(code: "pki.asn1.malformed", reason: "The \(what) is malformed: \(detail).")
    }
    /// The CRL parameters are inconsistent.
    public static func invalidCRL(_ detail: String) -> PKIError {
        PKIError(code: "pki.crl.invalid", reason: detail)
    }
}
