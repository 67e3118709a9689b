import OpenCPSDomain

/// What can go wrong when reading or writing stored records.
public struct PersistenceError: DomainError, Equatable {
    /// The stable code, for example `registry.duplicate`.
    public let code: String
    /// A sentence for a person.
    public let reason: String

    /// Creates an error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// A record with this key exists already.
    public static func duplicate(_ what: String) -> Self {
        .init(code: "registry.duplicate", reason: "\(what) already exists")
    }

    /// No record has this key.
    public static func notFound(_ what: String) -> Self {
        .init(code: "registry.not-found", reason: "\(what) does not exist")
    }

    /// The record changed since the caller read it.
    public static func versionConflict(_ what: String, expected: Int, actual: Int) -> Self {
        .init(code: "registry.version-conflict", reason: "\(what) is at version \(actual), not \(expected): read it again")
    }

    /// A stored row could not be read back into a domain value.
    public static func corrupt(_ what: String, _ detail: String) -> Self {
        .init(code: "storage.corrupt-row", reason: "\(what) could not be read: \(detail)")
    }
}
