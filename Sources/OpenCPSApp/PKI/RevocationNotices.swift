import Foundation
import Logging
import OpenCPSPersistence
import OpenCPSServices
import FluentPostgresDriver
import Vapor

/// Hears the certificate status changes made by every server on the same PostgreSQL database
/// (`LISTEN` on the schema's revocation channel) and hands them to the PKI, which drops the
/// kept OCSP answers naming the certificate and re-publishes the CA's CRLs.
///
/// Fail-closed: until the connection listens and has read the revocation version (after
/// `LISTEN`, so that no change falls between), and from the moment it is lost, the PKI keeps
/// and serves no OCSP answer; every answer is signed from the database. The connection is
/// made again every second until it succeeds. SQLite is one process: nothing to hear.
struct RevocationNotices: LifecycleHandler {
    let pki: PKIService
    let configuration: PostgresConnection.Configuration
    let schema: String
    private let task = TaskBox()

    /// Listens on `url`'s database, in `searchPath`'s first schema (`public` without one).
    init(pki: PKIService, url: URL, searchPath: [String]?) throws {
        self.pki = pki
        self.configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        self.schema = searchPath?.first ?? "public"
    }

    func willBootAsync(_ application: Application) async throws {
        // Nothing is kept before the first connection has read the version.
        pki.suspendKeptAnswers()
    }

    func didBootAsync(_ application: Application) async throws {
        let pki = self.pki
        let configuration = self.configuration
        let schema = self.schema
        let logger = application.logger
        task.set(Task {
            var attempt = 0
            while !Task.isCancelled {
                attempt += 1
                var failure = "the connection ended"
                do {
                    try await Self.listen(pki: pki, configuration: configuration, schema: schema, logger: logger)
                } catch {
                    failure = "\(error)"
                }
                pki.suspendKeptAnswers()
                if !Task.isCancelled {
                    logger.warning("Revocation notices lost; OCSP answers are signed from the database until they are heard again",
                                   metadata: ["error": "\(failure)", "attempt": "\(attempt)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        })
        // Serve once listening, so that answers are kept from the first request; a server whose
        // database is unreachable starts anyway and signs every answer until it is reached.
        for _ in 0..<200 where !pki.keepsAnswers {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func shutdownAsync(_ application: Application) async {
        task.cancel()
    }

    /// One connection's life: listens, reads the version, resumes kept answers, and hands over
    /// each notice until the connection ends.
    private static func listen(pki: PKIService, configuration: PostgresConnection.Configuration, schema: String, logger: Logger) async throws {
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await hear(on: connection, pki: pki, schema: schema, logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    private static func hear(on connection: PostgresConnection, pki: PKIService, schema: String, logger: Logger) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: #"SET application_name = 'opencps-revocation-notices:\#(schema.replacingOccurrences(of: "'", with: "''"))'"#), logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: #"SET search_path TO "\#(schema.replacingOccurrences(of: "\"", with: "\"\""))""#), logger: logger)
        try await connection.listen(on: RevocationVersionRepository.channel(schema: schema)) { notices in
            var version: Int64 = 0
            for try await value in try await connection.query("SELECT version FROM revocation_version WHERE id = 1", logger: logger).decode(Int64.self) {
                version = value
            }
            pki.resumeKeptAnswers(at: UInt64(version))
            logger.info("Hearing revocation notices", metadata: ["version": "\(version)"])
            for try await notification in notices {
                guard let notice = RevocationNotice(payload: notification.payload) else { continue }
                pki.revocationNoticed(notice)
            }
        }
    }

    /// The listening task, cancelled at shutdown.
    private final class TaskBox: @unchecked Sendable {
        private let lock = NSLock()
        private var task: Task<Void, Never>?

        func set(_ task: Task<Void, Never>) { lock.withLock { self.task = task } }
        func cancel() { lock.withLock { task?.cancel() } }
    }
}
