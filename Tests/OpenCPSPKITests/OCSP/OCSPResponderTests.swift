import Foundation
import OpenCPSDomain
import OpenCPSPKI
import SwiftASN1
import Testing
import X509

@Suite("OCSP responder", TestTools.needs("openssl"))
struct OCSPResponderTests {
    let pki = TestPKI.shared

    var responder: OCSPResponder {
        get throws { try OCSPResponder(authority: pki.hierarchy.fortePersonnes, keyStore: pki.keyStore, validity: 3600) }
    }

    let revokedAt = Date(timeIntervalSince1970: 1_790_000_000)

    func status(_ good: IssuedCertificate, _ revoked: IssuedCertificate) -> @Sendable (Certificate.SerialNumber) -> OCSPCertificateStatus {
        let goodSerial = good.serialNumber
        let revokedSerial = revoked.serialNumber
        let revokedAt = self.revokedAt
        return { serial in
            switch serial {
            case goodSerial: return .good
            case revokedSerial: return .revoked(time: revokedAt, reason: .keyCompromise)
            default: return .unknown
            }
        }
    }

    @Test("several certificates in one request: good, revoked with time and reason, unknown; nonce echoed")
    func statuses() async throws {
        let good = try pki.issue(.authentication, key: pki.p256CardKey, seed: 300)
        let revoked = try pki.issue(.authentication, key: pki.p256CardKey, seed: 301)
        let ca = pki.hierarchy.fortePersonnes.ca.certificate
        let request = try OCSPRequest(certIDs: [OCSPCertID(issuer: ca, serialNumber: good.serialNumber),
                                                OCSPCertID(issuer: ca, serialNumber: revoked.serialNumber, hashAlgorithm: .sha256),
                                                OCSPCertID(issuer: ca, serialNumber: 0x0BAD)],
                                      nonce: Array(0..<16))
        let lookup = status(good, revoked)
        let result = try await responder.respond(to: request.derEncoded(), now: pki.now) { lookup($0) }
        #expect(result.status == .successful)
        #expect(result.hasNonce)
        #expect(result.nextUpdate == pki.now + 3600)

        let response = try OCSPResponse(derEncoded: result.der)
        let basic = try #require(response.basic)
        #expect(basic.responses.map(\.status) == [.good, .revoked(time: revokedAt, reason: .keyCompromise), .unknown])
        #expect(basic.responses[1].certID.hashAlgorithm == .sha256)
        #expect(basic.nonce == Array(0..<16))
        #expect(basic.producedAt == pki.now)
        #expect(basic.responderKeyHash == pki.hierarchy.fortePersonnes.ocspResponder.keyHashSHA1)
        #expect(basic.certificates == [pki.hierarchy.fortePersonnes.ocspResponder.certificate])
        #expect(basic.isSigned(by: pki.hierarchy.fortePersonnes.ocspResponder.certificate))
    }

    @Test("garbage is a malformedRequest, another CA's certificate is unauthorized, a failed look-up is internalError")
    func refusals() async throws {
        let garbage = try responder.respondSynchronously(to: Array("not ocsp".utf8), now: pki.now) { _ in .good }
        #expect(garbage.status == .malformedRequest)
        #expect(try OCSPResponse(derEncoded: garbage.der).status == .malformedRequest)

        let foreign = try responder.respondSynchronously(to: resource("req-sha1-nonce.der"), now: pki.now) { _ in .good }
        #expect(foreign.status == .unauthorized)

        let elementaire = pki.hierarchy.elementairePersonnes.ca.certificate
        let mixed = try OCSPRequest(certIDs: [OCSPCertID(issuer: pki.hierarchy.fortePersonnes.ca.certificate, serialNumber: 1),
                                              OCSPCertID(issuer: elementaire, serialNumber: 2)])
        #expect(try responder.respondSynchronously(to: mixed.derEncoded(), now: pki.now) { _ in .good }.status == .unauthorized)

        let tooLongNonce = try OCSPRequest(certIDs: [OCSPCertID(issuer: pki.hierarchy.fortePersonnes.ca.certificate, serialNumber: 1)],
                                           nonce: Array(repeating: 1, count: 64))
        #expect(try responder.respondSynchronously(to: tooLongNonce.derEncoded(), now: pki.now) { _ in .good }.status == .malformedRequest)

        let failing = try OCSPRequest(certIDs: [OCSPCertID(issuer: pki.hierarchy.fortePersonnes.ca.certificate, serialNumber: 1)])
        let result = try await responder.respond(to: failing.derEncoded(), now: pki.now) { _ in throw PKIError.keyNotFound(label: "db") }
        #expect(result.status == .internalError)
    }

    @Test("GET path components decode to the request DER")
    func getPath() throws {
        let der = try resource("req-sha256.der")
        let encoded = Data(der).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(OCSPRequest.derFromGETPathComponent(encoded) == der)
    }

