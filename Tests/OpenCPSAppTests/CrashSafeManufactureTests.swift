import Crypto
import FluentKit
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

/// Issue 21: manufacture is crash-safe. Every card certificate is recorded as an intent before
/// the CA signs it; what a dead process leaves (intents without a card, token and letter files
/// under pending or final names) is swept, its certificates revoked on OCSP and the CRLs; and
/// blocked cards whose certificates are still good are repaired.
@Suite("Crash-safe manufacture, sweep and repair", TestTools.needs("openssl"))
struct CrashSafeManufactureTests {
    static let settings = CardServiceSettings(keyAlgorithm: .p256, manufactureBatchSize: 2)

    func withService(_ body: (CardServices, CardAPI, FixedWallClock) async throws -> Void) async throws {
        let clock = FixedWallClock(Date())
        let holders = DemoData.professionals.map(\.idNat.value)
        try await withConfiguredTestApp(
            clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders), cardSettings: Self.settings
        ) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            try await body(try #require(app.cards), CardAPI(app: app, configuration: configuration), clock)
        }
    }

    func validatedFiles(_ service: CardServices) async throws -> [String] {
        var files: [String] = []
        for professional in DemoData.professionals {
            let exercise = professional.exercises[0]
            guard let ordre = exercise.profession.ordre else { continue }
            var registered = professional
            registered.exercises[0].registration = OrderRegistration(ordre: ordre, registeredOn: try CivilDate("2020-01-01"))
            if let file = try await service.ordering.orderAutomatically(for: registered, professionCode: exercise.profession.code) {
                files.append(file.id)
            }
        }
        return files
    }

    func auditActions(_ app: Application) async throws -> [String] {
        try await (app.db as! any SQLDatabase).select().column("action").from("audit_log").orderBy("seq").all()
            .map { try $0.decode(column: "action", as: String.self) }
    }

    func expectAuditIntact(_ app: Application, clock: FixedWallClock) async throws {
        if case .broken(let seq, let reason) = try await AuditLog(clock: clock).verify(on: app.db) {
            Issue.record("audit chain broken at \(seq): \(reason)")
        }
    }

    /// The serials (lower-case hex) a CRL lists, as `openssl crl` reads it.
    func crlSerials(_ pki: PKIService) async throws -> Set<String> {
        let crl = try #require(try await pki.currentCRL(slug: IssuingCARole.fortePersonnes.slug, delta: false))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("crl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("full.crl")
        try Data(crl.der).write(to: file)
        let text = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", file.path, "-noout", "-text"]).output
        return Set(text.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "Serial Number: ") else { return nil }
            let hex = line[range.upperBound...].trimmingCharacters(in: .whitespaces).lowercased()
            return String(hex.drop { $0 == "0" })
        })
    }

    @Test("a production run records each certificate as an intent before signing it; the sweep forgets the intents of recorded cards and abandons none")
    func intentsBeforeSigning() async throws {
        try await withService { service, api, clock in
            let run = await service.production.manufacture(try await validatedFiles(service), actor: .agencyOperator(.production))
            #expect(run.failures.isEmpty && run.manufactured.count == 5)
            let intents = CertificateIntentRepository(database: api.app.db, clock: clock)
            let open = try await intents.open()
            let signed = Set(run.manufactured.flatMap { $0.manufacture?.certificates.serials ?? [] })
            #expect(Set(open.map(\.serial)) == signed)
            #expect(Set(open.compactMap(\.cardSerial)) == Set(run.manufactured.compactMap(\.manufacture?.serial.value)))
            clock.advance(by: 1)
            let sweep = try await service.repair.sweep(grace: 0)
            #expect(sweep == CardRepair.Sweep())
            #expect(try await intents.open().isEmpty)
            for serial in signed.prefix(2) {
                #expect(try await api.ocspStatus(serialHex: serial) == "good")
            }
            try await expectAuditIntact(api.app, clock: clock)
        }
    }

    @Test("a certificate signed for a card never recorded is revoked on OCSP from its intent, and on the CRL once swept; the orphan files are removed and the sweep audited")
    func sweepAfterCrash() async throws {
        try await withService { service, api, clock in
            let made = await service.production.manufacture(Array(try await validatedFiles(service).prefix(2)), actor: .agencyOperator(.production))
            #expect(made.manufactured.count == 2)
            let pki = try #require(api.app.pkiService)
            // What a process killed between the signature and the commit leaves: an intent
            // committed, its certificate signed, the token and letter under pending names, and
            // (killed after the renames) another card's files under their final names.
            let deadCard = "9999999991"
            let renamedCard = "9999999992"
            let serial = pki.reserveSerial()
            try await CertificateIntentRepository(database: api.app.db, clock: clock).record([CertificateIntent(
                issuer: IssuingCARole.fortePersonnes.slug, serial: serial, profile: "authentication", idNat: "810100271385",
                cardSerial: deadCard, notAfter: clock.now().addingTimeInterval(86_400 * 365), intendedAt: clock.now())])
            let key = P256.Signing.PrivateKey()
            let issued = try pki.sign([PKIService.IssuanceRequest(
                request: CardCertificateRequest(
                    givenName: "Élise", surname: "Ñúñez", idNat: "810100271385", professionTitle: "Médecin", structureName: nil,
                    structureIdentifier: nil, cardTypeCode: 0, cardIssuerIdentifier: "80276", cardSerialNumber: deadCard,
                    cardDomain: "cps.opencps.invalid", publicKey: Certificate.PublicKey(key.publicKey), notBefore: clock.now(),
                    notAfter: clock.now().addingTimeInterval(86_400 * 365)),
                profile: .authentication, serialHex: serial)])
            #expect(issued.first?.serialHex == serial)
            let tokens = api.configuration.tokenDirectory
            let letters = api.configuration.letterDirectory
            let orphans = [
                tokens.appendingPathComponent(".pending-\(deadCard).token"),
                letters.appendingPathComponent(".pending-\(deadCard)-lettre-code-porteur.txt"),
                tokens.appendingPathComponent("\(renamedCard).token"),
                tokens.appendingPathComponent(".\(renamedCard).token.lock"),
                letters.appendingPathComponent("\(renamedCard)-lettre-code-porteur.txt"),
            ]
            for file in orphans { try Data(issued[0].pem.utf8).write(to: file) }
            let kept = try FileManager.default.contentsOfDirectory(atPath: tokens.path).filter { !$0.contains("99999999") }
                + FileManager.default.contentsOfDirectory(atPath: letters.path).filter { !$0.contains("99999999") }
            #expect(kept.count == 4)

            // Before the sweep: OCSP says revoked already (the intent is not completed).
            #expect(try await api.ocspStatus(serialHex: serial) == "revoked")
            // Younger than the grace period: left alone.
            #expect(try await service.repair.sweep(grace: 3600) == CardRepair.Sweep())
            clock.advance(by: 1)
            let sweep = try await service.repair.sweep(grace: 0)
            #expect(sweep.abandonedCertificates == ["\(IssuingCARole.fortePersonnes.slug)/\(serial)"])
            #expect(Set(sweep.removedFiles) == Set(orphans.map(\.lastPathComponent)))
            #expect(orphans.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
            let left = try FileManager.default.contentsOfDirectory(atPath: tokens.path) + FileManager.default.contentsOfDirectory(atPath: letters.path)
            #expect(Set(left) == Set(kept))
            #expect(try await api.ocspStatus(serialHex: serial) == "revoked")
            #expect(try await crlSerials(pki).contains(String(serial.drop { $0 == "0" })))
            let actions = try await auditActions(api.app)
            #expect(actions.filter { $0 == "certificate.abandon" }.count == 1)
            #expect(actions.filter { $0 == "card.orphan-file-remove" }.count == 5)
            // A sweep again finds nothing; the made cards are untouched and good.
            #expect(try await service.repair.sweep(grace: 0) == CardRepair.Sweep())
            for card in made.manufactured {
                #expect(try await api.ocspStatus(serialHex: try #require(card.manufacture?.certificates.authentication)) == "good")
            }
            try await expectAuditIntact(api.app, clock: clock)
        }
    }

    @Test("the repair revokes the certificates of a card opposed without them, and holds those of a suspended card whose hold was released")
    func repairBlockedCards() async throws {
        try await withService { service, api, clock in
            let run = await service.production.manufacture(Array(try await validatedFiles(service).prefix(3)), actor: .agencyOperator(.production))
            let cards = run.manufactured.sorted { $0.id < $1.id }
            #expect(cards.count == 3)
            let pki = try #require(api.app.pkiService)
            let sql = api.app.db as! any SQLDatabase
            // A card opposed by a write that did not revoke its certificates (before issue 21, or by hand).
            try await sql.update("cards").set("state", to: "opposed").where("id", .equal, cards[0].id).run()
            // A suspended card whose one certificate was put on hold and released again by an
            // operator on its own, and whose other was never held.
            try await sql.update("cards").set("state", to: "suspended").where("id", .equal, cards[1].id).run()
            let suspended = try #require(cards[1].manufacture?.certificates)
            _ = try await pki.revoke(issuer: suspended.issuer, serialHex: suspended.authentication, reason: .certificateHold, actor: "operator")
            _ = try await pki.releaseHold(issuer: suspended.issuer, serialHex: suspended.authentication, actor: "operator")
            #expect(try await api.ocspStatus(serialHex: try #require(cards[0].manufacture?.certificates.authentication)) == "good")
            #expect(try await api.ocspStatus(serialHex: suspended.authentication) == "good")

            let repaired = try await service.repair.repairBlockedCards()
            #expect(repaired.count == 4)
            #expect(repaired.filter { $0.cardID == cards[0].id }.map(\.reason) == ["keyCompromise", "keyCompromise"])
            #expect(repaired.filter { $0.cardID == cards[1].id }.map(\.reason) == ["certificateHold", "certificateHold"])
            for serial in cards[0].manufacture?.certificates.serials ?? [] {
                #expect(try await api.ocspStatus(serialHex: serial) == "revoked")
                #expect(try await pki.certificate(issuer: suspended.issuer, serialHex: serial).status == .revoked)
            }
            #expect(try await pki.certificate(issuer: suspended.issuer, serialHex: suspended.authentication).status == .onHold)
            #expect(try await pki.certificate(issuer: suspended.issuer, serialHex: suspended.signature).status == .onHold)
            #expect(try await api.ocspStatus(serialHex: try #require(cards[2].manufacture?.certificates.authentication)) == "good")
            #expect(try await crlSerials(pki).contains(String((cards[0].manufacture?.certificates.authentication ?? "").drop { $0 == "0" })))
            #expect(try await service.repair.repairBlockedCards().isEmpty)
            let actions = try await auditActions(api.app)
            #expect(actions.suffix(4).allSatisfy { $0 == "certificate.revoke" || $0 == "certificate.hold" })
            try await expectAuditIntact(api.app, clock: clock)
        }
    }
}
