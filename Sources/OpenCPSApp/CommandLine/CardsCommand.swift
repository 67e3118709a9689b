import ArgumentParser
import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor
import X509

/// `opencps cards ...`: the operator's side of the cards, on the data folder and database.
struct CardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cards",
        abstract: "Operate on the platform's cards: sweep and repair after a crash, hand PIN letters to the print service.",
        subcommands: [CardsRepairCommand.self, CardsLettersCommand.self])
}

/// `opencps cards repair`: what the server does at start-up and every hour, on demand.
struct CardsRepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Sweep what a crash left behind and revoke the certificates of blocked cards that are still good.",
        discussion: """
            The sweep abandons the certificate intents whose card was never recorded (their certificates are revoked, \
            on the CRLs) and removes the token, lock and PIN letter files whose card the database does not know, and \
            every .pending- file; then every certificate of an opposed, revoked, superseded or expired card that is still \
            good is revoked, and those of a suspended card held. Everything is audited. Intents and files younger than \
            --grace seconds are left alone (env OPENCPS_SWEEP_GRACE_SECONDS; default 300): they may be a card being made.
            """)

    @OptionGroup var options: DataOptions

    @ArgumentParser.Option(name: .long, help: "Leave intents and files younger than this many seconds (default OPENCPS_SWEEP_GRACE_SECONDS, else 300).")
    var grace: Int?

    func run() async throws {
        var configuration = try options.configuration(defaultLogLevel: "warning")
        if let grace {
            guard grace >= 0 else { throw ValidationError("--grace must be 0 or more seconds") }
            configuration.sweepGrace = TimeInterval(grace)
        }
        let app = try await ApplicationRunner.makeServer(configuration)
        do {
            try await app.migrateSchema()
            guard let cards = app.cards else {
                throw ValidationError("no PKI in \(configuration.dataDirectory.path): nothing to repair")
            }
            let sweep = try await cards.repair.sweep(grace: configuration.sweepGrace)
            let repaired = try await cards.repair.repairBlockedCards()
            for certificate in sweep.abandonedCertificates { print("abandoned certificate \(certificate)") }
            for file in sweep.removedFiles { print("removed \(file)") }
            for item in repaired { print("revoked \(item.certificate) (\(item.reason)) of \(item.cardState) card \(item.cardID)") }
            print("\(sweep.abandonedCertificates.count) certificates abandoned, \(sweep.removedFiles.count) files removed, \(repaired.count) certificates of blocked cards revoked")
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

/// `opencps cards letters ...`.
struct CardsLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "letters", abstract: "Hand PIN letters to the print service.", subcommands: [CardsLettersExportCommand.self])
}

/// `opencps cards letters export`: the waiting PIN letters, enveloped to the print service.
struct CardsLettersExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the waiting PIN letters once, encrypted to the print service's certificate, and remove them.",
        discussion: """
            Writes OUT (DER CMS EnvelopedData: AES-256-CBC content, its key encrypted with RSA-OAEP SHA-256 to the \
            certificate given; the print service runs `openssl cms -decrypt -inform DER -in OUT -inkey KEY -recip CERT`). \
            The content is the letters one after the other, each after a line `--- <file name> ---`. The letters are \
            then removed from <data>/letters and each export is audited (card.pin-letter-export). OUT must not exist.
            """)

    @OptionGroup var options: DataOptions

    @ArgumentParser.Option(name: .long, help: "The print service's certificate (PEM, RSA key of 2048 bits or more).")
    var recipient: String

    @ArgumentParser.Option(name: .long, help: "The file to write (must not exist).")
    var out: String

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        guard let pem = try? String(contentsOfFile: recipient, encoding: .utf8), let certificate = try? Certificate(pemEncoded: pem) else {
            throw ValidationError("\(recipient) is not a PEM certificate")
        }
        guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) exists: give a new file") }
        let app = try await ApplicationRunner.makeServer(configuration)
        do {
            try await app.migrateSchema()
            guard let cards = app.cards else { throw ValidationError("no PKI in \(configuration.dataDirectory.path): no cards") }
            let serials = try await cards.letters.export(to: certificate, writingTo: URL(fileURLWithPath: out), actor: "operator:cli")
            print(serials.isEmpty ? "no PIN letter waiting: nothing written" : "\(serials.count) PIN letters exported to \(out) and removed")
            try await app.asyncShutdown()
        } catch let error as any DomainError {
            try? await app.asyncShutdown()
            throw ValidationError("\(error.code): \(error.reason)")
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
