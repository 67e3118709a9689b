import OpenCPSDomain
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSApp
import OpenCPSHTTP
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Testing
import Vapor

/// The PKI over real HTTP, checked by OpenSSL: certificates issued through the API, OCSP
/// answers before and right after a revocation, CRLs and delta CRLs with `openssl verify`,
/// and bad requests that get the right OCSP status or HTTP error.
@Suite("PKI endpoints", .serialized, TestTools.needs("openssl"))
struct PKIEndpointTests {
    /// Where OCSP is asked: the main server, or the dedicated listener (``OCSPListener``).
    enum OCSPEndpoint: String, CaseIterable, CustomTestStringConvertible {
        case mainServer, dedicatedListener
        var testDescription: String { rawValue }
    }

    /// Where certificates are issued: the main server, or the dedicated listener (``IssuanceListener``).
    enum IssuanceEndpoint: String, CaseIterable, CustomTestStringConvertible {
        case mainServer, dedicatedListener
        var testDescription: String { rawValue }
    }

    /// The base URL issuance is asked at: the main server's, or the issuance listener's once
    /// started; `body` runs, then the listener stops.
    func withIssuance(_ endpoint: IssuanceEndpoint, app: Application, base: String, _ body: (String) async throws -> Void) async throws {
        guard endpoint == .dedicatedListener else { return try await body(base) }
        let listener = try #require(app.issuanceListener)
        let port = try await listener.start(host: "127.0.0.1", port: 0)
        do {
            try await body("http://127.0.0.1:\(port)")
        } catch {
            try await listener.stop()
            throw error
        }
        try await listener.stop()
    }

    /// Runs `body` with a server listening on 127.0.0.1 at a free port, and the base URL of
    /// the OCSP endpoint asked for (the same server, or the OCSP listener at a port of its own).
    func withServer(ocsp: OCSPEndpoint = .mainServer, _ body: (Application, String, String, URL) async throws -> Void) async throws {
        try await withTestApp(clock: SystemWallClock(), pki: TestPKIMaterial.shared) { app in
            // Issuance names a professional the registry knows (Dr Claire Lambert, TestIssuance's holder).
            _ = try await DemoData(clock: SystemWallClock()).load(into: app.db)
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            let base = "http://127.0.0.1:\(port)"
            let listener = try #require(app.ocspListener)
            let ocspBase = ocsp == .mainServer ? base : "http://127.0.0.1:\(try await listener.start(host: "127.0.0.1", port: 0))"
            let folder = try ExternalTool.temporaryFolder("pki-http")
            do {
                try await body(app, base, ocspBase, folder)
            } catch {
                try await listener.stop()
                await app.server.shutdown()
                throw error
            }
            try await listener.stop()
            await app.server.shutdown()
        }
    }

    func fetch(_ url: String, method: String = "GET", headers: [String: String] = [:], body: Data? = nil) async throws -> (Int, Data, [AnyHashable: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, data, http.allHeaderFields)
    }

