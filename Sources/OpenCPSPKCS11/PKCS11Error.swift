import CPKCS11
import OpenCPSDomain

/// A PKCS #11 call that did not answer `CKR_OK`, or a module that cannot be used.
///
/// The code is stable: `pkcs11.<name>` with the return value's name as the specification
/// spells it, lower-cased (`pkcs11.ckr-pin-incorrect`), or `pkcs11.module-not-loaded`,
/// `pkcs11.token-not-found`, `pkcs11.object-not-found`. No PIN and no key material is ever
/// part of the reason.
public struct PKCS11Error: DomainError, Equatable, CustomStringConvertible {
    /// The stable code.
    public let code: String
    /// What failed, for a person.
    public let reason: String
    /// The module's return value, when a call failed.
    public let returnValue: CK_RV?

    /// Creates an error of OpenCPS's own (no call failed).
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
        self.returnValue = nil
    }

    /// The error of a call that answered `rv`.
    /// - Parameters:
    ///   - function: the PKCS #11 function, such as `C_Login`.
    ///   - rv: what it returned.
    public init(function: String, rv: CK_RV) {
        let name = PKCS11Error.name(of: rv)
        self.code = "pkcs11." + name.lowercased().replacingOccurrences(of: "_", with: "-")
        self.reason = "\(function) failed: \(name)"
        self.returnValue = rv
    }

    /// The code and the reason.
    public var description: String { "\(code): \(reason)" }

    /// Errors compare by code only, as callers do.
    public static func == (lhs: PKCS11Error, rhs: PKCS11Error) -> Bool { lhs.code == rhs.code }

    /// The specification's name of a return value (or its number, for one OpenCPS does not name).
    public static func name(of rv: CK_RV) -> String {
        switch rv {
        case CK_RV(CKR_OK): "CKR_OK"
        case CK_RV(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR"
        case CK_RV(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED"
        case CK_RV(CKR_ARGUMENTS_BAD): "CKR_ARGUMENTS_BAD"
        case CK_RV(CKR_ATTRIBUTE_READ_ONLY): "CKR_ATTRIBUTE_READ_ONLY"
        case CK_RV(CKR_ATTRIBUTE_SENSITIVE): "CKR_ATTRIBUTE_SENSITIVE"
        case CK_RV(CKR_ATTRIBUTE_TYPE_INVALID): "CKR_ATTRIBUTE_TYPE_INVALID"
        case CK_RV(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR"
        case CK_RV(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID"
        case CK_RV(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID"
        case CK_RV(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID"
        case CK_RV(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT"
        case CK_RV(CKR_PIN_INVALID): "CKR_PIN_INVALID"
        case CK_RV(CKR_PIN_LEN_RANGE): "CKR_PIN_LEN_RANGE"
        case CK_RV(CKR_PIN_LOCKED): "CKR_PIN_LOCKED"
        case CK_RV(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID"
        case CK_RV(CKR_TEMPLATE_INCOMPLETE): "CKR_TEMPLATE_INCOMPLETE"
        case CK_RV(CKR_TEMPLATE_INCONSISTENT): "CKR_TEMPLATE_INCONSISTENT"
        case CK_RV(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT"
        case CK_RV(CKR_USER_ALREADY_LOGGED_IN): "CKR_USER_ALREADY_LOGGED_IN"
        case CK_RV(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN"
        case CK_RV(CKR_USER_PIN_NOT_INITIALIZED): "CKR_USER_PIN_NOT_INITIALIZED"
        case CK_RV(CKR_BUFFER_TOO_SMALL): "CKR_BUFFER_TOO_SMALL"
        case CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED): "CKR_CRYPTOKI_NOT_INITIALIZED"
        case CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED): "CKR_CRYPTOKI_ALREADY_INITIALIZED"
        default: "CKR_0x" + String(rv, radix: 16)
        }
    }
}

/// Throws ``PKCS11Error`` unless `rv` is `CKR_OK`.
@inline(__always)
func check(_ rv: CK_RV, _ function: String) throws(PKCS11Error) {
    guard rv == CK_RV(CKR_OK) else { throw PKCS11Error(function: function, rv: rv) }
}
