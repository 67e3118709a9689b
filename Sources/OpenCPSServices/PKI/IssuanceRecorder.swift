import FluentKit
import Foundation
import OpenCPSPersistence

/// Records issued certificates with group commit: requests that arrive while a transaction
/// is being written wait for the next one, which stores all of them (each audited under its
/// own actor). Every caller returns only once its certificates are committed.
///
/// The first caller that finds no write under way writes, batch after batch, until nothing
/// waits; the others are resumed when their batch is committed. No task is left behind.
actor IssuanceRecorder {
    private struct Waiting {
        var certificates: [(certificate: StoredCertificate, actor: String)]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let clock: any WallClock
    private var waiting: [Waiting] = []
    private var writing = false
    /// The SQLite file's own writer, once looked for (`.some(nil)`: not SQLite, or no file).
    private var sqliteWriter: SQLiteWriter??
    /// The most certificates in one transaction.
    private let batchLimit = 500

    init(clock: any WallClock) {
        self.clock = clock
    }

    /// Stores the certificates and audits them; returns once they are committed.
    func record(_ certificates: [(certificate: StoredCertificate, actor: String)], on database: any Database) async throws {
        guard !writing else {
            try await withCheckedThrowingContinuation { continuation in
                waiting.append(Waiting(certificates: certificates, continuation: continuation))
            }
            return
        }
        writing = true
        defer { writing = false }
        var ownError: (any Error)?
        do {
            if sqliteWriter == nil { sqliteWriter = .some(try await SQLiteWriter.open(for: database)) }
            try await insert(certificates, on: database)
        } catch {
            ownError = error
        }
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
        if let ownError { throw ownError }
    }

    private func insert(_ certificates: [(certificate: StoredCertificate, actor: String)], on database: any Database) async throws {
        try await CertificateRepository(database: database, clock: clock).insert(certificates, through: sqliteWriter ?? nil)
    }
}
