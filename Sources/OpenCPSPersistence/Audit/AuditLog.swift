import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// Something that happened, to be appended to the audit log.
public struct AuditEvent: Sendable, Equatable {
    /// Who did it: a user, an operator, a service (`system`), an import job.
    public var actor: String
    /// What was done, as a stable dotted verb (`professional.create`).
    public var action: String
    /// The kind of record it touched (`professional`, `structure`, `card`).
    public var entityType: String
    /// The record's key.
    public var entityID: String
    /// The SHA-256 (hex) of the record before the change, if it existed.
    public var beforeDigest: String?
    /// The SHA-256 (hex) of the record after the change, if it still exists.
    public var afterDigest: String?
    /// A short free text that helps a reader (never a secret).
    public var detail: String?

    /// Creates an event.
    public init(
        actor: String, action: String, entityType: String, entityID: String,
        beforeDigest: String? = nil, afterDigest: String? = nil, detail: String? = nil
    ) {
        self.actor = actor
        self.action = action
        self.entityType = entityType
        self.entityID = entityID
        self.beforeDigest = beforeDigest
        self.afterDigest = afterDigest
        self.detail = detail
    }
}

/// How the chain is hashed: SHA-256 over the previous hash and every field, each field
/// length-prefixed so that no two different entries share an input.
public enum AuditChain {
    /// The previous hash of the first entry.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The hash an entry must carry.
    public static func hash(of entry: AuditEntry) -> String {
        FieldDigest.sha256([
            entry.previousHash, String(entry.seq), entry.recordedAt, entry.actor, entry.action,
            entry.entityType, entry.entityID, entry.beforeDigest, entry.afterDigest, entry.detail,
        ])
    }
}

/// The SHA-256 of a list of fields, each written `length:value;` (a missing one `-;`), so
/// that no two lists share an encoding.
enum FieldDigest {
    static func sha256(_ fields: [String?]) -> String {
        var input = ""
        for field in fields {
            if let field {
                input += "\(field.utf8.count):\(field);"
            } else {
                input += "-;"
            }
        }
        return SHA256.hash(data: Data(input.utf8)).hexString
    }
}

/// The result of checking the whole chain.
public enum AuditVerification: Sendable, Equatable {
    /// Every entry's hash and link is right, and the head names the last entry.
    case intact(entries: Int64)
    /// The first entry found wrong, and why.
    case broken(seq: Int64, reason: String)
}

/// Appends to and verifies the audit log.
public struct AuditLog: Sendable {
    private let clock: any WallClock

    /// Creates the log's writer and checker.
    /// - Parameter clock: the clock that timestamps entries.
    public init(clock: any WallClock) {
        self.clock = clock
    }

    /// Takes the log's write lock inside the current transaction; call it first in every
    /// transaction that will append, before reading what the change depends on.
    static func lock(_ sql: any SQLDatabase) async throws -> (seq: Int64, hash: String) {
        if SQLEngine(sql) == .sqlite {
            // SQLiteNIO's own busy handler retries at once, in a loop that burns a core while
            // another connection holds the write lock; SQLite's timed handler sleeps instead.
            try await sql.raw("PRAGMA busy_timeout = 30000").run()
        }
        // Locks the head and reads it in one statement (one round trip fewer per transaction).
        guard let row = try await sql.raw("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash").first() else {
            throw PersistenceError.corrupt("the audit log head", "missing row")
        }
        return (try row.decode(column: "seq", as: Int64.self), try row.decode(column: "hash", as: String.self))
    }

    /// Takes the log's write lock and reads its head through an ``SQLiteWriter``, inside its transaction.
    static func lock(_ session: SQLiteWriter.Session) throws -> (seq: Int64, hash: String) {
        guard let row = try session.statement("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash").firstRow(),
              row.count == 2, let seq = row[0].flatMap({ Int64($0) }), let hash = row[1]
        else { throw PersistenceError.corrupt("the audit log head", "missing row") }
        return (seq, hash)
    }

    /// Appends events inside a transaction that already holds the lock from ``lock(_:)``.
    func append(_ events: [AuditEvent], after head: (seq: Int64, hash: String), on sql: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        let (entries, last) = Self.entries(events, after: head, recordedAt: StoredTimestamp.string(clock.now()))
        for chunk in entries.chunked(by: 500) {
            try await sql.insert(into: "audit_log").models(Array(chunk), nilEncodingStrategy: .asNil).run()
        }
        try await sql.raw("UPDATE audit_head SET seq = \(bind: last.seq), hash = \(bind: last.hash) WHERE id = 1").run()
    }

