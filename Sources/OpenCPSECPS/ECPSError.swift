/// What can go wrong in the e-CPS authenticator: a stable code and a sentence for a person.
///
/// The library imports no other OpenCPS module (a phone app embeds it alone), so it carries
/// its own error type; the server and the command line read its `code` and `reason` the way
/// they read every domain error.
public struct ECPSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code, such as `ecps.wrong-pin`, that callers may compare.
    public let code: String
    /// A sentence that tells a person what is wrong.
    public let reason: String

    /// Creates an error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The code and the reason.
    public var description: String { "\(code): \(reason)" }

    /// The PIN given does not open the device key; `remaining` tries are left.
    public static func wrongPIN(remaining: Int) -> Self {
        .init(code: "ecps.wrong-pin", reason: "wrong device PIN: \(remaining) \(remaining == 1 ? "try" : "tries") left before the device locks")
    }

    /// The device is locked after too many wrong PINs; its key is erased.
    public static let locked = Self(
        code: "ecps.device-locked", reason: "the device is locked after too many wrong PINs: enrol it again")

    /// The PIN does not have the required form.
    public static func invalidPIN(_ why: String) -> Self {
        .init(code: "ecps.invalid-pin", reason: why)
    }

    /// An enrolment payload (the QR code's text) could not be read.
    public static func invalidPayload(_ why: String) -> Self {
        .init(code: "ecps.invalid-payload", reason: "the enrolment payload is not valid: \(why)")
    }

    /// A key or signature could not be read.
    public static func invalidKey(_ why: String) -> Self {
        .init(code: "ecps.invalid-key", reason: why)
    }

    /// A signature does not verify with the key given.
    public static let badSignature = Self(code: "ecps.bad-signature", reason: "the signature does not verify with the device's key")

    /// The device's stored state could not be read or written.
    public static func storage(_ why: String) -> Self {
        .init(code: "ecps.device-storage", reason: why)
    }
}
