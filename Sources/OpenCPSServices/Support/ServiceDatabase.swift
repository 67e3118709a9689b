import FluentKit
import SQLKit

/// Where services read and write, given to each service in its initialiser.
///
/// A service asks for ``current`` for each operation. Inside ``transaction(_:)`` every
/// service called from the same task works in that transaction, whichever service opened it:
/// this is how a registry change and the card orders it causes, or a card's new state and
/// the revocation of its certificates, commit together or not at all. (Fluent's own
/// `transaction` joins an open one, so repositories that open theirs still write in it.)
public struct ServiceDatabase: Sendable {
    private let connect: @Sendable () -> any Database

    @TaskLocal private static var open: (any Database)?

    /// Creates the access from a function that hands out a database handle, such as
    /// `{ app.db }`: asked once per operation, so that work spreads over the event loops.
    public init(_ connect: @escaping @Sendable () -> any Database) {
        self.connect = connect
    }

    /// The database of the running operation: the open transaction, if any.
    public var current: any Database {
        Self.open ?? connect()
    }

    /// Whether the calling task is inside a transaction opened by ``transaction(_:)``.
    public var isInTransaction: Bool { Self.open != nil }

    /// Runs `work` in one transaction: a new one, or the transaction the caller is already in.
    /// Nothing `work` writes is kept if it throws.
    public func transaction<T: Sendable>(_ work: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        if let open = Self.open { return try await work(open) }
        return try await connect().transaction { database in
            try await Self.$open.withValue(database) { try await work(database) }
        }
    }
}

extension ServiceDatabase {
    /// Whether the database answers a trivial query: what makes a server ready.
    public func isReachable() async -> Bool {
        guard let sql = current as? any SQLDatabase else { return false }
        do {
            try await sql.raw("SELECT 1 AS ok").run()
            return true
        } catch {
            return false
        }
    }
}
