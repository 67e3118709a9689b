import ArgumentParser
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import OpenCPSTokens
import Testing
import Vapor
import VaporTesting

/// Cards made as PKCS #11 tokens on SoftHSM2, used by tools nobody here wrote: pkcs11-tool
/// lists, logs in and signs; OpenSSL signs through its pkcs11 engine (libp11) and checks the
/// signatures and the certificate chain with the CRL; and the PIN rules through `opencps card`.
@Suite("Cards as PKCS #11 tokens (SoftHSM2)", SoftHSM.needs(), TestTools.needs("openssl", "pkcs11-tool"))
struct PKCS11CardTests {
    let claire = DemoData.professionals[0]

    /// Claire's CPS made on SoftHSM2 with RSA-2048 keys, delivered, and its PIN from the letter.
    func withCard(_ body: (Application, OpenCPSConfiguration, CardServices, _ id: String, _ serial: String, _ pin: String) async throws -> Void) async throws {
        _ = try SoftHSM.module()
        try await withConfiguredTestApp(
            clock: SystemWallClock(), pki: TestPKIMaterial.shared, cardSettings: CardServiceSettings(keyAlgorithm: .rsa2048),
            cardPKCS11Module: SoftHSM.modulePath
        ) { app, configuration in
            _ = try await DemoData(clock: SystemWallClock()).load(into: app.db)
            let cards = try #require(app.cards)
            let order = try #require(try await cards.ordering.orderAutomatically(for: claire, professionCode: "10"))
            let made = try await cards.production.manufacture(order.id, actor: .agencyOperator(.production))
            _ = try await cards.production.deliver(order.id, actor: .agencyOperator(.production))
            let serial = try #require(made.manufacture?.serial.value)
            #expect(!FileManager.default.fileExists(atPath: configuration.tokenDirectory.appendingPathComponent("\(serial).token").path))
            let pin = try DemoCards.pinFromLetter(configuration.letterDirectory, serial: serial)
            try await body(app, configuration, cards, order.id, serial, pin)
        }
    }

    func pkcs11Tool(_ serial: String, _ arguments: [String]) throws -> ExternalTool.Result {
        try ExternalTool.run(
            "pkcs11-tool", ["--module", SoftHSM.modulePath, "--token-label", PKCS11CardToken.label(cardSerial: serial)] + arguments,
            environment: SoftHSM.environment)
    }

    func puk(_ configuration: OpenCPSConfiguration, serial: String) throws -> String {
        let letter = try String(contentsOf: configuration.letterDirectory.appendingPathComponent("\(serial)-lettre-code-porteur.txt"), encoding: .utf8)
        let line = try #require(letter.split(separator: "\n").first { $0.hasPrefix(PINLetter.pukLabel) })
        return String(line.dropFirst(PINLetter.pukLabel.count)).trimmingCharacters(in: .whitespaces)
    }

