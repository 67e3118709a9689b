import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSServices
import OpenCPSTokens
import SwiftASN1
import Testing
import X509

/// The certificates of every card type as manufacture makes them, read field by field by
/// OpenSSL and linted by pkilint: personal cards (CPS, CPF) without O/OU and with the
/// profession as title, staff cards (CPE, CPA, CDE, CDA) with their structure and a role as
/// title, and the temporary card saying what it is (DESIGN.md §2, issue 26).
@Suite("Card certificates as real cards carry them", TestTools.needs("openssl"))
struct CardCertificateFidelityTests {
    /// What one card's certificates must say.
    struct Expected: CustomStringConvertible {
        var holder: Professional
        var kind: CardKind
        var title: String
        var cardType: Int
        var structure: Structure?
        var temporary = false
        var description: String { "\(kind) of \(holder.idNat)\(temporary ? " (temporary)" : "")" }
    }

    @Test("every card type: subject, card type extension and validity read by openssl, and pkilint finds no error")
    func everyCardType() async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            let cards = try #require(app.cards)
            _ = try await DemoCards.create(cards: cards, letters: configuration.letterDirectory, tokens: configuration.tokenDirectory)
            let people = DemoData.professionals
            let (hospital, clinic, centre) = (DemoData.establishments[0], DemoData.establishments[1], DemoData.establishments[2])

            // Claire's CPS is opposed; her hospital, where she is salaried, lends her a temporary card.
            let claireCPS = try #require(try await cards.reading.cards(of: people[0].idNat, actor: .holder(people[0].idNat)).first)
            _ = try await cards.blocking.oppose(claireCPS.id, reason: "perte", actor: .holder(people[0].idNat))
            let temporary = try await cards.blocking.issueTemporaryCard(for: claireCPS.id, actor: .establishmentManager(hospital.identifier))
            _ = try await cards.production.manufacture(temporary.id, actor: .agencyOperator(.production))

            let expected: [Expected] = [
                Expected(holder: people[0], kind: .cps, title: try Profession(code: "10").label, cardType: 0),
                Expected(holder: people[4], kind: .cps, title: try Profession(code: "91").label, cardType: 0),
                Expected(holder: people[1], kind: .cpf, title: try Profession(code: "21").label, cardType: 1),
                Expected(holder: people[2], kind: .cpe, title: "Personnel d'établissement", cardType: 2, structure: clinic),
                Expected(holder: people[5], kind: .cpa, title: "Personnel autorisé", cardType: 3, structure: centre),
                Expected(holder: people[3], kind: .cde, title: "Directeur d'établissement", cardType: 2, structure: hospital),
                Expected(holder: people[3], kind: .cda, title: "Responsable de structure", cardType: 3, structure: centre),
                Expected(holder: people[0], kind: .cpe, title: "Personnel d'établissement (carte temporaire)", cardType: 2,
                         structure: hospital, temporary: true),
            ]
            let folder = try ExternalTool.temporaryFolder("card-certificates")
            defer { try? FileManager.default.removeItem(at: folder) }
            for card in expected {
                let found = try await cards.reading.cards(of: card.holder.idNat, actor: .holder(card.holder.idNat))
                    .filter { $0.kind == card.kind && $0.temporary == card.temporary && $0.manufacture != nil }
                let made = try #require(found.first, "\(card)")
                let manufacture = try #require(made.manufacture)
                let token = try SoftwareToken.open(configuration.tokenDirectory.appendingPathComponent("\(manufacture.serial.value).token"))
                for role in CardKeyRole.allCases {
                    let file = folder.appendingPathComponent("\(manufacture.serial.value)-\(role).pem")
                    try Data(token.certificatePEM(role).utf8).write(to: file)
                    try check(card, role: role, file: file, expiresOn: manufacture.expiresOn)
                }
                if card.temporary {
                    #expect(manufacture.expiresOn == CivilDate(clock.now()).adding(days: CardServiceSettings().temporaryValidityDays))
                }
            }
        }
    }

    /// Reads one certificate with OpenSSL and swift-certificates, and lints it.
    func check(_ card: Expected, role: CardKeyRole, file: URL, expiresOn: CivilDate) throws {
        let subject = try ExternalTool.run("openssl", ["x509", "-in", file.path, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"])
        try #require(subject.status == 0, "\(subject.output)")
        let line = subject.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let holder = card.holder
        #expect(line.contains("CN=\(holder.idNat.value)") && line.contains("SN=\(holder.lastName)") && line.contains("GN=\(holder.firstName)"),
                "\(card) \(role): \(line)")
        if let structure = card.structure {
            // RFC 2253 order is the reverse of the subject's: ..., title, OU, O, C.
            #expect(line.hasSuffix(",title=\(card.title),OU=\(structure.identifier.idNatStruct),O=\(structure.name),C=FR"), "\(card) \(role): \(line)")
        } else {
            #expect(line.hasSuffix(",title=\(card.title),C=FR"), "\(card) \(role): \(line)")
            #expect(!line.contains("O=") && !line.contains("OU="), "\(card) \(role): \(line)")
        }

        let text = try ExternalTool.run("openssl", ["x509", "-in", file.path, "-noout", "-text"]).output
        #expect(text.contains("1.2.250.1.71.1.2.2:"), "\(card) \(role)")
        #expect(text.contains(role == .authentication ? "TLS Web Client Authentication" : "Digital Signature, Non Repudiation"), "\(card) \(role)")
        let certificate = try Certificate(pemEncoded: String(decoding: try Data(contentsOf: file), as: UTF8.self))
        let cardType = try #require(certificate.extensions.first { $0.oid == PKIObjectIdentifiers.cpsCardType })
        #expect(try Int(derEncoded: cardType.value) == card.cardType, "\(card) \(role)")
        // The last second of the card's last day, UTC.
        #expect(certificate.notValidAfter == expiresOn.adding(days: 1).startOfDayUTC.addingTimeInterval(-1), "\(card) \(role)")

        let lint = try ExternalTool.run(try TestTools.venvTool("lint_pkix_cert"), ["lint", "-s", "ERROR", file.path])
        let findings = lint.output.split(separator: "\n").filter { $0.contains("ERROR") || $0.contains("FATAL") || $0.contains("Traceback") }
        #expect(findings.isEmpty, "\(card) \(role): \(lint.output)")
    }
}
