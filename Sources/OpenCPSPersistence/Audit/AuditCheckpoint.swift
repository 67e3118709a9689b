import Crypto
import Foundation

/// A signed statement that the audit log held `seq` entries ending in `headHash` at `recordedAt`.
///
/// The chain alone is an unkeyed hash whose head lives in the same database: whoever can write
/// the database can rewrite an entry and every later hash consistently. A checkpoint is signed
/// with a key kept outside the database and is also appended to a journal file outside it, so a
/// rewrite or truncation of the log no longer matches a checkpoint that the attacker cannot
/// re-sign nor remove from the file.
public struct AuditCheckpoint: Sendable, Equatable {
    /// The number of the last entry covered.
    public var seq: Int64
    /// That entry's hash.
    public var headHash: String
    /// When the checkpoint was signed (``StoredTimestamp`` form).
    public var recordedAt: String
    /// The ECDSA P-256 SHA-256 signature of ``signedBytes``, DER, base64.
    public var signature: String

    /// Creates a checkpoint.
    public init(seq: Int64, headHash: String, recordedAt: String, signature: String) {
        self.seq = seq
        self.headHash = headHash
        self.recordedAt = recordedAt
        self.signature = signature
    }

    /// What is signed: a versioned text with one field per line, so that `openssl dgst -verify` checks it too.
    public var signedBytes: Data {
        Self.signedBytes(seq: seq, headHash: headHash, recordedAt: recordedAt)
    }

    static func signedBytes(seq: Int64, headHash: String, recordedAt: String) -> Data {
        Data("OpenCPS audit checkpoint v1\n\(seq)\n\(headHash)\n\(recordedAt)\n".utf8)
    }

    /// True when the signature is the public key's over ``signedBytes``.
    public func isSigned(by key: P256.Signing.PublicKey) -> Bool {
        guard let der = Data(base64Encoded: signature),
              let signature = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        return key.isValidSignature(signature, for: SHA256.hash(data: signedBytes))
    }

    /// The checkpoint's line in the journal file: `seq hash recordedAt signature`.
    public var journalLine: String { "\(seq) \(headHash) \(recordedAt) \(signature)" }

    /// Reads a journal line.
    /// - Throws: ``PersistenceError`` `audit.checkpoint-unreadable` when the line is not one.
    public init(journalLine line: Substring, lineNumber: Int) throws {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, let seq = Int64(fields[0]), seq >= 0, fields[1].count == 64, !fields[2].isEmpty, !fields[3].isEmpty else {
            throw PersistenceError(
                code: "audit.checkpoint-unreadable",
                reason: "line \(lineNumber) of the checkpoint journal is not `seq hash time signature`")
        }
        self.init(seq: seq, headHash: String(fields[1]), recordedAt: String(fields[2]), signature: String(fields[3]))
    }
}

/// Where the audit key and the checkpoint journal live: a folder outside the database
/// (`<data>/audit` by default), holding `audit-key.pem` (the private key, mode 0600),
/// `audit-key.pub.pem` (its public key, to export and keep elsewhere) and `checkpoints.log`.
public struct AuditKeyFolder: Sendable {
    /// The folder.
    public let directory: URL

    /// Names the folder; nothing is read or created yet.
    public init(directory: URL) {
        self.directory = directory
    }

    /// The private key's file.
    public var privateKeyFile: URL { directory.appendingPathComponent("audit-key.pem") }
    /// The public key's file.
    public var publicKeyFile: URL { directory.appendingPathComponent("audit-key.pub.pem") }
    /// The journal of checkpoints, one line each, appended and flushed before the database row.
    public var journalFile: URL { directory.appendingPathComponent("checkpoints.log") }

    /// True when the private key exists.
    public var hasKey: Bool { FileManager.default.fileExists(atPath: privateKeyFile.path) }

    /// The signing key, created (with its public key file) on first use.
    public func signingKey() throws -> P256.Signing.PrivateKey {
        if hasKey {
            do {
                return try P256.Signing.PrivateKey(pemRepresentation: String(contentsOf: privateKeyFile, encoding: .utf8))
            } catch {
                throw PersistenceError(code: "audit.key-unreadable", reason: "the audit key \(privateKeyFile.lastPathComponent) is not a P-256 private key in PEM")
            }
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        guard FileManager.default.createFile(
            atPath: privateKeyFile.path, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
        else { throw PersistenceError(code: "audit.key-unwritable", reason: "the audit key could not be written in \(directory.lastPathComponent)") }
        try Data(key.publicKey.pemRepresentation.utf8).write(to: publicKeyFile, options: .atomic)
        return key
    }

    /// The signing key's public key in PEM, creating the key pair on first use.
    public func publicKeyPEM() throws -> String {
        try signingKey().publicKey.pemRepresentation
    }

    /// The public key that checks checkpoints: from `file` if given (a copy kept away from the
    /// server), else this folder's public key file, else derived from the private key.
    public func verifyingKey(from file: URL? = nil) throws -> P256.Signing.PublicKey? {
        if let file = file ?? (FileManager.default.fileExists(atPath: publicKeyFile.path) ? publicKeyFile : nil) {
            do {
                return try P256.Signing.PublicKey(pemRepresentation: String(contentsOf: file, encoding: .utf8))
            } catch {
                throw PersistenceError(code: "audit.key-unreadable", reason: "\(file.lastPathComponent) is not a P-256 public key in PEM")
            }
        }
        return hasKey ? try signingKey().publicKey : nil
    }

    /// Appends a checkpoint to the journal and flushes it to disk.
    func append(_ checkpoint: AuditCheckpoint) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: journalFile.path) {
            _ = FileManager.default.createFile(atPath: journalFile.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: journalFile)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((checkpoint.journalLine + "\n").utf8))
        try handle.synchronize()
    }

    /// The checkpoints in the journal `file` (this folder's by default), in file order.
    public func journal(_ file: URL? = nil) throws -> [AuditCheckpoint] {
        let file = file ?? journalFile
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        let text = try String(contentsOf: file, encoding: .utf8)
        var checkpoints: [AuditCheckpoint] = []
        for (index, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            checkpoints.append(try AuditCheckpoint(journalLine: line, lineNumber: index + 1))
        }
        return checkpoints
    }
}