    /// Issues a certificate for a fresh OpenSSL key through the API; returns its serial and PEM file.
    func issue(_ base: String, folder: URL, name: String, profile: String = "authentication") async throws -> (serial: String, file: URL) {
        let csr = try TestIssuance.csr(in: folder, name: name, newKey: ["rsa:2048"])
        let body = TestIssuance.fields(csr: csr, profile: profile)
        let (status, data, _) = try await fetch(
            "\(base)/api/v1/certificates", method: "POST",
            headers: ["Authorization": "Bearer \(testOperatorToken)", "Content-Type": "application/json"],
            body: try JSONSerialization.data(withJSONObject: body))
        #expect(status == 201, "\(String(decoding: data, as: UTF8.self))")
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let file = folder.appendingPathComponent("\(name).pem")
        try (json["pem"] as? String ?? "").write(to: file, atomically: true, encoding: .utf8)
        return (try #require(json["serial"] as? String), file)
    }

    func operatorPost(_ url: String, _ json: String) async throws -> Int {
        try await fetch(url, method: "POST", headers: ["Authorization": "Bearer \(testOperatorToken)", "Content-Type": "application/json"], body: Data(json.utf8)).0
    }

    func download(_ url: String, to file: URL) async throws {
        let (status, data, _) = try await fetch(url)
        #expect(status == 200, "\(url)")
        try data.write(to: file)
    }

    @Test("openssl ocsp says good, then revoked right after a revocation through the API; openssl verify agrees with the CRLs",
          arguments: OCSPEndpoint.allCases)
    func revocationReachesOCSPAndCRLs(ocsp endpoint: OCSPEndpoint) async throws {
        try await withServer(ocsp: endpoint) { _, base, ocspBase, folder in
            let root = folder.appendingPathComponent("root.pem")
            let ca = folder.appendingPathComponent("ca.pem")
            try await download("\(base)/pki/root.pem", to: root)
            try await download("\(base)/pki/forte-personnes.pem", to: ca)
            let leaf = try await issue(base, folder: folder, name: "leaf")
            let ocspURL = "\(ocspBase)/ocsp/forte-personnes"
            func ocsp(_ extra: [String] = []) throws -> String {
                let result = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", leaf.file.path, "-url", ocspURL, "-CAfile", root.path] + extra)
                return result.output
            }
            let before = try ocsp()
            #expect(before.contains("Response verify OK"), "\(before)")
            #expect(before.contains("\(leaf.file.path): good"), "\(before)")
            // The same question by GET (RFC 5019): openssl writes the request, the path carries it.
            let requestFile = folder.appendingPathComponent("request.der")
            _ = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", leaf.file.path, "-no_nonce", "-reqout", requestFile.path])
            let encoded = try #require(try Data(contentsOf: requestFile).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            func ocspGET() async throws -> String {
                let (status, body, headers) = try await fetch("\(ocspURL)/\(encoded)")
                #expect(status == 200)
                // RFC 5019 §6.2: cacheable until before nextUpdate, with Last-Modified and Expires
                // (IMF-fixdate, read back here with an independent formatter) one validity apart.
                let httpDate = DateFormatter()
                httpDate.locale = Locale(identifier: "en_US_POSIX")
                httpDate.timeZone = TimeZone(identifier: "GMT")
                httpDate.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
                let lastModified = try #require((headers["Last-Modified"] as? String).flatMap(httpDate.date(from:)), "\(headers)")
                let expires = try #require((headers["Expires"] as? String).flatMap(httpDate.date(from:)), "\(headers)")
                #expect(expires.timeIntervalSince(lastModified) == RevocationPublishing().ocspValidity)
                #expect(abs(lastModified.timeIntervalSinceNow) < 600)
                #expect((headers["Cache-Control"] as? String)?.hasPrefix("max-age=") == true, "\(headers)")
                #expect((headers["Cache-Control"] as? String)?.contains("public") == true, "\(headers)")
                #expect((headers["Etag"] as? String ?? headers["ETag"] as? String) != nil, "\(headers)")
                let responseFile = folder.appendingPathComponent("response.der")
                try body.write(to: responseFile)
                return try ExternalTool.run("openssl", ["ocsp", "-respin", responseFile.path, "-issuer", ca.path, "-cert", leaf.file.path, "-CAfile", root.path]).output
            }
            // Without nonce, a question asked again (POST or GET) is answered from the kept
            // answers, before routing and middleware.
            for _ in 0..<2 {
                #expect(try ocsp(["-no_nonce"]).contains("\(leaf.file.path): good"))
                let byGET = try await ocspGET()
                #expect(byGET.contains("\(leaf.file.path): good"), "\(byGET)")
            }
            let metrics = String(decoding: try await fetch("\(base)/metrics").1, as: UTF8.self)
            func kept(_ method: String) -> Double {
                let prefix = "opencps_ocsp_kept_answers_total{method=\"\(method)\"} "
                return metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) } ?? 0
            }
            #expect(kept("POST") >= 1 && kept("GET") >= 1, "\(metrics)")
            // Clients hold a base CRL from before the revocation; the delta lists what changed since.
            try await download("\(base)/crl/forte-personnes.crl", to: folder.appendingPathComponent("base.crl"))

            #expect(try await operatorPost("\(base)/api/v1/certificates/forte-personnes/\(leaf.serial)/revocation", #"{"reason": "keyCompromise"}"#) == 200)
            let after = try ocsp(["-no_nonce"])
            #expect(after.contains("\(leaf.file.path): revoked"), "\(after)")
            #expect(after.contains("Reason: keyCompromise"), "\(after)")
            let afterGET = try await ocspGET()
            #expect(afterGET.contains("\(leaf.file.path): revoked"), "\(afterGET)")

