import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Testing
import Vapor
import X509

/// Issue 21: every certificate is recorded before it is signed, the API's as well as the
/// cards' (as Boulder records its precertificates), so that nothing signed is ever unknown.
@Suite("Issuance records an intent before signing")
struct IssuanceIntentTests {
    /// A key store whose issuing CA keys fail to sign while `failing` is set, as an HSM that
    /// drops its session would: the signature is attempted after the intent's commit.
    final class FailingKeyStore: KeyStore, @unchecked Sendable {
        let base: any KeyStore
        let lock = NSLock()
        var failing = false
        /// What the database held when each signature was attempted.
        var intentsSeen: [Int] = []
        let countIntents: @Sendable () -> Int

        init(base: any KeyStore, countIntents: @escaping @Sendable () -> Int) {
            self.base = base
            self.countIntents = countIntents
        }

        func generateKey(label: String, algorithm: KeyAlgorithm) throws -> any PKISigningKey { try base.generateKey(label: label, algorithm: algorithm) }
        func exists(label: String) -> Bool { base.exists(label: label) }
        func key(label: String) throws -> any PKISigningKey {
            let key = try base.key(label: label)
            return label == IssuingCARole.fortePersonnes.slug ? Watched(key: key, store: self) : key
        }

        struct Watched: PKISigningKey {
            let key: any PKISigningKey
            let store: FailingKeyStore
            var label: String { key.label }
            var algorithm: KeyAlgorithm { key.algorithm }
            var publicKey: Certificate.PublicKey { key.publicKey }
            func sign(_ message: [UInt8]) throws -> [UInt8] {
                let seen = store.countIntents()
                let failing = store.lock.withLock {
                    store.intentsSeen.append(seen)
                    return store.failing
                }
                if failing { throw PKIError.signingFailed("the token's session was lost") }
                return try key.sign(message)
            }
        }
    }

    /// The test PKI was made an hour ago: the clock is now.
    let now = Date()

    func request(_ key: SoftwareSigningKey, validFor seconds: TimeInterval = 86_400) -> CardCertificateRequest {
        CardCertificateRequest(
            givenName: "A", surname: "B", idNat: "810100271385", professionTitle: "Médecin", structureName: nil, structureIdentifier: nil,
            cardTypeCode: 0, cardIssuerIdentifier: "80276", cardSerialNumber: "0000000001", cardDomain: "cps.test", publicKey: key.publicKey,
            notBefore: now, notAfter: now.addingTimeInterval(seconds))
    }

    /// What our OCSP responder answers for `serialHex` (read back with swift-certificates' reader of ours).
    func ocspStatus(_ pki: PKIService, _ serialHex: String) async throws -> String {
        let ca = TestPKIMaterial.shared.hierarchy.fortePersonnes.ca.certificate
        let request = try OCSPRequestBytes.make(issuer: ca, serialHex: serialHex)
        let answer = try #require(await pki.answerOCSP(slug: IssuingCARole.fortePersonnes.slug, request: request))
        let single = try #require(try OCSPResponse(derEncoded: answer.der).basic?.responses.first)
        switch single.status {
        case .good: return "good"
        case .revoked: return "revoked"
        case .unknown: return "unknown"
        }
    }

    @Test("the intent is committed before the signature; a failed signature leaves it abandoned (audited, revoked on OCSP and the CRL); a refused request leaves none")
    func intentBeforeSignature() async throws {
        let clock = FixedWallClock(now)
        try await withTestApp(clock: clock) { app in
            let sql = app.db as! any SQLDatabase
            let database = ServiceDatabase { app.db }
            // sign() is synchronous: the count is read on another thread while it waits.
            let keys = FailingKeyStore(base: TestPKIMaterial.shared.keyStore) {
                let box = CountBox()
                let done = DispatchSemaphore(value: 0)
                Task.detached {
                    box.value = (try? await sql.raw("SELECT COUNT(*) AS n FROM certificate_intents").first()?.decode(column: "n", as: Int.self)) ?? -1
                    done.signal()
                }
                done.wait()
                return box.value
            }
            let pki = try PKIService(hierarchy: TestPKIMaterial.shared.hierarchy, keyStore: keys, database: database, clock: clock)
            let holder = try SoftwareSigningKey.generate(label: "holder", algorithm: .p256)

            let issued = try await pki.issue([.init(request: request(holder), profile: .authentication)], actor: "operator:test")[0]
            #expect(keys.lock.withLock { keys.intentsSeen } == [1], "the intent was in the database when the CA signed")
            let intents = try await sql.raw("SELECT serial, abandoned_at FROM certificate_intents").all()
            #expect(try intents.map { try $0.decode(column: "serial", as: String.self) } == [issued.serialHex])
            #expect(try intents.allSatisfy { try $0.decodeNil(column: "abandoned_at") })
            #expect(try await ocspStatus(pki, issued.serialHex) == "good")

            keys.lock.withLock { keys.failing = true }
            await #expect(throws: PKIError.self) {
                try await pki.issue([.init(request: request(holder), profile: .signature)], actor: "operator:test")
            }
            let abandoned = try await sql.raw("SELECT serial FROM certificate_intents WHERE abandoned_at IS NOT NULL").all()
                .map { try $0.decode(column: "serial", as: String.self) }
            #expect(abandoned.count == 1)
            let serial = try #require(abandoned.first)
            #expect(try await ocspStatus(pki, serial) == "revoked")
            keys.lock.withLock { keys.failing = false }
            try await pki.publishCRL(IssuingCARole.fortePersonnes.slug)
            let crl = try #require(try await pki.currentCRL(slug: IssuingCARole.fortePersonnes.slug, delta: false))
            #expect(try CertificateRevocationList(derEncoded: crl.der).entries.map(\.serialNumber.hex).contains(serial))
            let actions = try await sql.raw("SELECT action FROM audit_log ORDER BY seq").all().map { try $0.decode(column: "action", as: String.self) }
            #expect(actions == ["certificate.issue", "certificate.abandon"])

            // A request the issuer refuses before any signature leaves no intent behind.
            await #expect(throws: PKIError.self) {
                try await pki.issue([.init(request: request(holder, validFor: -60), profile: .signature)], actor: "operator:test")
            }
            #expect(try await sql.raw("SELECT COUNT(*) AS n FROM certificate_intents").first()?.decode(column: "n", as: Int.self) == 2)
        }
    }
}

/// A value set by a detached task and read after it signals.
private final class CountBox: @unchecked Sendable {
    var value = 0
}