    @Test("pkcs11-tool lists the card's objects, logs in with its PIN and signs; OpenSSL signs through the pkcs11 engine; both verify, and the certificate validates with -crl_check")
    func standardTools() async throws {
        try await withCard { app, _, cards, id, serial, pin in
            _ = try await cards.secrets.activate(id, pin: pin, actor: .holder(claire.idNat))
            let folder = try ExternalTool.temporaryFolder("pkcs11-card")

            // Without a PIN: the certificates and public data objects, no private key.
            let listed = try pkcs11Tool(serial, ["--list-objects"])
            #expect(listed.status == 0, "\(listed.output)")
            for text in ["Certificate Object", "label:      authentication", "label:      signature", "ID:         01", "ID:         02",
                         "'cardSerial'", "'holderIdNat'", "'pinCounters'"] {
                #expect(listed.output.contains(text), "\(text) missing in \(listed.output)")
            }
            #expect(!listed.output.contains("Private Key Object"))
            // With the PIN: both private keys, each with the ID of its certificate.
            let withKeys = try pkcs11Tool(serial, ["--login", "--pin", pin, "--list-objects", "--type", "privkey"])
            #expect(withKeys.status == 0, "\(withKeys.output)")
            #expect(withKeys.output.components(separatedBy: "Private Key Object").count == 3, "\(withKeys.output)")
            #expect(withKeys.output.contains("ID:         01") && withKeys.output.contains("ID:         02"))
            #expect(withKeys.output.components(separatedBy: "Access:     sensitive, always sensitive, never extractable, local").count == 3, "\(withKeys.output)")
            let keyFile = folder.appendingPathComponent("privkey.der")
            let read = try pkcs11Tool(serial, ["--login", "--pin", pin, "--read-object", "--type", "privkey", "--id", "02", "--output-file", keyFile.path])
            #expect(read.status != 0 || read.output.contains("reading private keys not (yet) supported"), "\(read.output)")
            #expect((try? Data(contentsOf: keyFile))?.isEmpty ?? true, "pkcs11-tool wrote a private key")

            // The certificates, as the token gives them.
            let message = folder.appendingPathComponent("ordonnance.txt")
            try "Amoxicilline 1 g, 3 fois par jour pendant 7 jours".write(to: message, atomically: true, encoding: .utf8)
            var publicKeys: [String: String] = [:]
            for (name, keyID) in [("authentication", "01"), ("signature", "02")] {
                let der = folder.appendingPathComponent("\(name).der")
                let exported = try pkcs11Tool(serial, ["--read-object", "--type", "cert", "--id", keyID, "--output-file", der.path])
                #expect(exported.status == 0, "\(exported.output)")
                let pem = folder.appendingPathComponent("\(name).pem")
                #expect(try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-in", der.path, "-out", pem.path]).status == 0)
                let key = folder.appendingPathComponent("\(name)-key.pem")
                #expect(try ExternalTool.run("openssl", ["x509", "-in", pem.path, "-pubkey", "-noout", "-out", key.path]).status == 0)
                publicKeys[name] = key.path
            }

            // pkcs11-tool signs with the signature key; openssl checks it with the certificate's key.
            let signature = folder.appendingPathComponent("ordonnance.sig")
            let signed = try pkcs11Tool(serial, [
                "--login", "--pin", pin, "--sign", "--id", "02", "--mechanism", "SHA256-RSA-PKCS",
                "--input-file", message.path, "--output-file", signature.path,
            ])
            #expect(signed.status == 0, "\(signed.output)")
            let verified = try ExternalTool.run("openssl", ["dgst", "-sha256", "-verify", try #require(publicKeys["signature"]), "-signature", signature.path, message.path])
            #expect(verified.output.contains("Verified OK"), "\(verified.output)")

            // OpenSSL signs through the pkcs11 engine with the authentication key, by RFC 7512 URI.
            let engineSignature = folder.appendingPathComponent("ordonnance.engine.sig")
            var environment = SoftHSM.environment
            environment["PKCS11_MODULE_PATH"] = SoftHSM.modulePath
            let uri = "pkcs11:token=OpenCPS%20\(serial);id=%01;type=private;pin-value=\(pin)"
            let engineSigned = try ExternalTool.run(
                "openssl", ["dgst", "-sha256", "-engine", "pkcs11", "-keyform", "engine", "-sign", uri, "-out", engineSignature.path, message.path],
                environment: environment)
            #expect(engineSigned.status == 0, "\(engineSigned.output)")
            let engineVerified = try ExternalTool.run(
                "openssl", ["dgst", "-sha256", "-verify", try #require(publicKeys["authentication"]), "-signature", engineSignature.path, message.path])
            #expect(engineVerified.output.contains("Verified OK"), "\(engineVerified.output)")

            // The card's certificate validates to our root, with the CA's CRL.
            let hierarchy = TestPKIMaterial.shared.hierarchy
            let root = folder.appendingPathComponent("root.pem")
            let ca = folder.appendingPathComponent("ca.pem")
            try hierarchy.root.pem.write(to: root, atomically: true, encoding: .utf8)
            try hierarchy.fortePersonnes.ca.pem.write(to: ca, atomically: true, encoding: .utf8)
            let crl = folder.appendingPathComponent("ca.crl")
            try await app.testing().test(.GET, "/crl/forte-personnes.crl") { response in
                #expect(response.status == .ok)
                try Data(buffer: response.body).write(to: crl)
            }
            let crlPEM = folder.appendingPathComponent("ca-crl.pem")
            #expect(try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", crl.path, "-out", crlPEM.path]).status == 0)
            for name in ["authentication", "signature"] {
                let checked = try ExternalTool.run("openssl", [
                    "verify", "-crl_check", "-CAfile", root.path, "-untrusted", ca.path, "-CRLfile", crlPEM.path,
                    folder.appendingPathComponent("\(name).pem").path,
                ])
                #expect(checked.status == 0 && checked.output.contains(": OK"), "\(checked.output)")
            }
        }
    }

    @Test("three wrong PINs lock the card; opencps card unblock with the PUK sets a new PIN the token takes; the PUK's own limit leaves a dead card")
    func pinRules() async throws {
        try await withCard { _, configuration, cards, id, serial, pin in
            let holder = CardActor.holder(claire.idNat)
            let wrong = pin == "0000" ? "1111" : "0000"
            #expect(try await cards.secrets.verifyPIN(id, pin: wrong, actor: holder) == .wrong(triesLeft: 2))
            #expect(try await cards.secrets.verifyPIN(id, pin: wrong, actor: holder) == .wrong(triesLeft: 1))
            #expect(try await cards.secrets.verifyPIN(id, pin: wrong, actor: holder) == .pinBlocked)
            // Blocked: even the right PIN is refused, and no try is spent.
            #expect(try await cards.secrets.verifyPIN(id, pin: pin, actor: holder) == .pinBlocked)
            #expect(try await cards.secrets.counters(id, actor: holder) == CardSecretCounters(pinTriesLeft: 0, pukTriesLeft: 10))

            // The holder's command line, on the PKCS #11 token found by serial.
            let folder = try ExternalTool.temporaryFolder("pkcs11-pin")
            func input(_ lines: String...) throws -> String {
                let file = folder.appendingPathComponent("input-\(UUID().uuidString)")
                try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
                return file.path
            }
            let options = ["--serial", serial, "--data", configuration.dataDirectory.path, "--card-pkcs11-module", SoftHSM.modulePath]
            try await OpenCPSCommand.run(["card", "status"] + options)
            await #expect(throws: ExitCode(4)) { try await OpenCPSCommand.run(["card", "verify-pin"] + options + ["--input", try input(pin)]) }
            let puk = try puk(configuration, serial: serial)
            let wrongPUK = puk == "00000000" ? "11111111" : "00000000"
            await #expect(throws: ExitCode(3)) { try await OpenCPSCommand.run(["card", "unblock"] + options + ["--input", try input(wrongPUK, "2468")]) }
            try await OpenCPSCommand.run(["card", "unblock"] + options + ["--input", try input(puk, "2468")])
            // The token itself took the new PIN (C_InitPIN under the SO): pkcs11-tool logs in with it.
            let loggedIn = try pkcs11Tool(serial, ["--login", "--pin", "2468", "--list-objects", "--type", "privkey"])
            #expect(loggedIn.status == 0 && loggedIn.output.contains("Private Key Object"), "\(loggedIn.output)")
            #expect(try pkcs11Tool(serial, ["--login", "--pin", pin, "--list-objects"]).status != 0)
            try await OpenCPSCommand.run(["card", "sign", "--type", "prescription", try input("ordonnance"), "--input", try input("2468")] + options)
            #expect(try await cards.secrets.counters(id, actor: holder) == CardSecretCounters(pinTriesLeft: 3, pukTriesLeft: 10))

            // Ten wrong PUKs: the card is dead; nothing it holds can be used through OpenCPS any more.
            for left in (1...9).reversed() {
                #expect(try await cards.secrets.unblockPIN(id, puk: wrongPUK, newPIN: "1357", actor: holder) == .wrong(triesLeft: left))
            }
            #expect(try await cards.secrets.unblockPIN(id, puk: wrongPUK, newPIN: "1357", actor: holder) == .pukExhausted)
            #expect(try await cards.secrets.unblockPIN(id, puk: puk, newPIN: "1357", actor: holder) == .pukExhausted)
            #expect(try await cards.secrets.verifyPIN(id, pin: "2468", actor: holder) == .pukExhausted)
            await #expect(throws: ExitCode(4)) { try await OpenCPSCommand.run(["card", "verify-pin"] + options + ["--input", try input("2468")]) }
        }
    }
}