            let full = folder.appendingPathComponent("full.crl")
            let delta = folder.appendingPathComponent("delta.crl")
            let rootCRL = folder.appendingPathComponent("root.crl")
            try await download("\(base)/crl/forte-personnes.crl", to: full)
            try await download("\(base)/crl/forte-personnes-delta.crl", to: delta)
            try await download("\(base)/crl/root.crl", to: rootCRL)
            let fullPEM = folder.appendingPathComponent("full-crl.pem")
            let deltaPEM = folder.appendingPathComponent("delta-crl.pem")
            let rootPEM = folder.appendingPathComponent("root-crl.pem")
            for (der, pem) in [(full, fullPEM), (delta, deltaPEM), (rootCRL, rootPEM)] {
                let converted = try ExternalTool.run("openssl", ["crl", "-inform", "DER", "-in", der.path, "-out", pem.path])
                #expect(converted.status == 0, "\(converted.output)")
            }
            let checked = try ExternalTool.run("openssl", ["verify", "-crl_check", "-CAfile", root.path, "-untrusted", ca.path, "-CRLfile", fullPEM.path, leaf.file.path])
            #expect(checked.output.contains("certificate revoked"), "\(checked.output)")
            let checkedAll = try ExternalTool.run("openssl", ["verify", "-crl_check_all", "-extended_crl", "-use_deltas", "-CAfile", root.path, "-untrusted", ca.path,
                                                              "-CRLfile", fullPEM.path, "-CRLfile", deltaPEM.path, "-CRLfile", rootPEM.path, leaf.file.path])
            #expect(checkedAll.output.contains("certificate revoked"), "\(checkedAll.output)")
            let deltaText = try ExternalTool.run("openssl", ["crl", "-in", deltaPEM.path, "-noout", "-text"]).output
            #expect(deltaText.contains("Delta CRL Indicator"), "\(deltaText)")
            let printedSerial = String(leaf.serial.uppercased().drop { $0 == "0" })
            #expect(deltaText.uppercased().contains(printedSerial), "\(leaf.serial) in \(deltaText)")
            #expect(deltaText.contains("Key Compromise"), "\(deltaText)")

