import ArgumentParser
import OpenCPSDomain
import Fluent
import Foundation
import OpenCPSPersistence
import OpenCPSServices
import Vapor

/// `opencps serve`: migrates, optionally loads the demo data, and serves HTTP.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Start the server (migrating the database first).")

    @OptionGroup var options: DataOptions

    @ArgumentParser.Flag(name: .long, help: "Load the demo data set (professionals, establishments) on first start.")
    var demo = false

    @ArgumentParser.Flag(name: .long, help: "Let --demo listen on an address other machines can reach (its tokens are public).")
    var demoExposed = false

    @ArgumentParser.Flag(name: .long, help: "Let --demo load its rows into a database that holds other data.")
    var demoOnExistingData = false

    @ArgumentParser.Option(name: .long, help: "The address to listen on (env OPENCPS_HOSTNAME; default 127.0.0.1).")
    var hostname: String?

    @ArgumentParser.Option(name: .long, help: "The port to listen on (env OPENCPS_PORT; default 8080).")
    var port: Int?

    @ArgumentParser.Option(name: .long, help: "A second port that serves OCSP alone, on the same address (env OPENCPS_OCSP_PORT; default none).")
    var ocspPort: Int?

    @ArgumentParser.Option(name: .long, help: "A second port that serves certificate issuance alone (POST /api/v1/certificates), on the same address (env OPENCPS_ISSUANCE_PORT; default none).")
    var issuancePort: Int?

    @ArgumentParser.Option(name: .long, help: "The URL clients reach this server at (env OPENCPS_PUBLIC_URL; default http://<hostname>:<port>).")
    var publicURL: String?

    @ArgumentParser.Option(name: .long, help: "Make cards as tokens of this PKCS #11 module, one per card (env OPENCPS_CARD_PKCS11_MODULE; default: software tokens).")
    var cardPKCS11Module: String?

    func run() async throws {
        var configuration = try options.configuration(hostname: hostname, port: port, ocspPort: ocspPort, issuancePort: issuancePort, publicURL: publicURL, demo: demo,
            cardPKCS11Module: cardPKCS11Module)
        if configuration.demo {
            do {
                try DemoFence.checkAddress(configuration.hostname, exposed: demoExposed)
            } catch let refusal as DemoFence.Refusal {
                throw ValidationError(refusal.description)
            }
        }
        if configuration.demo, configuration.actorTokens.isEmpty {
            configuration.actorTokens = DemoCards.actorTokens
        }
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        if configuration.demo, !PKIMaterial.exists(configuration) {
            try DemoData.createPKI(configuration)
        }
        let app = try await ApplicationRunner.makeServer(configuration)
        do {
            try await app.migrateSchema()
            // A first import killed half-way leaves the registry without its search indexes.
            try await RegistrySecondaryIndexes.restore(on: app.db)
            if configuration.demo {
                do {
                    try await DemoFence.checkDatabase(app.db, existingData: demoOnExistingData)
                } catch let refusal as DemoFence.Refusal {
                    throw ValidationError(refusal.description)
                }
                let summary = try await DemoData(clock: SystemWallClock()).load(into: app.db)
                app.logger.notice("\(summary)")
                if let cards = app.cards {
                    for line in try await DemoCards.create(cards: cards, letters: configuration.letterDirectory, tokens: configuration.tokenDirectory) {
                        app.logger.notice("demo card: \(line)")
                    }
                }
                if let provider = app.oidcProvider {
                    for line in try await DemoClients.register(provider.clients) { app.logger.notice("\(line)") }
                }
                for line in try await DemoStaff.add(StaffDirectory(database: ServiceDatabase { [unowned app] in app.db }, clock: SystemWallClock())) {
                    app.logger.notice("\(line)")
                }
            }
            let base = configuration.publicBaseURL
            var lines = [
                "OpenCPS on \(base)",
                "  data:       \(configuration.dataDirectory.path)",
                "  database:   \(configuration.database)",
                "  API:        \(base)/api/v1/professionals   (OpenAPI: \(base)/api/v1/openapi.json)",
                "  FHIR:       \(base)/fhir/Practitioner",
                "  health:     \(base)/health, \(base)/ready, \(base)/metrics",
            ]
            if let ocspPort = configuration.ocspPort, app.ocspListener != nil {
                lines.append("  OCSP alone: http://\(configuration.hostname):\(ocspPort)/ocsp/<ca>")
            }
            if let issuancePort = configuration.issuancePort, app.issuanceListener != nil {
                lines.append("  issuance alone: http://\(configuration.hostname):\(issuancePort)/api/v1/certificates")
            }
            if configuration.demo {
                lines.append("  demo operator token: \(OpenCPSConfiguration.demoOperatorToken)  (Authorization: Bearer ...; every role)")
                lines.append("  demo operator tokens by role: demo-registry-operator, demo-issuance-operator, demo-security-operator")
                lines.append("  demo actor tokens:   demo-helpdesk, demo-ars-<region> (84: Lyon), demo-ordre-CNOM, demo-operator-production, demo-operator-security,")
                lines.append("                       demo-holder-<idNat>, demo-manager-<idNatStruct>  (PIN letters in \(configuration.letterDirectory.path))")
                lines.append("  demo OIDC clients:   \(DemoClients.confidentialID) / \(DemoClients.confidentialSecret) (basic), \(DemoClients.signedUserinfoID) (post, signed userinfo), \(DemoClients.publicID) (public)")
                lines.append("  OIDC discovery:      \(base)/.well-known/openid-configuration")
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            // The card maintenance (start-up sweep and repair, then hourly: reminders, overdue
            // files, expiry) runs in serve only: in-process tests drive it themselves, with their
            // own clock, and a sweep firing in the middle of a test's production run would take
            // its batch for a crashed one.
            if let cards = app.cards, let database = app.serviceDatabase {
                app.lifecycle.use(CardMaintenanceSchedule(cards: cards, database: database, sweepGrace: configuration.sweepGrace))
            }
            // Signed checkpoints of the audit log, on a schedule and at shutdown (serve only).
            app.lifecycle.use(AuditCheckpointSchedule(
                checkpoints: AuditCheckpoints(folder: configuration.auditKeyFolder, clock: SystemWallClock()),
                settings: try AuditCheckpointSettings(environment: ProcessInfo.processInfo.environment)))
            // Vapor's serve command listens on the configured address and stops on SIGINT/SIGTERM.
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
