import Foundation

/// What the QR code shown for an enrolment says: the server to enrol with, the enrolment's
/// identifier and its one-time code.
///
/// Written `ecps1.<server URL in base64url>.<enrolment id>.<code>`: every character is safe in
/// a URL and in a QR code's alphanumeric-friendly byte mode, the version prefix lets a later
/// form be told apart, and `.` never occurs in base64url, a UUID or the code.
public struct EnrolmentPayload: Sendable, Equatable {
    /// The prefix of the first version.
    public static let prefix = "ecps1"

    /// The server's base URL (`https://opencps.example`), where the device posts its key.
    public var serverURL: String
    /// The enrolment the code belongs to.
    public var enrolmentID: String
    /// The one-time code, valid 90 seconds.
    public var code: String

    /// Creates a payload.
    public init(serverURL: String, enrolmentID: String, code: String) {
        self.serverURL = serverURL
        self.enrolmentID = enrolmentID
        self.code = code
    }

    /// The text the QR code carries.
    public var text: String {
        [Self.prefix, Base64URL.encode(Array(serverURL.utf8)), enrolmentID, code].joined(separator: ".")
    }

    /// Reads a payload.
    /// - Throws: `ecps.invalid-payload` when a part is missing or malformed.
    public init(text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else { throw ECPSError.invalidPayload("expected 4 parts separated by '.', found \(parts.count)") }
        guard parts[0] == Self.prefix else { throw ECPSError.invalidPayload("unknown version '\(parts[0])'") }
        guard let urlBytes = Base64URL.decode(parts[1]), let url = String(bytes: urlBytes, encoding: .utf8),
              let components = URLComponents(string: url), components.scheme == "https" || components.scheme == "http", components.host != nil
        else { throw ECPSError.invalidPayload("the server URL is not an http(s) URL in base64url") }
        guard Self.isToken(parts[2]), parts[2].count <= 64 else { throw ECPSError.invalidPayload("the enrolment id is malformed") }
        guard Self.isToken(parts[3]), (8...64).contains(parts[3].count) else { throw ECPSError.invalidPayload("the code is malformed") }
        self.init(serverURL: url, enrolmentID: parts[2], code: parts[3])
    }

    /// Letters, digits, `-` and `_` only.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
    }
}
