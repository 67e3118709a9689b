import ArgumentParser
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import Testing
import Vapor

/// The demo cards, the holder's command line, and reissues after a registry change.
@Suite("Card tools", TestTools.needs("openssl"))
struct CardToolsTests {
    @Test("the demo makes an active card of every type, each with its token and PIN letter")
    func demoCards() async throws {
        try await withConfiguredTestApp(clock: SystemWallClock(), pki: TestPKIMaterial.shared) { app, configuration in
            _ = try await DemoData(clock: SystemWallClock()).load(into: app.db)
            let cards = try #require(app.cards)
            let lines = try await DemoCards.create(cards: cards, letters: configuration.letterDirectory, tokens: configuration.tokenDirectory)
            #expect(lines.count == 7)
            var kinds: [String] = []
            for person in DemoData.professionals {
                for card in try await CardRepository(database: app.db, clock: SystemWallClock()).cards(holder: person.idNat) {
                    #expect(card.state == .active)
                    kinds.append(card.kind.code)
                    let serial = try #require(card.manufacture?.serial.value)
                    #expect(FileManager.default.fileExists(atPath: configuration.tokenDirectory.appendingPathComponent("\(serial).token").path))
                    #expect(FileManager.default.fileExists(atPath: configuration.letterDirectory.appendingPathComponent("\(serial)-lettre-code-porteur.txt").path))
                }
            }
            #expect(Set(kinds) == ["CPS", "CPF", "CPE", "CPA", "CDE", "CDA"])
            #expect(try await DemoCards.create(cards: cards, letters: configuration.letterDirectory, tokens: configuration.tokenDirectory).isEmpty)
        }
    }

    @Test("opencps card: status, PIN, a CAdES signature checked by openssl cms -verify and opencps signature verify, and clear errors")
    func cardCommandLine() async throws {
        try await withConfiguredTestApp(clock: SystemWallClock(), pki: TestPKIMaterial.shared) { app, configuration in
            _ = try await DemoData(clock: SystemWallClock()).load(into: app.db)
            let cards = try #require(app.cards)
            let claire = DemoData.professionals[0]
            let card = try #require(try await cards.ordering.orderAutomatically(for: claire, professionCode: "10"))
            let made = try await cards.production.manufacture(card.id, actor: .agencyOperator(.production))
            let serial = try #require(made.manufacture?.serial.value)
            let pin = try DemoCards.pinFromLetter(configuration.letterDirectory, serial: serial)
            let token = configuration.tokenDirectory.appendingPathComponent("\(serial).token").path
            let folder = try ExternalTool.temporaryFolder("card-cli")
            func input(_ lines: String...) throws -> String {
                let file = folder.appendingPathComponent("input-\(UUID().uuidString)")
                try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
                return file.path
            }
            try await OpenCPSCommand.run(["card", "status", "--token", token])
            try await OpenCPSCommand.run(["card", "verify-pin", "--token", token, "--input", try input(pin)])
            await #expect(throws: ExitCode(3)) {
                try await OpenCPSCommand.run(["card", "verify-pin", "--token", token, "--input", try input(pin == "0000" ? "1111" : "0000")])
            }
            let document = folder.appendingPathComponent("ordonnance.txt")
            try "Amoxicilline 1 g, 3 fois par jour pendant 7 jours".write(to: document, atomically: true, encoding: .utf8)
            await #expect(throws: (any Error).self) {
                try await OpenCPSCommand.run(["card", "sign", document.path, "--type", "invoice", "--token", token, "--input", try input(pin)])
            }
            // The data folder's PKI gives the signature its CA certificate.
            let data = folder.appendingPathComponent("data")
            try TestPKIMaterial.shared.hierarchy.save(to: data.appendingPathComponent("pki"))
            try await OpenCPSCommand.run(["card", "sign", document.path, "--type", "prescription", "--token", token, "--data", data.path, "--input", try input(pin)])
            let root = folder.appendingPathComponent("root.pem")
            try (TestPKIMaterial.shared.hierarchy.root.pem + "\n").write(to: root, atomically: true, encoding: .utf8)
            let verified = try ExternalTool.run("openssl", [
                "cms", "-verify", "-binary", "-inform", "DER", "-in", document.path + ".p7s", "-content", document.path,
                "-CAfile", root.path, "-out", "/dev/null"])
            #expect(verified.status == 0 && verified.output.contains("Verification successful"), "\(verified.output)")
            let printed = try ExternalTool.run("openssl", ["cms", "-cmsout", "-print", "-inform", "DER", "-in", document.path + ".p7s"]).output
            #expect(printed.contains(claire.idNat.value) && printed.contains("id-smime-aa-signingCertificateV2"), "\(printed)")

