import Crypto
import Foundation
import NIOCore
import OpenCPSApp
import OpenCPSDomain
import OpenCPSECPS
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Issue 23: an e-CPS device that approved a login gets a short-lived authentication
/// certificate of its own device key from the *Élémentaire Personnes* CA, checked by OpenSSL:
/// the chain, the profile, OCSP good then revoked when the device is revoked or the card opposed.
@Suite("e-CPS device certificates", .serialized, TestTools.needs("openssl"))
struct ECPSCertificateTests {
    static let idNat = SigningHolder.idNat

    /// A device's request for its certificate after the login `requestID`.
    static func ask(
        _ app: Application, device: ECPSTestDevice, requestID: String, at time: Date, headers: HTTPHeaders? = nil
    ) async throws -> (HTTPStatus, [String: Any]) {
        let id = device.vault.state.deviceID ?? ""
        var headers = try headers ?? device.proofHeader(time: time)
        headers.contentType = .json
        var result: (HTTPStatus, [String: Any]) = (.internalServerError, [:])
        try await app.testing().test(
            .POST, "/api/v1/ecps/devices/\(id)/certificate", headers: headers, body: ByteBuffer(string: #"{"requestId": "\#(requestID)"}"#)
        ) { response in
            result = (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
        }
        return result
    }

    /// A login request for the holder, approved on the device; its identifier.
    static func approvedLogin(_ app: Application, _ device: inout ECPSTestDevice, at time: Date, binding: String) async throws -> String {
        let request = try await ECPSLoginTests.request(app, binding: binding)
        let listed = try #require(try await device.pending(app, at: time).1.first { $0["id"] as? String == request.id })
        let (status, answer) = try await device.decide(app, listed, .approve, at: time)
        #expect(status == .ok, "\(answer)")
        return request.id
    }

    /// The chain's PEM files (root, Élémentaire Personnes) in `folder`.
    static func chain(_ app: Application, in folder: URL) async throws -> (root: URL, ca: URL) {
        let root = folder.appendingPathComponent("root.pem"), ca = folder.appendingPathComponent("elementaire.pem")
        for (path, file) in [("/pki/root.pem", root), ("/pki/elementaire-personnes.pem", ca)] {
            try await app.testing().test(.GET, path) { response in
                #expect(response.status == .ok)
                try Data(buffer: response.body).write(to: file)
            }
        }
        return (root, ca)
    }

    /// What `openssl ocsp` reads in our answer about `leaf`, the answer's signature checked.
    static func ocsp(_ app: Application, leaf: URL, chain: (root: URL, ca: URL), folder: URL) async throws -> String {
        let requestFile = folder.appendingPathComponent("request-\(UUID().uuidString).der")
        let responseFile = folder.appendingPathComponent("response-\(UUID().uuidString).der")
        let made = try ExternalTool.run("openssl", ["ocsp", "-issuer", chain.ca.path, "-cert", leaf.path, "-no_nonce", "-reqout", requestFile.path])
        #expect(made.status == 0, "\(made.output)")
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "application/ocsp-request")
        try await app.testing().test(
            .POST, "/ocsp/elementaire-personnes", headers: headers, body: ByteBuffer(data: try Data(contentsOf: requestFile))
        ) { response in
            #expect(response.status == .ok)
            try Data(buffer: response.body).write(to: responseFile)
        }
        return try ExternalTool.run(
            "openssl", ["ocsp", "-respin", responseFile.path, "-issuer", chain.ca.path, "-cert", leaf.path, "-CAfile", chain.root.path]).output
    }

    @Test("an approved login's device gets a 24-hour Élémentaire certificate of its device key: openssl verifies the chain, reads the profile, OCSP says good, then revoked with the device; the CRL lists it")
    func certificateOfTheDeviceKey() async throws {
        try await ECPSLoginTests.withDevice { app, _, clock, device in
            let folder = try ExternalTool.temporaryFolder("ecps-certificate")
            defer { try? FileManager.default.removeItem(at: folder) }
            let chain = try await Self.chain(app, in: folder)
            let login = try await Self.approvedLogin(app, &device, at: clock.now(), binding: "C3-01")
            let (status, answer) = try await Self.ask(app, device: device, requestID: login, at: clock.now())
            #expect(status == .created, "\(answer)")
            #expect(answer["issuer"] as? String == "elementaire-personnes")
            let leaf = folder.appendingPathComponent("device.pem")
            try Data((try #require(answer["pem"] as? String)).utf8).write(to: leaf)

            let verified = try ExternalTool.run(
                "openssl", ["verify", "-attime", String(Int(clock.now().timeIntervalSince1970) + 60), "-CAfile", chain.root.path, "-untrusted", chain.ca.path, leaf.path])
            #expect(verified.status == 0 && verified.output.contains("\(leaf.path): OK"), "\(verified.output)")
            let text = try ExternalTool.run("openssl", ["x509", "-in", leaf.path, "-noout", "-text", "-nameopt", "utf8,sep_comma_plus_space"]).output
            #expect(text.contains("Digital Signature"), "\(text)")
            #expect(!text.contains("Non Repudiation"))
            #expect(text.contains("TLS Web Client Authentication"))
            #expect(text.contains("CN=\(Self.idNat)"), "\(text)")
            #expect(text.contains("Issuer: ") && text.contains("Élémentaire"), "\(text)")
            // The key is the device key, not a key the server made.
            let spki = try ExternalTool.run("openssl", ["x509", "-in", leaf.path, "-noout", "-pubkey"]).output
            let devicePEM = try P256.Signing.PublicKey(derRepresentation: Base64URL.decode(try device.vault.devicePublicKey) ?? []).pemRepresentation
            #expect(spki.trimmingCharacters(in: .whitespacesAndNewlines) == devicePEM.trimmingCharacters(in: .whitespacesAndNewlines))
            // 24 hours, the default.
            let dates = try ExternalTool.run("openssl", ["x509", "-in", leaf.path, "-noout", "-startdate", "-enddate"]).output
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
            let parsed = dates.split(separator: "\n").compactMap { line in
                line.split(separator: "=", maxSplits: 1).last.flatMap { formatter.date(from: $0.replacingOccurrences(of: "  ", with: " ")) }
            }
            try #require(parsed.count == 2, "\(dates)")
            #expect(parsed[1].timeIntervalSince(parsed[0]) == 24 * 3600)

            let good = try await Self.ocsp(app, leaf: leaf, chain: chain, folder: folder)
            #expect(good.contains("Response verify OK") && good.contains("\(leaf.path): good"), "\(good)")
            // The holder revokes the device: its certificate is revoked in the same transaction.
            let id = try #require(device.vault.state.deviceID)
            try await app.testing().test(.DELETE, "/api/v1/ecps/devices/\(id)", headers: try device.proofHeader(time: clock.now())) {
                #expect($0.status == .ok)
            }
            let revoked = try await Self.ocsp(app, leaf: leaf, chain: chain, folder: folder)
            #expect(revoked.contains("Response verify OK") && revoked.contains("\(leaf.path): revoked"), "\(revoked)")
            let serial = try #require(answer["serial"] as? String).uppercased()
            var crl = Data()
            try await app.testing().test(.GET, "/crl/elementaire-personnes.crl") { crl = Data(buffer: $0.body) }
            let crlFile = folder.appendingPathComponent("elementaire.crl")
            try crl.write(to: crlFile)
            let crlText = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", crlFile.path, "-noout", "-text"]).output
            #expect(crlText.contains(serial), "\(crlText)")
        }
    }

    @Test("a request not signed by the device key, a login the device did not approve, or a second certificate for one login is refused")
    func refusals() async throws {
        try await ECPSLoginTests.withDevice { app, _, clock, device in
            let login = try await Self.approvedLogin(app, &device, at: clock.now(), binding: "C3-02")
            // A proof naming the device but signed by another key.
            let id = try #require(device.vault.state.deviceID)
            let time = Int64(clock.now().timeIntervalSince1970)
            let message = DeviceProofMessage(deviceID: id, nonce: "n0nce", time: time)
            let stranger = try P256.Signing.PrivateKey().signature(for: Data(message.bytes)).rawRepresentation
            var forged = HTTPHeaders()
            forged.replaceOrAdd(name: .authorization, value: "ECPS \(id).n0nce.\(time).\(Base64URL.encode(Array(stranger)))")
            let (forgedStatus, forgedProblem) = try await Self.ask(app, device: device, requestID: login, at: clock.now(), headers: forged)
            #expect(forgedStatus == .unauthorized)
            #expect(forgedProblem["code"] as? String == "ecps.bad-proof")
            // A login still pending (not approved by this device).
            let pending = try await ECPSLoginTests.request(app, binding: "C3-03")
            let (pendingStatus, pendingProblem) = try await Self.ask(app, device: device, requestID: pending.id, at: clock.now())
            #expect(pendingStatus == .notFound)
            #expect(pendingProblem["code"] as? String == "ecps.request-unknown")
            // Nothing was signed for the refusals: no intent was recorded.
            let intents = try await (app.db as! any SQLDatabase).raw("SELECT count(*) AS n FROM certificate_intents WHERE issuer = 'elementaire-personnes'")
                .first()?.decode(column: "n", as: Int.self)
            #expect(intents == 0)
            #expect(try await Self.ask(app, device: device, requestID: login, at: clock.now()).0 == .created)
            let (again, problem) = try await Self.ask(app, device: device, requestID: login, at: clock.now())
            #expect(again == .conflict)
            #expect(problem["code"] as? String == "ecps.certificate-issued")
            // Too long after an approval.
            let late = try await Self.approvedLogin(app, &device, at: clock.now(), binding: "C3-04")
            clock.advance(by: 601)
            #expect(try await Self.ask(app, device: device, requestID: late, at: clock.now()).1["code"] as? String == "ecps.certificate-window")
        }
    }

    @Test("the card's opposition revokes the device certificate that names it: OCSP says revoked")
    func oppositionRevokes() async throws {
        try await ECPSLoginTests.withDevice { app, api, clock, device in
            let folder = try ExternalTool.temporaryFolder("ecps-certificate-opposition")
            defer { try? FileManager.default.removeItem(at: folder) }
            let chain = try await Self.chain(app, in: folder)
            let login = try await Self.approvedLogin(app, &device, at: clock.now(), binding: "C3-05")
            let (status, answer) = try await Self.ask(app, device: device, requestID: login, at: clock.now())
            try #require(status == .created, "\(answer)")
            let leaf = folder.appendingPathComponent("device.pem")
            try Data((try #require(answer["pem"] as? String)).utf8).write(to: leaf)
            #expect(try await Self.ocsp(app, leaf: leaf, chain: chain, folder: folder).contains("\(leaf.path): good"))
            let cardID = try #require(try await api.call(.GET, "/api/v1/cards?idNat=\(Self.idNat)", as: TestActors.holder(Self.idNat)).array.first?["id"] as? String)
            try await api.act(cardID, "opposition", as: TestActors.holder(Self.idNat), json: #"{"reason": "perdue"}"#)
            let after = try await Self.ocsp(app, leaf: leaf, chain: chain, folder: folder)
            #expect(after.contains("Response verify OK") && after.contains("\(leaf.path): revoked"), "\(after)")
        }
    }
}
