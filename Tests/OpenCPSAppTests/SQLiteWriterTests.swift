import OpenCPSDomain
import Foundation
import OpenCPSHTTP
import OpenCPSPersistence
import SQLKit
import Testing
import Vapor

/// The SQLite file's own writer (issuance's group commit and the directory import go through
/// it): what it stores reads back the same through Fluent, and a failing transaction leaves nothing.
@Suite("SQLite writer")
struct SQLiteWriterTests {
    private func certificate(serial: String, subject: String = "CN=Dr Élise Ñúñez", idNat: String? = "810100271385") -> StoredCertificate {
        TestIssuance.storedCertificate(serial: serial, subject: subject, idNat: idNat)
    }

    /// Stores certificates as issuance does: through the SQLite file's group commit, or
    /// through Fluent where there is no writer (PostgreSQL).
    private func store(
        _ certificates: [(certificate: StoredCertificate, actor: String)], through writer: SQLiteWriter?, on app: Application
    ) async throws {
        if let writer {
            try await CertificateGroupCommit(writer: writer, clock: FixedWallClock(testNow)).record(certificates)
        } else {
            try await CertificateRepository(database: app.db, clock: FixedWallClock(testNow)).insert(certificates)
        }
    }

    @Test("it opens on the suite's SQLite file, and not on PostgreSQL")
    func opensOnSQLiteOnly() async throws {
        try await withTestApp { app in
            let writer = try await SQLiteWriter.open(for: app.db)
            if TestDatabase.isPostgres {
                #expect(writer == nil)
            } else {
                let path = try #require(writer?.path)
                #expect(FileManager.default.fileExists(atPath: path))
            }
        }
    }

    @Test("certificates it stores read back unchanged (accents, NULLs, empty text), each audited")
    func roundTrip() async throws {
        try await withTestApp { app in
            let repository = CertificateRepository(database: app.db, clock: FixedWallClock(testNow))
            let writer = try await SQLiteWriter.open(for: app.db)
            let stored = [certificate(serial: "0a"), certificate(serial: "0b", subject: "", idNat: nil)]
            try await store(stored.map { ($0, "operator:test") }, through: writer, on: app)
            for expected in stored {
                #expect(try await repository.certificate(issuer: expected.issuer, serial: expected.serial) == expected)
            }
            #expect(try await AuditLog(clock: FixedWallClock(testNow)).verify(on: app.db) == .intact(entries: 2))
            let history = try await AuditLog(clock: FixedWallClock(testNow)).history(entityType: "certificate", entityID: "forte-personnes/0b", on: app.db)
            #expect(history.map(\.actor) == ["operator:test"])
            #expect(history.map(\.action) == ["certificate.issue"])
        }
    }

    @Test("SQLite's other refusals are typed, and the edge answers them as an internal error that shows no SQL",
          .enabled(if: !TestDatabase.isPostgres))
    func otherFailuresAreInternal() async throws {
        try await withTestApp { app in
            let writer = try #require(try await SQLiteWriter.open(for: app.db))
            try await (app.db as! any SQLDatabase).raw("DROP TABLE certificates").run()
            let error = await #expect(throws: SQLiteWriterError.self) {
                try await store([(certificate(serial: "01"), "operator:a")], through: writer, on: app)
            }
            #expect(error?.message.contains("no such table") == true)
            let problem = ProblemMiddleware.problem(for: try #require(error))
            #expect(problem.status == 500)
            #expect(problem.code == "server.internal")
            #expect(!problem.detail.contains("certificates"))
            // Nothing was appended to the audit log.
            #expect(try await AuditLog(clock: FixedWallClock(testNow)).verify(on: app.db) == .intact(entries: 0))
        }
    }

    @Test("a batch naming a serial already stored is refused whole: nothing of it is stored or audited")
    func duplicateRollsBackTheBatch() async throws {
        try await withTestApp { app in
            let repository = CertificateRepository(database: app.db, clock: FixedWallClock(testNow))
            let writer = try await SQLiteWriter.open(for: app.db)
            try await store([(certificate(serial: "01"), "operator:a")], through: writer, on: app)
            let error = await #expect(throws: (any Error).self) {
                try await store([(certificate(serial: "02"), "operator:b"), (certificate(serial: "01"), "operator:b")], through: writer, on: app)
            }
            if writer != nil {
                #expect((error as? PersistenceError)?.code == "registry.duplicate")
            }
            #expect(try await repository.certificate(issuer: "forte-personnes", serial: "02") == nil)
            #expect(try await AuditLog(clock: FixedWallClock(testNow)).verify(on: app.db) == .intact(entries: 1))
            // The writer is still usable after the failure.
            try await store([(certificate(serial: "03"), "operator:c")], through: writer, on: app)
            #expect(try await AuditLog(clock: FixedWallClock(testNow)).verify(on: app.db) == .intact(entries: 2))
        }
    }

    @Test("the revocation index holds revoked and held certificates only, and the CRL query reads through it (M0008)")
    func partialRevocationIndex() async throws {
        try await withTestApp { app in
            let sql = try #require(app.db as? any SQLDatabase)
            let writer = try await SQLiteWriter.open(for: app.db)
            try await store((1...20).map { (certificate(serial: String(format: "%02x", $0)), "operator:a") }, through: writer, on: app)
            let repository = CertificateRepository(database: app.db, clock: FixedWallClock(testNow))
            try await repository.revoke(issuer: "forte-personnes", serial: "05", reason: 1, at: testNow, actor: "operator:a")
            try await repository.revoke(issuer: "forte-personnes", serial: "07", reason: 6, at: testNow, actor: "operator:a")
            #expect(try await repository.revocations(issuer: "forte-personnes").map(\.serial).sorted() == ["05", "07"])
            if TestDatabase.isPostgres {
                let definition = try await sql.raw("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'certificates_revoked'")
                    .first()?.decode(column: "indexdef", as: String.self)
                #expect(definition?.hasSuffix("WHERE (revoked_at IS NOT NULL)") == true)
            } else {
                let plan = try await sql.raw("""
                    EXPLAIN QUERY PLAN SELECT serial, revoked_at, reason, released_at FROM certificates
                    WHERE issuer = 'forte-personnes' AND revoked_at IS NOT NULL
                    """).all().map { try $0.decode(column: "detail", as: String.self) }
                #expect(plan.contains { $0.contains("USING INDEX certificates_revoked") }, "\(plan)")
                // Twenty certificates, two of them revoked or held: two entries in the index.
                let entries = try await sql.raw("SELECT count(*) AS n FROM certificates INDEXED BY certificates_revoked WHERE revoked_at IS NOT NULL")
                    .first()?.decode(column: "n", as: Int.self)
                #expect(entries == 2)
            }
        }
    }
}
