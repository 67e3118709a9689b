import Foundation
import OpenCPSDomain

/// Group commit of issued certificates on an ``SQLiteWriter``, driven from the writer's own
/// thread: requests that arrive while a transaction is being written wait for the next one,
/// which stores all of them (each audited under its own actor), and each caller is resumed
/// once its certificates are committed.
///
/// The loop that takes batch after batch runs in one job of the writer until nothing waits,
/// so that no task has to be scheduled between two transactions: with the cooperative pool
/// busy signing, that hop took about 2 ms of a 6 ms cycle.
///
/// Under load a transaction may also wait a little for the certificates on their way
/// (``Gathering``, PostgreSQL's `commit_delay` and `commit_siblings`): every commit flushes the
/// log, and on a virtual disk a flush costs CPU as well as time.
public final class CertificateGroupCommit: @unchecked Sendable {
    /// How long a transaction waits for more certificates before it is written, and when.
    public struct Gathering: Sendable, Equatable {
        /// The longest wait; zero never waits.
        public var delay: Duration
        /// A transaction waits only when at least this many requests are already waiting: a
        /// lone request (a quiet server) is written at once.
        public var siblings: Int
        /// The wait ends as soon as this many requests wait.
        public var target: Int

        /// Creates the setting.
        public init(delay: Duration, siblings: Int = 2, target: Int = 12) {
            self.delay = delay
            self.siblings = max(1, siblings)
            self.target = max(self.siblings, target)
        }

        /// OpenCPS's default: up to 0.8 ms for 12 requests once two wait. A choice measured on
        /// this project's two-core benchmark machine (docs/benchmarks.md), not an official value.
        public static let `default` = Gathering(delay: .microseconds(800))
    }

    // @unchecked: `waiting` and `draining` are only touched under `lock`.
    /// A caller's rows: certificates to store (after their signature), or the intents of
    /// certificates about to be signed (before it). Both kinds share the transactions.
    private struct Waiting {
        var certificates: [(certificate: StoredCertificate, actor: String)] = []
        var intents: [CertificateIntent] = []
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let writer: SQLiteWriter
    private let clock: any WallClock
    private let gathering: Gathering
    /// Guards `waiting` and `draining`; signalled when the gathering target is reached.
    private let lock = NSCondition()
    private var waiting: [Waiting] = []
    private var draining = false
    /// The most certificates in one transaction.
    private let batchLimit = 500

    /// Creates the group commit.
    /// - Parameters:
    ///   - writer: the SQLite file's writer.
    ///   - clock: the clock that timestamps audit entries.
    ///   - gathering: how long a transaction waits for more certificates under load.
    public init(writer: SQLiteWriter, clock: any WallClock, gathering: Gathering = .default) {
        self.writer = writer
        self.clock = clock
        self.gathering = gathering
    }

    /// Stores the certificates and audits them; returns once they are committed.
    public func record(_ certificates: [(certificate: StoredCertificate, actor: String)]) async throws {
        guard !certificates.isEmpty else { return }
        try await enqueue { Waiting(certificates: certificates, continuation: $0) }
    }

    /// Records the intents of certificates about to be signed (``CertificateIntent``); returns
    /// once they are committed, so that nothing is signed that the database does not know.
    /// Not audited: the issuance is, when the certificate is stored.
    public func recordIntents(_ intents: [CertificateIntent]) async throws {
        guard !intents.isEmpty else { return }
        try await enqueue { Waiting(intents: intents, continuation: $0) }
    }

    private func enqueue(_ item: @escaping (CheckedContinuation<Void, any Error>) -> Waiting) async throws {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            waiting.append(item(continuation))
            if waiting.count == gathering.target { lock.signal() }
            let start = !draining
            draining = true
            lock.unlock()
            if start {
                writer.submit { session in self.drain(session) }
            }
        }
    }

    /// Writes batch after batch until nothing waits (on the writer's thread).
    private func drain(_ session: SQLiteWriter.Session?) {
        while true {
            lock.lock()
            gather()
            let batch = Array(waiting.prefix(batchLimit))
            waiting.removeFirst(batch.count)
            if batch.isEmpty { draining = false }
            lock.unlock()
            guard !batch.isEmpty else { return }
            guard let session else {
                for item in batch { item.continuation.resume(throwing: SQLiteWriterError(status: 0, message: "the thread pool is stopped", statement: "")) }
                continue
            }
            let recordedAt = StoredTimestamp.string(clock.now())
            do {
                try CertificateRepository.insert(
                    batch.flatMap(\.certificates), intents: batch.flatMap(\.intents), recordedAt: recordedAt, on: session)
                for item in batch { item.continuation.resume() }
            } catch {
                // One bad record must not fail the others: store each on its own.
                for item in batch {
                    do {
                        try CertificateRepository.insert(item.certificates, intents: item.intents, recordedAt: recordedAt, on: session)
                        item.continuation.resume()
                    } catch {
                        item.continuation.resume(throwing: error)
                    }
                }
            }
        }
    }

    /// Under load, waits (holding `lock`, released while waiting) until the target is reached
    /// or the delay has passed.
    private func gather() {
        guard gathering.delay > .zero, waiting.count >= gathering.siblings, waiting.count < gathering.target else { return }
        let (seconds, attoseconds) = gathering.delay.components
        let deadline = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18)
        while waiting.count < gathering.target, lock.wait(until: deadline) {}
    }
}
