import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSTokens
import Testing
import Vapor
import X509

/// A professional signs with the card made by the platform; relying services verify through
/// `POST /api/v1/signatures/verification` and time-stamp through `POST /tsa`.
@Suite("Signature API", TestTools.needs("openssl"))
struct SignatureAPITests {
    let document = Array("Ordonnance du 4 décembre 2026 : paracétamol 1 g, 3 fois par jour.\n".utf8)

    func verify(_ api: CardAPI, signature: [UInt8], type: String = "prescription") async throws -> [String: Any] {
        let body = #"{"documentType": "\#(type)", "document": "\#(Data(document).base64EncodedString())", "signature": "\#(Data(signature).base64EncodedString())"}"#
        var json: [String: Any] = [:]
        var headers = HTTPHeaders()
        headers.contentType = .json
        try await api.app.testing().test(.POST, "/api/v1/signatures/verification", headers: headers, body: jsonBody(body)) { response in
            #expect(response.status == .ok)
            json = try jsonObject(response)
        }
        return json
    }

    func verdict(_ json: [String: Any], _ name: String) -> String? {
        ((json["verdicts"] as? [String: Any])?[name] as? [String: Any])?["code"] as? String
    }

    func timeStampToken(_ api: CardAPI, over signature: [UInt8]) async throws -> [UInt8] {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "application/timestamp-query")
        var reply: [UInt8] = []
        try await api.app.testing().test(.POST, "/tsa", headers: headers, body: ByteBuffer(bytes: TimeStampRequest.derEncoded(sha256Of: signature))) {
            #expect($0.status == .ok)
            #expect($0.headers.contentType?.description == "application/timestamp-reply")
            reply = Array($0.body.readableBytesView)
        }
        let response = try TimeStampResponse(derEncoded: reply)
        #expect(response.status == 0)
        return try #require(response.token)
    }

    @Test("a card's signature verifies; after an opposition the plain one fails and the time-stamped one stays valid")
    func journey() async throws {
        let clock = FixedWallClock(Date())
        let holders = ["810100271385"]
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders)) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            let card = try await SigningHolder(api)
            let (id, token, pin, certificate, chain) = (card.cardID, card.token, card.pin, card.certificate, card.chain)

            let builder = try CAdESSignatureBuilder(document: document, signer: certificate, chain: chain, signingTime: clock.now())
            let cardSignature = try token.sign(builder.signedAttributes, with: .signature, pin: pin).get()
            let plain = try builder.signedData(signature: cardSignature)
            let stamped = try builder.signedData(
                signature: cardSignature, unsignedAttributes: [CAdESTimeStamping.attribute(try await timeStampToken(api, over: cardSignature))])

            let valid = try await verify(api, signature: plain)
            #expect(valid["valid"] as? Bool == true, "\(valid)")
            #expect((valid["signer"] as? [String: Any])?["idNat"] as? String == "810100271385")
            #expect((valid["signer"] as? [String: Any])?["cardType"] as? String == "CPS")
            #expect(valid["signingTimeSource"] as? String == "claimed")
            #expect(verdict(valid, "revocationNow") == "signature.revocation.good")
            let timeStamped = try await verify(api, signature: stamped)
            #expect(timeStamped["valid"] as? Bool == true, "\(timeStamped)")
            #expect(timeStamped["signingTimeSource"] as? String == "time-stamped")
            #expect(verdict(timeStamped, "timeStamp") == "signature.time-stamp.valid")

            clock.advance(by: 60)
            try await api.act(id, "opposition", as: TestActors.holder(SigningHolder.idNat), json: #"{"reason": "carte volée"}"#)
            clock.advance(by: 60)
            let afterPlain = try await verify(api, signature: plain)
            #expect(afterPlain["valid"] as? Bool == false)
            #expect(verdict(afterPlain, "revocationAtSigningTime") == "signature.revocation.good")
            #expect(verdict(afterPlain, "revocationNow") == "signature.revocation.revoked")
            let afterStamped = try await verify(api, signature: stamped)
            #expect(afterStamped["valid"] as? Bool == true, "\(afterStamped)")
            #expect(verdict(afterStamped, "revocationNow") == "signature.revocation.revoked-after-time-stamp")

            // A médecin may sign a care sheet; the policy verdict says so.
            #expect(verdict(try await verify(api, signature: stamped, type: "care-sheet"), "policy") == "signature.policy.allowed")
        }
    }

    @Test("unreadable requests are problems; a wrong media type on /tsa is 415; a bad query is a rejection")
    func refusals() async throws {
        try await withTestApp(clock: FixedWallClock(Date()), pki: TestPKIMaterial.shared) { app in
            var headers = HTTPHeaders()
            headers.contentType = .json
            try await app.testing().test(.POST, "/api/v1/signatures/verification", headers: headers,
                                         body: jsonBody(#"{"documentType": "invoice", "document": "***", "signature": "AA=="}"#)) { response in
                #expect(response.status == .badRequest)
                let problem = try jsonObject(response)
                #expect(problem["code"] as? String == "signature.request-invalid")
                #expect((problem["detail"] as? String ?? "").contains("documentType"))
                #expect((problem["detail"] as? String ?? "").contains("document: not base64"))
            }
            try await app.testing().test(.POST, "/api/v1/signatures/verification", headers: headers,
                                         body: jsonBody(#"{"documentType": "prescription", "document": "AA==", "signature": "AA=="}"#)) { response in
                #expect(response.status == .ok)
                let result = try jsonObject(response)
                #expect(result["valid"] as? Bool == false)
                #expect(verdict(result, "integrity") == "signature.integrity.malformed")
            }
            try await app.testing().test(.POST, "/tsa", headers: headers, body: jsonBody("{}")) { #expect($0.status == .unsupportedMediaType) }
            var query = HTTPHeaders()
            query.replaceOrAdd(name: .contentType, value: "application/timestamp-query")
            try await app.testing().test(.POST, "/tsa", headers: query, body: ByteBuffer(string: "not a query")) { response in
                #expect(response.status == .ok)
                #expect((try? TimeStampResponse(derEncoded: Array(response.body.readableBytesView)))?.status == 2)
            }
        }
    }
}
