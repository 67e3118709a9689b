import Foundation
import NIOCore
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// The actors of the card tests, each with its token.
enum TestActors {
    static let cnom = "t-ordre-cnom-0123456789"
    /// The agency of Auvergne-Rhône-Alpes, where the demo's Lyon centre is.
    static let ars = "t-ars-0123456789abcdef"
    /// The agency of another region (Bretagne).
    static let otherArs = "t-ars-other-0123456789"
    static let manager = "t-manager-0123456789ab"
    static let otherManager = "t-manager-other-012345"
    static let helpDesk = "t-helpdesk-0123456789a"
    static let production = "t-production-01234567"
    static let security = "t-security-0123456789"

    static func holder(_ idNat: String) -> String { "t-holder-\(idNat)" }

    /// Every token, for the configuration.
    static func tokens(holders: [String]) -> [String: CardActor] {
        var tokens: [String: CardActor] = [
            cnom: .ordre(.cnom), ars: .agenceRegionale(.auvergneRhoneAlpes), otherArs: .agenceRegionale(.bretagne),
            manager: .establishmentManager(DemoData.establishments[0].identifier),
            otherManager: .establishmentManager(DemoData.establishments[2].identifier),
            helpDesk: .helpDesk, production: .agencyOperator(.production), security: .agencyOperator(.security),
        ]
        for idNat in holders { tokens[holder(idNat)] = .holder(try! IdNat(idNat)) }
        return tokens
    }
}

/// Calls the card API as a given actor, and reads what the tests check.
struct CardAPI {
    let app: Application
    let configuration: OpenCPSConfiguration

    struct Reply {
        var status: HTTPStatus
        var json: [String: Any]
        var array: [[String: Any]]
    }

    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, as token: String, json: String? = nil) async throws -> Reply {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        if json != nil { headers.contentType = .json }
        var reply = Reply(status: .internalServerError, json: [:], array: [])
        try await app.testing().test(method, path, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            reply.status = response.status
            let object = try? JSONSerialization.jsonObject(with: Data(buffer: response.body))
            reply.json = object as? [String: Any] ?? [:]
            reply.array = object as? [[String: Any]] ?? []
        }
        return reply
    }

    /// POSTs an action and expects `status`; returns the body.
    @discardableResult
    func act(_ id: String, _ action: String, as token: String, json: String = "{}", expect status: HTTPStatus = .ok,
             sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let reply = try await call(.POST, "/api/v1/cards/\(id)/\(action)", as: token, json: json)
        #expect(reply.status == status, "\(action): \(reply.json)", sourceLocation: sourceLocation)
        return reply.json
    }

    func file(_ id: String, as token: String) async throws -> [String: Any] {
        try await call(.GET, "/api/v1/cards/\(id)", as: token).json
    }

    func state(_ id: String) async throws -> String {
        try await (file(id, as: TestActors.helpDesk)["card"] as? [String: Any])?["state"] as? String ?? "?"
    }

    /// Uploads every missing document as a small PDF.
    func uploadMissingDocuments(_ id: String, as token: String) async throws {
        let missing = try await file(id, as: token)["missingDocuments"] as? [String] ?? []
        for kind in missing {
            try await upload(id, kind: kind, as: token)
        }
    }

    @discardableResult
    func upload(_ id: String, kind: String, as token: String, mediaType: String = "application/pdf",
                content: String = "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n") async throws -> HTTPStatus {
        let boundary = "opencps-test-boundary"
        var body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n\(kind)\r\n"
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(kind).pdf\"\r\nContent-Type: \(mediaType)\r\n\r\n\(content)\r\n"
        body += "--\(boundary)--\r\n"
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        var status = HTTPStatus.internalServerError
        try await app.testing().test(.POST, "/api/v1/cards/\(id)/documents", headers: headers, body: ByteBuffer(string: body)) {
            status = $0.status
        }
        return status
    }

    /// Posts a raw multipart body to a card's documents: the status and the problem's code.
    func postDocumentBody(_ id: String, _ body: [UInt8], boundary: String, as token: String) async throws -> (status: HTTPStatus, code: String?) {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        var result: (HTTPStatus, String?) = (.internalServerError, nil)
        try await app.testing().test(.POST, "/api/v1/cards/\(id)/documents", headers: headers, body: ByteBuffer(bytes: body)) { response in
            let problem = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
            result = (response.status, problem?["code"] as? String)
        }
        return result
    }

    /// The PIN and PUK of a card, from its PIN letter.
    func letter(serial: String) throws -> (pin: String, puk: String) {
        let text = try String(contentsOf: configuration.letterDirectory.appendingPathComponent("\(serial)-lettre-code-porteur.txt"), encoding: .utf8)
        func value(_ label: String) -> String {
            text.split(separator: "\n").first { $0.hasPrefix(label) }.map { String($0.dropFirst(label.count)).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        return (value("Code porteur :"), value("Code de déblocage :"))
    }

    /// Manufactures, delivers and activates a validated card; returns its serial.
    @discardableResult
    func makeActive(_ id: String, holder: String) async throws -> String {
        let made = try await act(id, "manufacture", as: TestActors.production)
        let serial = try #require(made["serial"] as? String)
        #expect(made["state"] as? String == "shipped")
        try await act(id, "delivery", as: TestActors.production)
        let (pin, _) = try letter(serial: serial)
        let active = try await act(id, "activation", as: holder, json: #"{"pin": "\#(pin)"}"#)
        #expect(active["state"] as? String == "active")
        return serial
    }

    /// The OCSP status of a certificate, as `openssl ocsp` reads our response.
    func ocspStatus(serialHex: String) async throws -> String {
        let ca = TestPKIMaterial.shared.hierarchy.fortePersonnes.ca.certificate
        let request = try OCSPRequestBytes.make(issuer: ca, serialHex: serialHex)
        var der = Data()
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "application/ocsp-request")
        try await app.testing().test(.POST, "/ocsp/forte-personnes", headers: headers, body: ByteBuffer(bytes: request)) {
            der = Data(buffer: $0.body)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ocsp-\(UUID().uuidString).der")
        try der.write(to: file)
        let text = try ExternalTool.run("openssl", ["ocsp", "-respin", file.path, "-resp_text", "-noverify"]).output
        return text.split(separator: "\n").first { $0.contains("Cert Status:") }.map { String($0.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces) } ?? text
    }
}
