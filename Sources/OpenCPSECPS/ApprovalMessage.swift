import Crypto
import Foundation

/// The holder's answer to a login request.
public enum ECPSDecision: String, Sendable, Codable, CaseIterable {
    /// The holder approves the login.
    case approve
    /// The holder refuses it.
    case deny
}

/// What the device signs to approve or deny a login: the exact bytes are fixed here, so the
/// server and any other implementation of the device produce the same ones.
///
/// The encoding is a header line, then one line per field `name=<UTF-8 length>:<value>`, each
/// line ended by `\n`. The length prefix means no value (a binding message a client chose,
/// with `\n` or `=` in it) can make two different messages encode alike; the header names the
/// purpose and version, so an approval signature is never valid as any other message.
public struct ApprovalMessage: Sendable, Equatable {
    /// The first line.
    public static let header = "OpenCPS-eCPS-approval-v1"

    /// The login request's identifier.
    public var requestID: String
    /// The client's name as shown to the holder.
    public var clientName: String
    /// The binding message the client showed on its own screen ("" if none).
    public var bindingMessage: String
    /// The server's nonce for this request (single use).
    public var serverNonce: String
    /// Approve or deny.
    public var decision: ECPSDecision
    /// When the holder decided, in whole seconds since 1970 (UTC).
    public var time: Int64

    /// Creates a message.
    public init(requestID: String, clientName: String, bindingMessage: String, serverNonce: String, decision: ECPSDecision, time: Int64) {
        self.requestID = requestID
        self.clientName = clientName
        self.bindingMessage = bindingMessage
        self.serverNonce = serverNonce
        self.decision = decision
        self.time = time
    }

    /// The bytes signed.
    public var bytes: [UInt8] {
        SignedText.encode(header: Self.header, fields: [
            ("request", requestID), ("client", clientName), ("binding", bindingMessage), ("nonce", serverNonce),
            ("decision", decision.rawValue), ("time", String(time)),
        ])
    }
}

/// What the device signs to prove it holds its key when it asks for its pending requests:
/// its identifier, a fresh nonce of its own and the time (the server accepts a small skew).
public struct DeviceProofMessage: Sendable, Equatable {
    /// The first line.
    public static let header = "OpenCPS-eCPS-device-v1"

    /// The device's identifier, given by the server at enrolment.
    public var deviceID: String
    /// A random value the device picks for each proof.
    public var nonce: String
    /// When the proof was made, in whole seconds since 1970 (UTC).
    public var time: Int64

    /// Creates a message.
    public init(deviceID: String, nonce: String, time: Int64) {
        self.deviceID = deviceID
        self.nonce = nonce
        self.time = time
    }

    /// The bytes signed.
    public var bytes: [UInt8] {
        SignedText.encode(header: DeviceProofMessage.header, fields: [("device", deviceID), ("nonce", nonce), ("time", String(time))])
    }
}

/// The shared line encoding of the signed messages.
enum SignedText {
    static func encode(header: String, fields: [(String, String)]) -> [UInt8] {
        var text = header + "\n"
        for (name, value) in fields {
            text += "\(name)=\(value.utf8.count):\(value)\n"
        }
        return Array(text.utf8)
    }
}

/// ES256 (ECDSA P-256 with SHA-256) as JOSE writes it: the signature is `r || s`, 64 bytes,
/// and keys travel as the uncompressed point's x and y or as SubjectPublicKeyInfo DER.
public enum ES256 {
    /// Whether `signature` (64 bytes, `r || s`) is `publicKey`'s signature of `message`.
    public static func isValid(signature: [UInt8], of message: [UInt8], publicKey: P256.Signing.PublicKey) -> Bool {
        guard signature.count == 64, let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return publicKey.isValidSignature(parsed, for: message)
    }

    /// Checks a signature, or throws `ecps.bad-signature`.
    public static func verify(signature: [UInt8], of message: [UInt8], publicKey: P256.Signing.PublicKey) throws {
        guard isValid(signature: signature, of: message, publicKey: publicKey) else { throw ECPSError.badSignature }
    }

    /// Reads a public key from its SubjectPublicKeyInfo DER, base64url-encoded (how the device sends it).
    /// - Throws: `ecps.invalid-key`.
    public static func publicKey(base64URLDER text: String) throws -> P256.Signing.PublicKey {
        guard let der = Base64URL.decode(text) else { throw ECPSError.invalidKey("the public key is not base64url") }
        do {
            return try P256.Signing.PublicKey(derRepresentation: der)
        } catch {
            throw ECPSError.invalidKey("the public key is not a P-256 SubjectPublicKeyInfo")
        }
    }

    /// A public key's SubjectPublicKeyInfo DER, base64url-encoded.
    public static func encode(_ key: P256.Signing.PublicKey) -> String {
        Base64URL.encode(key.derRepresentation)
    }
}
