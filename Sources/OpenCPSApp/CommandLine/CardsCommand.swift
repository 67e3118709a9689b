import ArgumentParser
import Foundation
import OpenCPSServices
import Vapor

/// `opencps cards ...`: the operator's side of the cards, on the data folder and database.
struct CardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cards",
        abstract: "Operate on the platform's cards: sweep and repair after a crash.",
        subcommands: [CardsRepairCommand.self])
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
            try await app.autoMigrate()
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