    /// Appends events through an ``SQLiteWriter``, inside its transaction, after its `lock`.
    static func append(
        _ events: [AuditEvent], after head: (seq: Int64, hash: String), recordedAt: String, on session: SQLiteWriter.Session
    ) throws {
        guard !events.isEmpty else { return }
        let (entries, last) = entries(events, after: head, recordedAt: recordedAt)
        try session.insert(
            entries.map { [String($0.seq), $0.recordedAt, $0.actor, $0.action, $0.entityType, $0.entityID, $0.beforeDigest, $0.afterDigest, $0.detail, $0.previousHash, $0.hash] },
            sql: """
                INSERT INTO audit_log (seq, recorded_at, actor, action, entity_type, entity_id, before_digest, after_digest, detail, previous_hash, hash) \
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            integerColumns: [true])
        let update = try session.statement("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")
        try update.bind(1, last.seq)
        try update.bind(2, last.hash)
        try update.runToEnd()
    }

    /// The entries that chain `events` after `head`, and the new head.
    static func entries(
        _ events: [AuditEvent], after head: (seq: Int64, hash: String), recordedAt: String
    ) -> (entries: [AuditEntry], head: (seq: Int64, hash: String)) {
        var previous = head.hash
        var seq = head.seq
        var entries: [AuditEntry] = []
        entries.reserveCapacity(events.count)
        for event in events {
            seq += 1
            var entry = AuditEntry(
                seq: seq, recordedAt: recordedAt, actor: event.actor, action: event.action,
                entityType: event.entityType, entityID: event.entityID, beforeDigest: event.beforeDigest,
                afterDigest: event.afterDigest, detail: event.detail, previousHash: previous, hash: "")
            entry.hash = AuditChain.hash(of: entry)
            previous = entry.hash
            entries.append(entry)
        }
        return (entries, (seq, previous))
    }

    /// Appends events in a transaction of their own.
    public func record(_ events: [AuditEvent], on database: any Database) async throws {
        try await database.transaction { db in
            let head = try await Self.lock(db.sql)
            try await append(events, after: head, on: db.sql)
        }
    }

    /// Checks every entry in order: its link to the one before, its hash, that numbers have
    /// no gap, and that the head names the last entry.
    /// - Returns: ``AuditVerification/intact(entries:)`` or the first broken entry.
    public func verify(on database: any Database) async throws -> AuditVerification {
        let sql = database.sql
        var expectedPrevious = AuditChain.genesisHash
        var expectedSeq: Int64 = 1
        let pageSize = 10_000
        while true {
            let page = try await sql.raw("""
                SELECT * FROM audit_log WHERE seq >= \(bind: expectedSeq) ORDER BY seq LIMIT \(bind: pageSize)
                """).all(decoding: AuditEntry.self)
            for entry in page {
                if entry.seq != expectedSeq {
                    return .broken(seq: expectedSeq, reason: "entry \(expectedSeq) is missing")
                }
                if entry.previousHash != expectedPrevious {
                    return .broken(seq: entry.seq, reason: "entry \(entry.seq) does not link to the entry before it")
                }
                if AuditChain.hash(of: entry) != entry.hash {
                    return .broken(seq: entry.seq, reason: "entry \(entry.seq) was altered: its hash does not match its content")
                }
                expectedPrevious = entry.hash
                expectedSeq += 1
            }
            if page.count < pageSize { break }
        }
        let head = try await sql.raw("SELECT seq, hash FROM audit_head WHERE id = 1").first()
        let headSeq = try head?.decode(column: "seq", as: Int64.self) ?? -1
        let headHash = try head?.decode(column: "hash", as: String.self) ?? ""
        if headSeq != expectedSeq - 1 || headHash != expectedPrevious {
            return .broken(seq: expectedSeq, reason: "the log ends at entry \(expectedSeq - 1) but its head names entry \(headSeq): entries were removed")
        }
        return .intact(entries: expectedSeq - 1)
    }

    /// The entries about one record, oldest first.
    public func history(entityType: String, entityID: String, on database: any Database) async throws -> [AuditEntry] {
        try await database.sql.raw("""
            SELECT * FROM audit_log WHERE entity_type = \(bind: entityType) AND entity_id = \(bind: entityID) ORDER BY seq
            """).all(decoding: AuditEntry.self)
    }
}

extension Digest {
    /// Lower-case hexadecimal.
    public var hexString: String { HexEncoding.lowercase(self) }
}

/// Lower-case hexadecimal without a formatter per byte (audit hashes are on every write).
public enum HexEncoding {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The bytes in lower-case hexadecimal.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements (batches of rows, of work).
    public func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