            // `opencps signature verify` reads the data folder's PKI and revocations: this folder's
            // database never issued the card, so the revocation verdict fails (exit 3).
            try await OpenCPSCommand.run(["migrate", "--data", data.path, "--log-level", "error"])
            await #expect(throws: ExitCode(3)) {
                try await OpenCPSCommand.run(["signature", "verify", document.path, "--type", "prescription", "--data", data.path])
            }
            await #expect(throws: (any Error).self) {
                try await OpenCPSCommand.run(["signature", "verify", document.path, "--type", "invoice", "--data", data.path])
            }
            try await OpenCPSCommand.run(["card", "change-pin", "--token", token, "--input", try input(pin, "8642")])
            try await OpenCPSCommand.run(["card", "verify-pin", "--token", token, "--input", try input("8642")])
            await #expect(throws: (any Error).self) { try await OpenCPSCommand.run(["card", "status"]) }
            await #expect(throws: (any Error).self) { try await OpenCPSCommand.run(["card", "status", "--token", "/nonexistent.token"]) }
        }
    }

    @Test("a change of name in the registry orders a new card (not a move, which a personal card does not show); the old one works until the new one is active")
    func reissue() async throws {
        try await withConfiguredTestApp(clock: SystemWallClock(), pki: TestPKIMaterial.shared) { app, configuration in
            _ = try await DemoData(clock: SystemWallClock()).load(into: app.db)
            let cards = try #require(app.cards)
            let claire = DemoData.professionals[0]
            let card = try #require(try await cards.ordering.orderAutomatically(for: claire, professionCode: "10"))
            let made = try await cards.production.manufacture(card.id, actor: .agencyOperator(.production))
            _ = try await cards.production.deliver(card.id, actor: .agencyOperator(.production))
            let pin = try DemoCards.pinFromLetter(configuration.letterDirectory, serial: made.manufacture?.serial.value ?? "")
            _ = try await cards.secrets.activate(card.id, pin: pin, actor: .holder(claire.idNat))
            #expect(try await cards.renewal.reissueAfterRegistryChange(of: claire.idNat).isEmpty)

            // Claire moves to the Lyon centre: her CPS names no structure, so it stays as it is;
            // then she takes her married name, which her card shows: a new card is ordered.
            let lyon = DemoData.establishments[2]
            var headers = HTTPHeaders.operatorHeaders
            headers.contentType = .json
            for lastName in [claire.lastName, "LAMBERT-MOREAU"] {
                let body = try JSONSerialization.data(withJSONObject: [
                    "idNat": claire.idNat.value, "civilite": "MME", "lastName": lastName, "firstName": claire.firstName,
                    "exercises": [["professionCode": "10", "registration": ["registeredOn": "2020-09-01"],
                                   "activities": [["mode": "S", "structureId": lyon.identifier.idNatStruct, "structureName": lyon.name,
                                                   "department": "69", "address": ["line": "5 Rue DE LA REPUBLIQUE", "postalCode": "69002", "city": "Lyon"]]]]],
                ])
                try await app.testing().test(.PUT, "/api/v1/professionals/\(claire.idNat.value)", headers: headers, body: ByteBuffer(data: body)) {
                    #expect($0.status == .ok)
                }
                if lastName == claire.lastName {
                    #expect(try await CardRepository(database: app.db, clock: SystemWallClock()).cards(holder: claire.idNat).count == 1)
                }
            }
            let all = try await CardRepository(database: app.db, clock: SystemWallClock()).cards(holder: claire.idNat)
            let successor = try #require(all.first { $0.order.replaces == card.id })
            #expect(successor.order.reason == .reissue && successor.state == .validated)
            #expect(all.first { $0.id == card.id }?.state == .active)
            let next = try await cards.production.manufacture(successor.id, actor: .agencyOperator(.production))
            _ = try await cards.production.deliver(successor.id, actor: .agencyOperator(.production))
            _ = try await cards.secrets.activate(successor.id, pin: try DemoCards.pinFromLetter(configuration.letterDirectory, serial: next.manufacture?.serial.value ?? ""), actor: .holder(claire.idNat))
            #expect(try await CardRepository(database: app.db, clock: SystemWallClock()).card(id: card.id)?.state == .superseded)
        }
    }
}
