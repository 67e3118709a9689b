import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// The result of checking the checkpoints against the log.
public enum AuditCheckpointVerification: Sendable, Equatable {
    /// Every checkpoint is signed by the audit key and the log still holds its head;
    /// `lastSeq` is the newest checkpoint's entry (nil when there is none).
    case intact(checkpoints: Int, lastSeq: Int64?)
    /// The first checkpoint found wrong (by entry number), and why.
    case broken(seq: Int64, reason: String)
}

/// Writes signed checkpoints of the audit log and checks them.
public struct AuditCheckpoints: Sendable {
    /// The folder of the audit key and of the journal, outside the database.
    public let folder: AuditKeyFolder
    private let clock: any WallClock

    /// Creates the writer and checker.
    public init(folder: AuditKeyFolder, clock: any WallClock) {
        self.folder = folder
        self.clock = clock
    }

    /// The log's committed head.
    public static func head(on database: any Database) async throws -> (seq: Int64, hash: String) {
        guard let row = try await database.sql.raw("SELECT seq, hash FROM audit_head WHERE id = 1").first() else {
            throw PersistenceError.corrupt("the audit log head", "missing row")
        }
        return (try row.decode(column: "seq", as: Int64.self), try row.decode(column: "hash", as: String.self))
    }

    /// The newest checkpoint stored in the database, if any.
    public static func latest(on database: any Database) async throws -> AuditCheckpoint? {
        try await database.sql.raw("SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1").first().map(checkpoint)
    }

    /// Signs the log's current head, appends it to the journal (flushed), then stores it.
    /// Does nothing when the head is already checkpointed or the log is empty.
    /// - Returns: the checkpoint written, or nil.
    @discardableResult
    public func write(on database: any Database) async throws -> AuditCheckpoint? {
        let head = try await Self.head(on: database)
        guard head.seq > 0 else { return nil }
        if let latest = try await Self.latest(on: database), latest.seq >= head.seq { return nil }
        let key = try folder.signingKey()
        let recordedAt = StoredTimestamp.string(clock.now())
        let bytes = AuditCheckpoint.signedBytes(seq: head.seq, headHash: head.hash, recordedAt: recordedAt)
        let signature = try key.signature(for: SHA256.hash(data: bytes)).derRepresentation.base64EncodedString()
        let checkpoint = AuditCheckpoint(seq: head.seq, headHash: head.hash, recordedAt: recordedAt, signature: signature)
        // The file first: a checkpoint that reached the journal but not the table is still checked.
        try folder.append(checkpoint)
        // Several nodes may sign the same head at once: the first row stays.
        try await database.sql.raw("""
            INSERT INTO audit_checkpoints (seq, head_hash, recorded_at, signature)
            VALUES (\(bind: checkpoint.seq), \(bind: checkpoint.headHash), \(bind: checkpoint.recordedAt), \(bind: checkpoint.signature))
            ON CONFLICT (seq) DO NOTHING
            """).run()
        return checkpoint
    }

    /// Checks every checkpoint of the journal and of the database, oldest first: each is
    /// signed by `publicKey`, the journal and the table agree, and the log's entry at its
    /// number still carries its head hash (a rewritten or truncated log fails).
    /// - Parameters:
    ///   - publicKeyFile: the audit public key to trust (a copy kept away from the server);
    ///     by default the folder's.
    ///   - journalFile: the journal to read (a copy); by default the folder's.
    public func verify(
        on database: any Database, publicKeyFile: URL? = nil, journalFile: URL? = nil
    ) async throws -> AuditCheckpointVerification {
        let stored = try await database.sql.raw("SELECT * FROM audit_checkpoints ORDER BY seq").all().map(Self.checkpoint)
        let journal = try folder.journal(journalFile)
        var bySeq: [Int64: (journal: AuditCheckpoint?, stored: AuditCheckpoint?)] = [:]
        for checkpoint in journal where bySeq[checkpoint.seq]?.journal == nil { bySeq[checkpoint.seq, default: (nil, nil)].journal = checkpoint }
        for checkpoint in stored { bySeq[checkpoint.seq, default: (nil, nil)].stored = checkpoint }
        guard !bySeq.isEmpty else { return .intact(checkpoints: 0, lastSeq: nil) }
        guard let key = try folder.verifyingKey(from: publicKeyFile) else {
            let first = bySeq.keys.min() ?? 0
            return .broken(seq: first, reason: "checkpoint \(first) cannot be checked: no audit public key in \(folder.directory.lastPathComponent)")
        }
        for seq in bySeq.keys.sorted() {
            let pair = bySeq[seq]!
            let name = "checkpoint \(seq)"
            if let inJournal = pair.journal, let inTable = pair.stored, inJournal != inTable {
                return .broken(seq: seq, reason: "\(name) differs between the journal and the database")
            }
            for checkpoint in [pair.journal, pair.stored].compactMap({ $0 }) where !checkpoint.isSigned(by: key) {
                return .broken(seq: seq, reason: "\(name) (\(checkpoint.recordedAt)) is not signed by the audit key")
            }
            let checkpoint = (pair.journal ?? pair.stored)!
            let row = try await database.sql.raw("SELECT hash FROM audit_log WHERE seq = \(bind: seq)").first()
            guard let row else {
                return .broken(seq: seq, reason: "\(name) (\(checkpoint.recordedAt)) names entry \(seq), which the log no longer holds: entries were removed")
            }
            if try row.decode(column: "hash", as: String.self) != checkpoint.headHash {
                return .broken(seq: seq, reason: "\(name) (\(checkpoint.recordedAt)) does not match entry \(seq): the log was rewritten up to it")
            }
        }
        return .intact(checkpoints: bySeq.count, lastSeq: bySeq.keys.max())
    }

    private static func checkpoint(_ row: any SQLRow) throws -> AuditCheckpoint {
        AuditCheckpoint(
            seq: try row.decode(column: "seq", as: Int64.self), headHash: try row.decode(column: "head_hash", as: String.self),
            recordedAt: try row.decode(column: "recorded_at", as: String.self), signature: try row.decode(column: "signature", as: String.self))
    }
}
