import OpenCPSDomain
import Foundation
import OpenCPSApp
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Testing
import Vapor

@Suite("Issuance group commit")
struct IssuanceGroupCommitTests {
    @Test("concurrent issuances share transactions, and every certificate is stored and audited once")
    func concurrentIssuance() async throws {
        try await withConfiguredTestApp(clock: SystemWallClock(), pki: TestPKIMaterial.shared) { app, _ in
            let pki = try #require(app.pkiService)
            let key = try SoftwareSigningKey.generate(label: "holder", algorithm: .p256)
            let count = 60
            let serials = try await withThrowingTaskGroup(of: String.self) { group in
                for number in 0..<count {
                    group.addTask {
                        let request = CardCertificateRequest(
                            givenName: "A", surname: "B\(number)", idNat: "810100271385", professionTitle: "Médecin",
                            structureName: nil, structureIdentifier: nil, cardTypeCode: 0, cardIssuerIdentifier: "80276",
                            cardSerialNumber: String(format: "%010d", number), cardDomain: "cps.test", publicKey: key.publicKey,
                            notBefore: Date(), notAfter: Date().addingTimeInterval(86_400))
                        return try await pki.issue([.init(request: request, profile: .authentication)], actor: "operator:test-\(number % 3)")[0].serialHex
                    }
                }
                var all: [String] = []
                for try await serial in group { all.append(serial) }
                return all
            }
            #expect(Set(serials).count == count)
            let stored = try await CertificateRepository(database: app.db, clock: SystemWallClock()).certificates(idNat: "810100271385")
            #expect(Set(stored.map(\.serial)) == Set(serials))
            let verification = try await AuditLog(clock: SystemWallClock()).verify(on: app.db)
            #expect(verification == .intact(entries: Int64(count)))
        }
    }

    /// A clock one second later at every reading: each transaction's audit entries carry the
    /// one reading it took, so that distinct timestamps count transactions.
    final class TickingClock: WallClock, @unchecked Sendable {
        private let lock = NSLock()
        private var current = testNow
        func now() -> Date { lock.withLock { current += 1; return current } }
    }

    /// The transactions that wrote the audit log, counted by their timestamps.
    private func transactions(_ app: Application) async throws -> Int {
        try await (app.db as! any SQLDatabase).raw("SELECT COUNT(DISTINCT recorded_at) AS n FROM audit_log").first(decoding: Count.self)?.n ?? 0
    }

    private struct Count: Decodable { let n: Int }

    /// Runs `body` with a group commit on the test's SQLite file, its audit entries timed by a ``TickingClock``.
    private func withGroupCommit(_ gathering: CertificateGroupCommit.Gathering, _ body: (Application, CertificateGroupCommit) async throws -> Void) async throws {
        try await withTestApp { app in
            let writer = try #require(try await SQLiteWriter.open(for: app.db))
            try await body(app, CertificateGroupCommit(writer: writer, clock: TickingClock(), gathering: gathering))
        }
    }

    // The limits catch a gathering that waits out its hour-long delay; they include the test
    // application's start, which under the whole suite on a loaded machine took over five
    // minutes (the suite's browser and server tests start beside it): fifteen are allowed.
    @Test("a lone certificate is written at once, whatever the gathering delay", .timeLimit(.minutes(15)),
          .disabled(if: TestDatabase.isPostgres, "the group commit runs on the SQLite file's writer"))
    func loneCertificateIsNotHeld() async throws {
        try await withGroupCommit(.init(delay: .seconds(3_600), siblings: 2, target: 4)) { app, commit in
            for serial in ["01", "02"] {
                try await commit.record([(TestIssuance.storedCertificate(serial: serial), "operator:test")])
            }
            #expect(try await transactions(app) == 2)
        }
    }

    @Test("under load a transaction waits for its target, then stores the whole group at once", .timeLimit(.minutes(15)),
          .disabled(if: TestDatabase.isPostgres, "the group commit runs on the SQLite file's writer"))
    func gatheringEndsAtItsTarget() async throws {
        // One waiting request is enough to wait, for as long as it takes three to arrive.
        try await withGroupCommit(.init(delay: .seconds(3_600), siblings: 1, target: 3)) { app, commit in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for serial in ["0a", "0b", "0c"] {
                    group.addTask { try await commit.record([(TestIssuance.storedCertificate(serial: serial), "operator:test")]) }
                }
                try await group.waitForAll()
            }
            #expect(try await transactions(app) == 1)
            let verification = try await AuditLog(clock: SystemWallClock()).verify(on: app.db)
            #expect(verification == .intact(entries: 3))
        }
    }

    @Test("the issuance commit delay is 800 µs unless OPENCPS_ISSUANCE_COMMIT_DELAY_US says otherwise, and a gathering waits for at least one")
    func gatheringSetting() throws {
        #expect(CertificateGroupCommit.Gathering.default.delay == .microseconds(800))
        #expect(try OpenCPSConfiguration.resolve(flags: .init(), environment: [:]).issuanceCommitDelay == .microseconds(800))
        #expect(try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_ISSUANCE_COMMIT_DELAY_US": "0"]).issuanceCommitDelay == .zero)
        for bad in ["-1", "soon", "100001"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_ISSUANCE_COMMIT_DELAY_US": bad])
            }
        }
        let gathering = CertificateGroupCommit.Gathering(delay: .microseconds(500), siblings: 0, target: 0)
        #expect(gathering.siblings == 1 && gathering.target == 1)
    }
}
