import Foundation
import OpenCPSPKI
import SwiftASN1
import Testing
import X509

/// Vectors made by OpenSSL (Resources/openssl/make-vectors.sh): a P-256 CA, leaf 1 (serial 0x1001,
/// good) and leaf 2 (0x1002, revoked keyCompromise at 2025-01-01T12:00:00Z).
@Suite("OCSP known answers from OpenSSL")
struct OCSPKnownAnswerTests {
    func ca() throws -> Certificate { try Certificate(pemEncoded: String(decoding: resource("ca.pem"), as: UTF8.self)) }

    @Test("an OpenSSL SHA-1 request with two certificates and a nonce decodes field by field")
    func sha1Request() throws {
        let der = try resource("req-sha1-nonce.der")
        let request = try OCSPRequest(derEncoded: der)
        #expect(request.requests.count == 2)
        #expect(!request.isSigned)
        #expect(!request.hasRequestorName)
        let first = request.requests[0].certID
        #expect(first.hashAlgorithm == .sha1)
        #expect(first.hashAlgorithmHasNullParameters)
        #expect(first.issuerNameHash == hex("7B0BFA08F2B3B9648067A59E8BA3D2037A4AD690"))
        #expect(first.issuerKeyHash == hex("24EEDD32E04E06780070744C36C8AFF870C0D43A"))
        #expect(first.serialNumber == 0x1001)
        #expect(request.requests[1].certID.serialNumber == 0x1002)
        #expect(request.nonce == hex("5019E0FBFDBAF1EE500CA6E0ECFA54EE"))

        // Our CertID computation agrees with OpenSSL's.
        #expect(try OCSPCertID(issuer: ca(), serialNumber: 0x1001) == first)
    }

    @Test("our encoder reproduces OpenSSL's request bytes exactly")
    func requestBytes() throws {
        let der = try resource("req-sha1-nonce.der")
        #expect(try OCSPRequest(derEncoded: der).derEncoded() == der)
        let fromScratch = try OCSPRequest(certIDs: [OCSPCertID(issuer: ca(), serialNumber: 0x1001),
                                                    OCSPCertID(issuer: ca(), serialNumber: 0x1002)],
                                          nonce: hex("5019E0FBFDBAF1EE500CA6E0ECFA54EE"))
        #expect(try fromScratch.derEncoded() == der)

        let sha256 = try resource("req-sha256.der")
        let built = try OCSPRequest(certIDs: [OCSPCertID(issuer: ca(), serialNumber: 0x1001, hashAlgorithm: .sha256)])
        #expect(try built.derEncoded() == sha256)
        let decoded = try OCSPRequest(derEncoded: sha256)
        #expect(decoded.requests[0].certID.hashAlgorithm == .sha256)
        #expect(decoded.requests[0].certID.issuerNameHash.count == 32)
        #expect(decoded.nonce == nil)
    }

    @Test("an OpenSSL response decodes: good, revoked with time and reason, nonce, signature")
    func response() throws {
        let response = try OCSPResponse(derEncoded: resource("resp-sha1-nonce.der"))
        #expect(response.status == .successful)
        let basic = try #require(response.basic)
        #expect(basic.responderNameDER != nil)
        #expect(basic.responses.count == 2)
        #expect(basic.responses[0].status == .good)
        #expect(basic.responses[0].certID.serialNumber == 0x1001)
        #expect(basic.responses[1].status == .revoked(time: Date(timeIntervalSince1970: 1_735_732_800), reason: .keyCompromise))
        #expect(basic.responses[0].nextUpdate! > basic.responses[0].thisUpdate)
        #expect(basic.nonce == hex("5019E0FBFDBAF1EE500CA6E0ECFA54EE"))
        #expect(basic.certificates.count == 1)
        #expect(basic.isSigned(by: try ca()))
    }

    @Test("error responses and garbage")
    func errors() throws {
        #expect(try OCSPResponse(derEncoded: OCSPResponse.errorResponse(.unauthorized)).status == .unauthorized)
        #expect(throws: PKIError.self) { try OCSPRequest(derEncoded: [0x30, 0x00]) }
        #expect(throws: PKIError.self) { try OCSPRequest(derEncoded: Array("hello".utf8)) }
    }
}
