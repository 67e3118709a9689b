import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// Records issued certificates with group commit: requests that arrive while a transaction
/// is being written wait for the next one, which stores all of them (each audited under its
/// own actor). Every caller returns only once its certificates are committed.
///
/// On an SQLite file the loop runs on the file's writer (``CertificateGroupCommit``). Through
/// Fluent (PostgreSQL), a task of this actor writes batch after batch until nothing waits, and
/// each caller is resumed when its batch is committed; the task ends with the queue.
actor IssuanceRecorder {
    private struct Waiting {
        var certificates: [(certificate: StoredCertificate, actor: String)]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private nonisolated let clock: any WallClock
    private nonisolated let gathering: CertificateGroupCommit.Gathering
    private var waiting: [Waiting] = []
    private var writing = false
    /// The SQLite file's group commit, once looked for (`.some(nil)`: not SQLite, or no file);
    /// read without entering the actor, so that a caller does not queue on it for every issuance.
    private nonisolated let sqliteGroupCommit = FoundOnce<CertificateGroupCommit>()
    /// The most certificates in one transaction.
    private let batchLimit = 500

    init(clock: any WallClock, gathering: CertificateGroupCommit.Gathering) {
        self.clock = clock
        self.gathering = gathering
    }

    /// Stores the certificates and audits them; returns once they are committed.
    ///
    /// On an SQLite file, the group commit runs on the file's own writer
    /// (``CertificateGroupCommit``) and callers wait outside this actor; otherwise this actor
    /// runs it through Fluent.
    nonisolated func record(_ certificates: [(certificate: StoredCertificate, actor: String)], on database: () -> any Database) async throws {
        if let groupCommit = try await groupCommit(for: database) {
            try await groupCommit.record(certificates)
        } else {
            try await recordThroughFluent(certificates, on: database())
        }
    }

    /// Records the intents of certificates about to be signed; returns once they are committed.
    /// On an SQLite file they share the group commit's transactions; through Fluent each call
    /// commits its own (PostgreSQL commits concurrent transactions together).
    nonisolated func recordIntents(_ intents: [CertificateIntent], on database: () -> any Database) async throws {
        if let groupCommit = try await groupCommit(for: database) {
            try await groupCommit.recordIntents(intents)
        } else {
            try await CertificateIntentRepository(database: database(), clock: clock).record(intents)
        }
    }

    /// The SQLite file's group commit, looked for at the first call.
    private nonisolated func groupCommit(for database: () -> any Database) async throws -> CertificateGroupCommit? {
        if let found = sqliteGroupCommit.value { return found }
        let found = try await SQLiteWriter.open(for: database()).map { CertificateGroupCommit(writer: $0, clock: clock, gathering: gathering) }
        // Another caller may have looked while this one waited: keep the first.
        return sqliteGroupCommit.keepFirst(found)
    }

    private func recordThroughFluent(_ certificates: [(certificate: StoredCertificate, actor: String)], on database: any Database) async throws {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiting(certificates: certificates, continuation: continuation))
            guard !writing else { return }
            writing = true
            // A task of its own writes, so that no caller waits for batches after its own.
            Task { await self.drainThroughFluent(on: database) }
        }
    }

    /// Writes batch after batch until nothing waits; each caller is resumed when its batch is committed.
    private func drainThroughFluent(on database: any Database) async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(batchLimit))
            waiting.removeFirst(batch.count)
            do {
                try await insert(batch.flatMap(\.certificates), on: database)
                for item in batch { item.continuation.resume() }
            } catch {
                // One bad record must not fail the others: store each on its own.
                for item in batch {
                    do {
                        try await insert(item.certificates, on: database)
                        item.continuation.resume()
                    } catch {
                        item.continuation.resume(throwing: error)
                    }
                }
            }
        }
        writing = false
    }

    private func insert(_ certificates: [(certificate: StoredCertificate, actor: String)], on database: any Database) async throws {
        try await CertificateRepository(database: database, clock: clock).insert(certificates)
    }
}
