import ArgumentParser
import Fluent
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSTokens
import SQLKit
import Vapor
import X509

/// One kill of ``BenchCrashCommand``: SIGKILL, a copy of what the dead server left in its token
/// folder, a restart, and the checks.
struct CrashCheck {
    let server: CrashServer
    let data: URL
    let databaseURL: String
    let executable: URL

    /// What one kill found.
    struct Outcome {
        var failures: [String] = []
        var signedCertificates = 0
        var abandonedCertificates = 0
        var removedFiles = 0
        var cardsInService = 0
        var opposedCards = 0
    }

    /// A token file left by the dead server, and the certificates it holds.
    private struct LeftToken {
        var name: String
        var serials: [String]
    }

    var tokens: URL { data.appendingPathComponent("tokens") }
    var letters: URL { data.appendingPathComponent("letters") }

    func killRestartAndCheck(scenario: String, round: Int) async throws -> Outcome {
        server.kill()
        let left = try snapshotTokens()
        let filesBefore = Set(names(in: tokens) + names(in: letters))
        try await server.start()
        var outcome = Outcome()
        let label = "\(scenario) kill \(round + 1)"
        func fail(_ text: String) { outcome.failures.append("\(label): \(text)") }

        let filesAfter = names(in: tokens) + names(in: letters)
        outcome.removedFiles = filesBefore.subtracting(filesAfter).count
        let state = try await readDatabase()
        outcome.cardsInService = state.cardSerials.count
        outcome.opposedCards = state.opposed.count
        for name in filesAfter where name.hasPrefix(".pending-") {
            fail("\(name) survived the start-up sweep")
        }
        for name in filesAfter {
            let bare = name.hasPrefix(".") ? String(name.dropFirst()) : name
            let serial = String(bare.prefix { $0.isNumber })
            if serial.count == 10, !state.cardSerials.contains(serial) {
                fail("\(name) belongs to no card the database knows and survived the start-up sweep")
            }
        }

        let ca = try await issuingCA()
        for token in left {
            for serial in token.serials {
                outcome.signedCertificates += 1
                if state.certificates.contains(serial) { continue }
                guard let abandoned = state.intents[serial] else {
                    fail("certificate \(serial) of \(token.name) was signed but the database does not know it")
                    continue
                }
                guard abandoned else {
                    fail("certificate \(serial) of \(token.name) has a card never recorded but its intent was not abandoned")
                    continue
                }
                outcome.abandonedCertificates += 1
                if try await ocspStatus(serial, issuer: ca) != "revoked" {
                    fail("certificate \(serial) of \(token.name), whose card was never recorded, is not revoked on OCSP")
                }
            }
        }
        let crl = try await crlSerials()
        for (card, serials) in state.opposed {
            for serial in serials {
                if try await ocspStatus(serial, issuer: ca) != "revoked" { fail("opposed card \(card): certificate \(serial) not revoked on OCSP") }
                if !crl.contains(serial) { fail("opposed card \(card): certificate \(serial) not on the CRL") }
            }
        }
        let audit = Process()
        audit.executableURL = executable
        audit.arguments = ["audit", "verify", "--data", data.path, "--database", databaseURL]
        audit.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
        audit.standardOutput = FileHandle.nullDevice
        audit.standardError = FileHandle.nullDevice
        try audit.run()
        audit.waitUntilExit()
        if audit.terminationStatus != 0 { fail("opencps audit verify exited with \(audit.terminationStatus)") }
        return outcome
    }

    private func names(in folder: URL) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    }

    /// Copies the token folder (opening a token makes a lock file beside it: never in the
    /// server's folder) and reads every token's certificates. A token cut short by the kill
    /// cannot be read: its certificates were signed after their intents, which the checks
    /// of the database cover.
    private func snapshotTokens() throws -> [LeftToken] {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-crash-tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy) }
        var left: [LeftToken] = []
        for name in names(in: tokens) where name.hasSuffix(".token") {
            let target = copy.appendingPathComponent(name.replacingOccurrences(of: ".pending-", with: "pending-"))
            guard (try? FileManager.default.copyItem(at: tokens.appendingPathComponent(name), to: target)) != nil,
                  let token = try? SoftwareToken.open(target) else { continue }
            let serials = CardKeyRole.allCases.compactMap { role in
                (try? Certificate(pemEncoded: token.certificatePEM(role)))?.serialNumber.hex
            }
            left.append(LeftToken(name: name, serials: serials))
        }
        return left
    }

    /// What the database holds, read while the restarted server runs.
    private struct DatabaseState {
        var cardSerials: Set<String> = []
        var certificates: Set<String> = []
        /// Intent serial → abandoned.
        var intents: [String: Bool] = [:]
        /// Opposed card id → its certificate serials.
        var opposed: [String: [String]] = [:]
    }

    private func readDatabase() async throws -> DatabaseState {
        let location = try DatabaseLocation(url: databaseURL)
        return try await ApplicationRunner.withDatabase(
            OpenCPSConfiguration(dataDirectory: data, database: location, logLevel: .warning), migrate: false
        ) { app in
            let sql = app.db as! any SQLDatabase
            var state = DatabaseState()
            for row in try await sql.raw("SELECT id, state, serial, authentication_certificate, signature_certificate FROM cards WHERE serial IS NOT NULL").all() {
                state.cardSerials.insert(try row.decode(column: "serial", as: String.self))
                if try row.decode(column: "state", as: String.self) == "opposed" {
                    state.opposed[try row.decode(column: "id", as: String.self)] = [
                        try row.decode(column: "authentication_certificate", as: String?.self),
                        try row.decode(column: "signature_certificate", as: String?.self),
                    ].compactMap { $0 }
                }
            }
            for row in try await sql.raw("SELECT serial FROM certificates").all() {
                state.certificates.insert(try row.decode(column: "serial", as: String.self))
            }
            for row in try await sql.raw("SELECT serial, abandoned_at FROM certificate_intents").all() {
                state.intents[try row.decode(column: "serial", as: String.self)] = try !row.decodeNil(column: "abandoned_at")
            }
            return state
        }
    }

    private func issuingCA() async throws -> Certificate {
        let (status, body) = try await server.http.send("GET", "/pki/forte-personnes.crt", token: nil, body: nil)
        guard status == 200 else { throw ValidationError("GET /pki/forte-personnes.crt answered \(status)") }
        return try Certificate(derEncoded: Array(body))
    }

    /// `good`, `revoked`, `unknown`, or what went wrong.
    private func ocspStatus(_ serialHex: String, issuer: Certificate) async throws -> String {
        guard let serial = Certificate.SerialNumber(hex: serialHex) else { return "bad serial" }
        let request = try OCSPRequest(certIDs: [OCSPCertID(issuer: issuer, serialNumber: serial)]).derEncoded()
        let (status, body) = try await server.http.send(
            "POST", "/ocsp/forte-personnes", token: nil, body: Data(request), contentType: "application/ocsp-request")
        guard status == 200, let response = try? OCSPResponse(derEncoded: Array(body)), let single = response.basic?.responses.first else {
            return "no answer (\(status))"
        }
        switch single.status {
        case .good: return "good"
        case .revoked: return "revoked"
        case .unknown: return "unknown"
        }
    }

    private func crlSerials() async throws -> Set<String> {
        let (status, body) = try await server.http.send("GET", "/crl/forte-personnes.crl", token: nil, body: nil)
        guard status == 200 else { throw ValidationError("GET /crl/forte-personnes.crl answered \(status)") }
        return Set(try CertificateRevocationList(derEncoded: Array(body)).entries.map(\.serialNumber.hex))
    }
}
