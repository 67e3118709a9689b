import Foundation

/// Where a secret the operator gives (an HSM's user PIN) comes from: a file or the
/// environment, never a flag, which process listings and shell histories show.
public enum SecretSource: Sendable, CustomStringConvertible {
    /// A file named by `variable` (one trailing newline dropped).
    case file(URL, variable: String)
    /// The value of `variable` (never printed).
    case environment(String, variable: String)
    /// Not given.
    case none

    /// Reads the secret.
    /// - Parameter what: what it is, for the error: `the HSM's user PIN`.
    /// - Throws: ``ConfigurationError`` when it is not given, cannot be read, or is empty.
    func load(_ what: String, setting: String, variables: String) throws -> String {
        switch self {
        case .file(let url, let variable):
            guard let data = FileManager.default.contents(atPath: url.path), var text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(setting, "\(variable) names \(url.path), which cannot be read as text")
            }
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            guard !text.isEmpty else { throw ConfigurationError(setting, "\(url.path) (\(variable)) is empty") }
            return text
        case .environment(let value, _):
            return value
        case .none:
            throw ConfigurationError(setting, "\(what) is not given: set \(variables)")
        }
    }

    /// Where it comes from, never the value.
    public var description: String {
        switch self {
        case .file(let url, let variable): "file \(url.path) (\(variable))"
        case .environment(_, let variable): variable
        case .none: "none"
        }
    }
}
