import Foundation

/// The operator passphrase that protects the software key store.
///
/// It comes from a file or from the environment, never from a command-line flag (flags show
/// in process listings and shell history). Its description is redacted.
public struct KeyStorePassphrase: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let bytes: [UInt8]

    /// Wraps a passphrase; it must be at least 12 characters long.
    /// - Parameter value: The passphrase.
    /// - Throws: `pki.keystore.passphrase-invalid` if it is too short.
    public init(_ value: String) throws {
        guard value.count >= 12 else {
            throw PKIError.weakPassphrase("The key-store passphrase must be at least 12 characters long.")
        }
        self.bytes = Array(value.utf8)
    }

    /// Reads the passphrase from a file, dropping one trailing newline (`\n` or `\r\n`).
    /// - Parameter url: The file, which should be readable by the operator only.
    /// - Returns: The passphrase.
    public static func fromFile(_ url: URL) throws -> KeyStorePassphrase {
        guard let data = FileManager.default.contents(atPath: url.path),
              var text = String(data: data, encoding: .utf8) else {
            throw PKIError.weakPassphrase("The passphrase file \(url.path) cannot be read as UTF-8 text.")
        }
        if text.hasSuffix("\n") { text.removeLast() }
        if text.hasSuffix("\r") { text.removeLast() }
        return try KeyStorePassphrase(text)
    }

    /// Reads the passphrase from an environment dictionary (pass `ProcessInfo.processInfo.environment`
    /// from the composition root; this module reads no environment itself).
    /// - Parameters:
    ///   - environment: The environment variables.
    ///   - name: The variable name, `OPENCPS_KEYSTORE_PASSPHRASE` by default.
    /// - Returns: The passphrase.
    public static func fromEnvironment(_ environment: [String: String],
                                       name: String = "OPENCPS_KEYSTORE_PASSPHRASE") throws -> KeyStorePassphrase {
        guard let value = environment[name], !value.isEmpty else {
            throw PKIError.weakPassphrase("The environment variable \(name) holding the key-store passphrase is not set.")
        }
        return try KeyStorePassphrase(value)
    }

    /// Always `<redacted>`.
    public var description: String { "<redacted>" }
    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }
}