    /// What the GET decoding did before it was written by hand: its own URL decoding (a `%`
    /// not followed by two hex digits is kept as it is), the URL-safe alphabet mapped back,
    /// padding added, then Foundation's decoder.
    static func foundationDecoding(_ component: String) -> [UInt8]? {
        func hexValue(_ byte: UInt8) -> UInt8? {
            byte < 0x80 ? Character(Unicode.Scalar(byte)).hexDigitValue.map(UInt8.init) : nil
        }
        let input = Array(component.utf8)
        var base64: [UInt8] = []
        var index = 0
        while index < input.count {
            var byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count, let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                byte = high << 4 | low
                index += 2
            }
            base64.append(byte == UInt8(ascii: "-") ? UInt8(ascii: "+") : byte == UInt8(ascii: "_") ? UInt8(ascii: "/") : byte)
            index += 1
        }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(base64)).map { Array($0) }
    }

    @Test("GET path components decode as Foundation decodes them; random text never more laxly, and only padding splits them")
    func getPathAgreesWithFoundation() {
        var generator = SplitMix64(seed: 5019)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let standard = Data(bytes).base64EncodedString()
            let unpadded = String(standard.prefix { $0 != "=" })
            let urlSafe = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            for form in [standard, unpadded, urlSafe, standard.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!] {
                #expect(OCSPRequest.derFromGETPathComponent(form) == bytes, "\(form)")
            }
        }
        // Text of base64 characters, padding, escapes and strangers, in random order.
        let alphabet = Array("AQgw+/-_=%2B%2F%3D%zz% \n.é")
        var agreed = 0
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let ours = OCSPRequest.derFromGETPathComponent(text)
            let foundation = Self.foundationDecoding(text)
            if ours == foundation {
                agreed += 1
            } else {
                // Foundation takes `=` anywhere and any number of them (`"z2=+"`, `"gz2-="`,
                // even `"="`); RFC 4648 pads the last group only, to four characters.
                #expect(ours == nil, "\(text.debugDescription)")
                #expect(text.replacingOccurrences(of: "%3D", with: "=").contains("="), "\(text.debugDescription)")
            }
        }
        #expect(agreed > 19_000)
    }

    @Test("openssl ocsp verifies our responses with the delegated responder and checks the nonce")
    func opensslVerifies() async throws {
        let good = try pki.issue(.authentication, key: pki.rsaCardKey, seed: 310)
        let revoked = try pki.issue(.signature, key: pki.rsaCardKey, seed: 311)
        let unknown = try pki.issue(.signature, key: pki.p256CardKey, seed: 312)
        let ca = pki.hierarchy.fortePersonnes.ca.certificate
        let request = try OCSPRequest(certIDs: [OCSPCertID(issuer: ca, serialNumber: good.serialNumber),
                                                OCSPCertID(issuer: ca, serialNumber: revoked.serialNumber),
                                                OCSPCertID(issuer: ca, serialNumber: unknown.serialNumber)],
                                      nonce: Array(repeating: 0xA5, count: 16))
        let lookup = status(good, revoked)
        let result = try await responder.respond(to: request.derEncoded(), now: pki.now) { lookup($0) }

        let requestFile = try pki.write("ocsp-req.der", request.derEncoded())
        let responseFile = try pki.write("ocsp-resp.der", result.der)
        let root = try pki.write("ocsp-root.pem", pki.hierarchy.root.pem)
        let caFile = try pki.write("ocsp-ca.pem", pki.hierarchy.fortePersonnes.ca.pem)

        let requestText = try openssl("ocsp", "-reqin", requestFile.path, "-req_text")
        #expect(requestText.status == 0)
        #expect(requestText.output.contains("OCSP Nonce"))

        let verified = try openssl("ocsp", "-reqin", requestFile.path, "-respin", responseFile.path, "-CAfile", root.path,
                                   "-verify_other", caFile.path, "-resp_text")
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("Response verify OK"))
        #expect(!verified.output.contains("Nonce Verify Error"))
        #expect(!verified.output.contains("WARNING"))
        #expect(verified.output.contains("Cert Status: good"))
        #expect(verified.output.contains("Cert Status: revoked"))
        #expect(verified.output.contains("Revocation Reason: keyCompromise"))
        #expect(verified.output.contains("Cert Status: unknown"))

        let goodFile = try pki.write("ocsp-good.pem", good.pem)
        let perCert = try openssl("ocsp", "-issuer", caFile.path, "-cert", goodFile.path, "-respin", responseFile.path,
                                  "-CAfile", root.path, "-verify_other", caFile.path, "-no_nonce")
        #expect(perCert.output.contains("\(goodFile.path): good"), "\(perCert.output)")
    }
}
