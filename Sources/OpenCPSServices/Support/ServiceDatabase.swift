import FluentKit
import Foundation
import SQLKit

/// Where services read and write, given to each service in its initialiser.
///
/// A service asks for ``current`` for each operation. Inside ``transaction(_:)`` every
/// service called from the same task works in that transaction, whichever service opened it:
/// this is how a registry change and the card orders it causes, or a card's new state and
/// the revocation of its certificates, commit together or not at all. (Fluent's own
/// `transaction` joins an open one, so repositories that open theirs still write in it.)
///
/// On SQLite, one writer at a time holds the file's write lock, and a connection that finds it
/// taken sleeps in SQLite's busy handler (1, 2, 5, 10 ms and more) before it tries again: under
/// concurrent logins most of the wall time went to those sleeps. There the transactions of a
/// process wait their turn in a queue instead (``init(serializingTransactions:_:)``), and each
/// starts the moment the one before has ended. Work outside a transaction is not queued.
public struct ServiceDatabase: Sendable {
    private let connect: @Sendable () -> any Database
    private let queue: OneAtATime?

    @TaskLocal private static var openTransaction: OpenTransaction?
    private static var open: (any Database)? { openTransaction?.database }

    /// Creates the access from a function that hands out a database handle, such as
    /// `{ app.db }`: asked once per operation, so that work spreads over the event loops.
    /// - Parameters:
    ///   - serializingTransactions: runs this access's transactions one at a time, in the order
    ///     they begin (for SQLite, whose writers otherwise wait for each other asleep). Nested
    ///     transactions join the open one and do not queue; a transaction must not wait for
    ///     work that opens a transaction of its own on another task.
    ///   - connect: hands out a database handle.
    public init(serializingTransactions: Bool = false, _ connect: @escaping @Sendable () -> any Database) {
        self.connect = connect
        self.queue = serializingTransactions ? OneAtATime() : nil
    }

    /// The database of the running operation: the open transaction, if any.
    public var current: any Database {
        Self.open ?? connect()
    }

    /// Whether the running task is inside a transaction of this access.
    public var inTransaction: Bool { Self.open != nil }

    /// A database handle outside any open transaction: for records that must be committed on
    /// their own before the caller goes on, whatever transaction it is in (certificate intents,
    /// recorded before the CA signs).
    public var independent: any Database {
        connect()
    }

    /// Runs `work` in one transaction: a new one, or the transaction the caller is already in.
    /// Nothing `work` writes is kept if it throws. What `work` asked for with ``afterCommit(_:)``
    /// runs once the outermost transaction has committed, before this returns.
    public func transaction<T: Sendable>(_ work: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        if let open = Self.open { return try await work(open) }
        let box = PendingActions()
        // The database may run `work` in a task of its own: the staff member behind the action
        // is carried over, so that the audit entries written in it name them.
        let person = StaffAuditContext.person
        let connect = self.connect
        let run: @Sendable () async throws -> T = {
            try await connect().transaction { database in
                try await StaffAuditContext.$person.withValue(person) {
                    try await Self.$openTransaction.withValue(OpenTransaction(database: database, pending: box)) { try await work(database) }
                }
            }
        }
        let result = if let queue { try await queue.run(run) } else { try await run() }
        for action in box.take() { await action() }
        return result
    }

    /// Runs `action` once the running transaction has committed (never if it rolls back), or
    /// at once outside a transaction: for what others must see only when the change is
    /// durable, such as dropping kept OCSP answers and publishing a CRL.
    public func afterCommit(_ action: @escaping @Sendable () async -> Void) async {
        if let open = Self.openTransaction {
            open.pending.add(action)
        } else {
            await action()
        }
    }
}

/// The transaction a task works in, and what runs once it commits.
private struct OpenTransaction: Sendable {
    let database: any Database
    let pending: PendingActions
}

/// Actions waiting for a commit, in the order they were asked for.
private final class PendingActions: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by lock.
    private var actions: [@Sendable () async -> Void] = []

    func add(_ action: @escaping @Sendable () async -> Void) { lock.withLock { actions.append(action) } }
    func take() -> [@Sendable () async -> Void] { lock.withLock { defer { actions = [] }; return actions } }
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