            let good = try await issue(base, folder: folder, name: "good", profile: "signature")
            let goodChecked = try ExternalTool.run("openssl", ["verify", "-crl_check_all", "-extended_crl", "-use_deltas", "-CAfile", root.path, "-untrusted", ca.path,
                                                               "-CRLfile", fullPEM.path, "-CRLfile", deltaPEM.path, "-CRLfile", rootPEM.path, good.file.path])
            #expect(goodChecked.output.contains("\(good.file.path): OK"), "\(goodChecked.output)")
            let cacheHeaders = try await fetch("\(base)/crl/forte-personnes.crl").2
            #expect((cacheHeaders["Cache-Control"] as? String)?.contains("max-age=") == true)
        }
    }

    @Test("the issuance API reads JSON whatever the case and parameters of its media type, and answers bad bodies with a problem",
          arguments: IssuanceEndpoint.allCases)
    func issuanceBodies(issuance endpoint: IssuanceEndpoint) async throws {
        try await withServer { app, mainBase, _, folder in try await withIssuance(endpoint, app: app, base: mainBase) { base in
            let csr = try TestIssuance.csr(in: folder, name: "bodies", newKey: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
            let fields = TestIssuance.fields(csr: csr, profile: "signature", cardSerialNumber: "1000000002")
            let body = try JSONSerialization.data(withJSONObject: fields)
            func post(_ contentType: String?, _ data: Data?) async throws -> (Int, [String: Any], [AnyHashable: Any]) {
                var headers = ["Authorization": "Bearer \(testOperatorToken)"]
                headers["Content-Type"] = contentType
                let (status, answer, responseHeaders) = try await fetch("\(base)/api/v1/certificates", method: "POST", headers: headers, body: data)
                return (status, (try? JSONSerialization.jsonObject(with: answer) as? [String: Any]) ?? [:], responseHeaders)
            }
            for contentType in ["application/json", "Application/JSON; charset=UTF-8", " application/json\t;charset=utf-8"] {
                let (status, answer, headers) = try await post(contentType, body)
                #expect(status == 201, "\(contentType): \(answer)")
                #expect((headers["Content-Type"] as? String)?.hasPrefix("application/json") == true)
                let serial = try #require(answer["serial"] as? String)
                #expect(headers["Location"] as? String == "/api/v1/certificates/forte-personnes/\(serial)")
                #expect((answer["subject"] as? String)?.contains("CN=810099990011") == true)
                #expect(answer["notBefore"] is String && answer["status"] as? String == "good")
            }
            let malformed = try await post("application/json", Data(#"{"profile": "signature", "csr": "#.utf8))
            #expect(malformed.0 == 400 && malformed.1["code"] as? String == "request.malformed-body", "\(malformed.1)")
            let missingField = try await post("application/json", Data(#"{"profile": "signature"}"#.utf8))
            #expect(missingField.0 == 400 && missingField.1["code"] as? String == "request.malformed-body", "\(missingField.1)")
            #expect(missingField.1["detail"] as? String == "csr is required", "\(missingField.1)")
            var wrongType = fields
            wrongType["givenName"] = 3
            let mistyped = try await post("application/json", try JSONSerialization.data(withJSONObject: wrongType))
            #expect(mistyped.0 == 400 && mistyped.1["detail"] as? String == "givenName must be a string", "\(mistyped.1)")
            wrongType = fields
            wrongType["validityYears"] = 2.5
            let fraction = try await post("application/json", try JSONSerialization.data(withJSONObject: wrongType))
            #expect(fraction.0 == 400 && (fraction.1["detail"] as? String)?.hasPrefix("validityYears") == true, "\(fraction.1)")
            #expect(try await post("application/json", nil).0 == 422)
            for contentType in ["text/plain", "application/jsonx", "application/x-www-form-urlencoded", nil] {
                let refused = try await post(contentType, body)
                #expect(refused.0 == 415 && refused.1["code"] as? String == "http.415", "\(contentType ?? "none"): \(refused)")
            }
            var badCSR = fields
            badCSR["csr"] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
            let refused = try await post("application/json", try JSONSerialization.data(withJSONObject: badCSR))
            #expect(refused.0 == 422, "\(refused.1)")
            #expect("\(refused.1)".contains("csr"), "\(refused.1)")
        } }
    }

    @Test("a hold shows as certificateHold on OCSP and its release makes the certificate good again; several certificates in one request",
          arguments: OCSPEndpoint.allCases)
    func holdAndRelease(ocsp endpoint: OCSPEndpoint) async throws {
        try await withServer(ocsp: endpoint) { _, base, ocspBase, folder in
            let root = folder.appendingPathComponent("root.pem")
            let ca = folder.appendingPathComponent("ca.pem")
            try await download("\(base)/pki/root.pem", to: root)
            try await download("\(base)/pki/forte-personnes.pem", to: ca)
            let first = try await issue(base, folder: folder, name: "first")
            let second = try await issue(base, folder: folder, name: "second")
            let certificates = "/api/v1/certificates/forte-personnes"
            #expect(try await operatorPost("\(base)\(certificates)/\(first.serial)/hold", #"{"reason": "certificateHold", "detail": "suspected misuse"}"#) == 200)
            let held = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", first.file.path, "-cert", second.file.path,
                                                        "-url", "\(ocspBase)/ocsp/forte-personnes", "-CAfile", root.path]).output
            #expect(held.contains("\(first.file.path): revoked"), "\(held)")
            #expect(held.contains("certificateHold"), "\(held)")
            #expect(held.contains("\(second.file.path): good"), "\(held)")
            #expect(try await operatorPost("\(base)\(certificates)/\(first.serial)/release", "{}") == 200)
            let released = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", first.file.path,
                                                            "-url", "\(ocspBase)/ocsp/forte-personnes", "-CAfile", root.path]).output
            #expect(released.contains("\(first.file.path): good"), "\(released)")
            // Refusals: releasing twice, revoking a revoked certificate, an unknown serial, a bad reason.
            #expect(try await operatorPost("\(base)\(certificates)/\(first.serial)/release", "{}") == 422)
            #expect(try await operatorPost("\(base)\(certificates)/\(second.serial)/revocation", #"{"reason": "superseded"}"#) == 200)
            #expect(try await operatorPost("\(base)\(certificates)/\(second.serial)/revocation", #"{"reason": "superseded"}"#) == 409)
            #expect(try await operatorPost("\(base)\(certificates)/0abc/revocation", #"{"reason": "superseded"}"#) == 404)
            #expect(try await operatorPost("\(base)\(certificates)/\(first.serial)/revocation", #"{"reason": "because"}"#) == 422)
        }
    }

    @Test("garbage, truncated DER, wrong content type, oversized bodies and foreign CAs get the right answer, and the server keeps serving",
          arguments: OCSPEndpoint.allCases)
    func badRequests(ocsp endpoint: OCSPEndpoint) async throws {
        try await withServer(ocsp: endpoint) { _, base, ocspBase, folder in
            let ocspURL = "\(ocspBase)/ocsp/forte-personnes"
            let ocspHeaders = ["Content-Type": "application/ocsp-request"]
            func responseStatus(_ data: Data) throws -> String {
                let file = folder.appendingPathComponent("response-\(UUID().uuidString).der")
                try data.write(to: file)
                return try ExternalTool.run("openssl", ["ocsp", "-respin", file.path, "-resp_text", "-noverify"]).output
            }
            var random = SystemRandomNumberGenerator()
            let garbage = Data((0..<300).map { _ in UInt8.random(in: 0...255, using: &random) })
            let (garbageStatus, garbageBody, _) = try await fetch(ocspURL, method: "POST", headers: ocspHeaders, body: garbage)
            #expect(garbageStatus == 200)
            #expect(try responseStatus(garbageBody).contains("malformedrequest"))

            // A real request cut short.
            let root = folder.appendingPathComponent("root.pem")
            let ca = folder.appendingPathComponent("ca.pem")
            try await download("\(base)/pki/root.pem", to: root)
            try await download("\(base)/pki/forte-personnes.pem", to: ca)
            let leaf = try await issue(base, folder: folder, name: "leaf")
            let requestFile = folder.appendingPathComponent("request.der")
            _ = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", leaf.file.path, "-reqout", requestFile.path])
            let request = try Data(contentsOf: requestFile)
            let (_, truncatedBody, _) = try await fetch(ocspURL, method: "POST", headers: ocspHeaders, body: request.prefix(request.count - 7))
            #expect(try responseStatus(truncatedBody).contains("malformedrequest"))

            // A certificate of the other CA sent to this one.
            let (_, foreignBody, _) = try await fetch("\(ocspBase)/ocsp/elementaire-personnes", method: "POST", headers: ocspHeaders, body: request)
            #expect(try responseStatus(foreignBody).contains("unauthorized"))

            let (wrongType, wrongTypeBody, _) = try await fetch(ocspURL, method: "POST", headers: ["Content-Type": "text/plain"], body: request)
            #expect(wrongType == 415)
            #expect(String(decoding: wrongTypeBody, as: UTF8.self).contains("ocsp.content-type"))
            let (oversized, _, _) = try await fetch(ocspURL, method: "POST", headers: ocspHeaders, body: Data(count: 64 * 1024))
            #expect(oversized == 413)
            let (unknownCA, _, _) = try await fetch("\(ocspBase)/ocsp/nobody", method: "POST", headers: ocspHeaders, body: request)
            #expect(unknownCA == 404)
            let (badGET, badGETBody, _) = try await fetch("\(ocspURL)/%%%not-base64")
            #expect(badGET == 200 || badGET == 400)
            if badGET == 200 { #expect(try responseStatus(badGETBody).contains("malformedrequest")) }

            // Problems are RFC 9457 documents on either endpoint.
            let (otherPath, otherPathBody, otherPathHeaders) = try await fetch("\(ocspBase)/ocsp")
            #expect(otherPath == 404)
            #expect((otherPathHeaders["Content-Type"] as? String)?.hasPrefix("application/problem+json") == true, "\(otherPathHeaders)")
            let problem = try JSONSerialization.jsonObject(with: otherPathBody) as? [String: Any]
            #expect(problem?["status"] as? Int == 404 && problem?["code"] as? String != nil, "\(String(decoding: otherPathBody, as: UTF8.self))")
            let (wrongMethod, _, _) = try await fetch(ocspURL, method: "PUT", headers: ocspHeaders, body: request)
            #expect(wrongMethod == 404 || wrongMethod == 405)

            let (health, _, _) = try await fetch("\(base)/health")
            #expect(health == 200)
            let good = try ExternalTool.run("openssl", ["ocsp", "-issuer", ca.path, "-cert", leaf.file.path, "-url", ocspURL, "-CAfile", root.path]).output
            #expect(good.contains("\(leaf.file.path): good"), "\(good)")
        }
    }

    @Test("the issuance listener records what it issues as the main server does, refuses what it does not serve with a problem, and keeps serving")
    func issuanceListener() async throws {
        try await withServer { app, mainBase, _, folder in try await withIssuance(.dedicatedListener, app: app, base: mainBase) { base in
            let certificates = "\(base)/api/v1/certificates"
            let csr = try TestIssuance.csr(in: folder, name: "listener", newKey: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
            let body = try JSONSerialization.data(withJSONObject: TestIssuance.fields(csr: csr))
            let json = ["Content-Type": "application/json"]
            let authorized = json.merging(["Authorization": "Bearer \(testOperatorToken)"]) { $1 }
            func problem(_ answer: (Int, Data, [AnyHashable: Any])) -> (Int, String?) {
                #expect((answer.2["Content-Type"] as? String)?.hasPrefix("application/problem+json") == true, "\(answer.2)")
                let document = (try? JSONSerialization.jsonObject(with: answer.1)) as? [String: Any]
                #expect(document?["status"] as? Int == answer.0, "\(String(decoding: answer.1, as: UTF8.self))")
                return (answer.0, document?["code"] as? String)
            }
            #expect(problem(try await fetch(certificates, method: "POST", headers: json, body: body)) == (401, "auth.missing-token"))
            #expect(problem(try await fetch(certificates, method: "POST", headers: json.merging(["Authorization": "Bearer not-a-token-of-anyone"]) { $1 }, body: body))
                == (401, "auth.invalid-token"))
            #expect(problem(try await fetch(certificates, method: "POST", headers: json.merging(["Authorization": "Basic \(testOperatorToken)"]) { $1 }, body: body))
                == (401, "auth.missing-token"))
            // The refused token reaches the audit log, as on the main server (the record is written off the event loop).
            var audited = false
            for _ in 0..<100 where !audited {
                audited = try await (app.db as! any SQLDatabase).raw(
                    "SELECT 1 AS one FROM audit_log WHERE action = 'auth.failed' AND entity_id = 'bearer-token' AND actor = '127.0.0.1'").first() != nil
                if !audited { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(audited, "the issuance listener's refused token is audited")
            let get = try await fetch(certificates, headers: authorized)
            #expect(problem(get) == (405, "http.405"))
            #expect(get.2["Allow"] as? String == "POST")
            #expect(problem(try await fetch("\(base)/api/v1/professionals", headers: authorized)) == (404, "route.not-found"))
            #expect(problem(try await fetch("\(base)/ocsp/forte-personnes", method: "POST", headers: authorized, body: body)) == (404, "route.not-found"))
            let oversized = try await fetch(certificates, method: "POST", headers: authorized, body: Data(count: IssuanceListener.maximumRequestSize + 1))
            #expect(problem(oversized) == (413, "http.413"))
            #expect(oversized.2["Connection"] as? String == "close")

            // Issued here, read on the main server, verified by OpenSSL against the served chain.
            let (status, answer, headers) = try await fetch(certificates, method: "POST", headers: authorized, body: body)
            #expect(status == 201, "\(String(decoding: answer, as: UTF8.self))")
            let issued = try #require(try JSONSerialization.jsonObject(with: answer) as? [String: Any])
            let serial = try #require(issued["serial"] as? String)
            let location = try #require(headers["Location"] as? String)
            #expect(location == "/api/v1/certificates/forte-personnes/\(serial)")
            let (readStatus, read, _) = try await fetch("\(mainBase)\(location)", headers: authorized)
            #expect(readStatus == 200)
            let stored = try #require(try JSONSerialization.jsonObject(with: read) as? [String: Any])
            #expect(stored["pem"] as? String == issued["pem"] as? String && stored["status"] as? String == "good")
            let chain = folder.appendingPathComponent("chain.pem")
            let (_, root, _) = try await fetch("\(mainBase)/pki/root.pem")
            let (_, ca, _) = try await fetch("\(mainBase)/pki/forte-personnes.pem")
            try (root + ca).write(to: chain)
            let leaf = folder.appendingPathComponent("listener.pem")
            try (issued["pem"] as? String ?? "").write(to: leaf, atomically: true, encoding: .utf8)
            let verified = try ExternalTool.run("openssl", ["verify", "-CAfile", chain.path, leaf.path])
            #expect(verified.output.contains("\(leaf.path): OK"), "\(verified.output)")
            let audit = try await AuditLogProbe.verify(app.db)
            guard case .intact = audit else { return #expect(Bool(false), "\(audit)") }
        } }
    }
}
