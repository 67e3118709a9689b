import Foundation

/// An entry of the audit log as stored: the event, its place in the chain and its hash.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// The position in the log, from 1, without gaps.
    public var seq: Int64
    /// When it was recorded (ISO 8601, UTC).
    public var recordedAt: String
    /// See ``AuditEvent/actor``.
    public var actor: String
    /// See ``AuditEvent/action``.
    public var action: String
    /// See ``AuditEvent/entityType``.
    public var entityType: String
    /// See ``AuditEvent/entityID``.
    public var entityID: String
    /// See ``AuditEvent/beforeDigest``.
    public var beforeDigest: String?
    /// See ``AuditEvent/afterDigest``.
    public var afterDigest: String?
    /// See ``AuditEvent/detail``.
    public var detail: String?
    /// The hash of the entry before this one (the genesis hash for the first).
    public var previousHash: String
    /// The hash of this entry, covering every field above.
    public var hash: String

    /// Creates an entry, field by field.
    public init(
        seq: Int64, recordedAt: String, actor: String, action: String, entityType: String, entityID: String,
        beforeDigest: String?, afterDigest: String?, detail: String?, previousHash: String, hash: String
    ) {
        self.seq = seq
        self.recordedAt = recordedAt
        self.actor = actor
        self.action = action
        self.entityType = entityType
        self.entityID = entityID
        self.beforeDigest = beforeDigest
        self.afterDigest = afterDigest
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }

    enum CodingKeys: String, CodingKey {
        case seq, actor, action, detail, hash
        case recordedAt = "recorded_at"
        case entityType = "entity_type"
        case entityID = "entity_id"
        case beforeDigest = "before_digest"
        case afterDigest = "after_digest"
        case previousHash = "previous_hash"
    }
}
