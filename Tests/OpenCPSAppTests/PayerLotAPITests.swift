import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSTokens
import Testing
import Vapor
import VaporTesting
import X509

/// A médecin's card signs care sheets; the demonstration payer (`POST /api/v1/payer/lots`)
/// accepts the good one and refuses the others, each with its reasons.
@Suite("Payer lots", TestTools.needs("openssl"))
struct PayerLotAPITests {
    func careSheet(professional: String = "810100271385", amount: Int = 3000) throws -> CareSheet {
        let beneficiary = try VitaleBeneficiary(nir: NIR(number: "1841276451089", key: "46"), birthDate: "19841201", rank: 1)
        return try CareSheet(beneficiary: beneficiary, professionalIdNat: professional, careDate: "2026-12-04",
                             acts: [BilledAct(code: "G", quantity: 1, amountCents: amount)])
    }

    func post(_ app: Application, _ body: String, _ check: (TestingHTTPResponse) throws -> Void) async throws {
        var headers = HTTPHeaders()
        headers.contentType = .json
        try await app.testing().test(.POST, "/api/v1/payer/lots", headers: headers, body: jsonBody(body)) { try check($0) }
    }

    func codes(_ sheet: [String: Any]) -> [String] {
        (sheet["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    @Test("one good sheet accepted; an altered one, another professional's and an invalid NIR refused with their reasons")
    func lot() async throws {
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: ["810100271385"])) { app, configuration in
            let api = CardAPI(app: app, configuration: configuration)
            let card = try await SigningHolder(api)
            let (token, pin, certificate, chain) = (card.token, card.pin, card.certificate, card.chain)
            func sign(_ document: [UInt8]) throws -> [UInt8] {
                let builder = try CAdESSignatureBuilder(document: document, signer: certificate, chain: chain, signingTime: clock.now())
                return try builder.signedData(signature: try token.sign(builder.signedAttributes, with: .signature, pin: pin).get())
            }
            func sheet(_ document: [UInt8], _ signature: [UInt8]) -> String {
                #"{"document": "\#(Data(document).base64EncodedString())", "signature": "\#(Data(signature).base64EncodedString())"}"#
            }

            let good = try careSheet().canonicalJSON()
            let altered = try careSheet(amount: 9000).canonicalJSON()
            let otherProfessional = try careSheet(professional: "810002909371").canonicalJSON()
            let badNIR = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: #""key":"46""#, with: #""key":"47""#).utf8)
            #expect(badNIR != good)
            let lot = [sheet(good, try sign(good)), sheet(altered, try sign(good)), sheet(otherProfessional, try sign(otherProfessional)),
                       sheet(badNIR, try sign(badNIR))]
            try await post(app, #"{"sheets": [\#(lot.joined(separator: ","))]}"#) { response in
                #expect(response.status == .ok)
                let acknowledgment = try jsonObject(response)
                #expect(UUID(uuidString: acknowledgment["lotId"] as? String ?? "") != nil)
                #expect(acknowledgment["receivedAt"] is String)
                #expect(acknowledgment["acceptedCount"] as? Int == 1)
                #expect(acknowledgment["refusedCount"] as? Int == 3)
                let accepted = acknowledgment["accepted"] as? [[String: Any]] ?? []
                #expect(accepted.first?["index"] as? Int == 0)
                #expect(accepted.first?["signerIdNat"] as? String == "810100271385")
                #expect(accepted.first?["totalCents"] as? Int == 3000)
                let refused = Dictionary(uniqueKeysWithValues: (acknowledgment["refused"] as? [[String: Any]] ?? []).map { ($0["index"] as? Int ?? -1, $0) })
                #expect(codes(refused[1] ?? [:]).contains("signature.integrity.document-altered"), "\(refused)")
                #expect(codes(refused[2] ?? [:]) == ["lot.signer-not-professional"], "\(refused)")
                #expect(codes(refused[3] ?? [:]) == ["care-sheet.nir.invalid-key"], "\(refused)")
            }
        }
    }

    @Test("a body that is not a lot is 400; an empty lot and one over the maximum are 422")
    func badLots() async throws {
        try await withTestApp(clock: FixedWallClock(Date()), pki: TestPKIMaterial.shared) { app in
            try await post(app, #"{"sheet": []}"#) { #expect($0.status == .badRequest) }
            try await post(app, #"{"sheets": []}"#) { response in
                #expect(response.status == .unprocessableEntity)
                let problem = try jsonObject(response)
                #expect(problem["code"] as? String == "lot.empty")
            }
            let many = Array(repeating: #"{"document": "AA==", "signature": "AA=="}"#, count: 501).joined(separator: ",")
            try await post(app, #"{"sheets": [\#(many)]}"#) { response in
                #expect(response.status == .unprocessableEntity)
                let problem = try jsonObject(response)
                #expect(problem["code"] as? String == "lot.too-large")
            }
            try await post(app, #"{"sheets": [{"document": "***", "signature": "AA=="}]}"#) { response in
                #expect(response.status == .ok)
                let refused = try jsonObject(response)["refused"] as? [[String: Any]] ?? []
                #expect(codes(refused.first ?? [:]).contains("signature.integrity.malformed"))
                #expect(codes(refused.first ?? [:]).contains("care-sheet.malformed"))
            }
        }
    }

    @Test("a lot holds 500 sheets unless OPENCPS_PAYER_LOT_MAXIMUM_SHEETS says otherwise")
    func maximumSetting() throws {
        #expect(try OpenCPSConfiguration.resolve(flags: .init(), environment: [:]).payerLotMaximumSheets == 500)
        #expect(try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_PAYER_LOT_MAXIMUM_SHEETS": "20"]).payerLotMaximumSheets == 20)
        for bad in ["0", "many", "10001"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_PAYER_LOT_MAXIMUM_SHEETS": bad])
            }
        }
    }
}
