import Foundation
import OpenCPSApp
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSServices
import Testing

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
                            structureName: "S", structureIdentifier: "1250999018", cardTypeCode: 0, cardIssuerIdentifier: "80276",
                            cardSerialNumber: String(format: "%010d", number), cardDomain: "cps.test", publicKey: key.publicKey,
                            notBefore: Date(), notAfter: Date().addingTimeInterval(86_400))
                        return try await pki.issue([.init(request: request, profile: .authentication)], actor: "operator:test-\(number % 3)", on: app.db)[0].serialHex
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
}
