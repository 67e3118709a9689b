import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import Testing
import Vapor

/// The regional health agency has a region (issue 21: "the regional agency has no region").
@Suite("Regional agency's region", TestTools.needs("openssl"))
struct AgencyRegionTests {
    let sophie = DemoData.professionals[4]   // orthophoniste at the Lyon centre (69, Auvergne-Rhône-Alpes)

    @Test("the agency of another region gets 403 on a file of Lyon, revealing nothing of it; the agency of the region validates it")
    func agencyActsInItsRegionOnly() async throws {
        let clock = FixedWallClock(Date())
        let holders = DemoData.professionals.map(\.idNat.value)
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: holders)) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            let api = CardAPI(app: app, configuration: configuration)
            let holder = TestActors.holder(sophie.idNat.value)
            let created = try await api.call(.POST, "/api/v1/cards", as: holder, json: #"{"idNat": "\#(sophie.idNat.value)", "kind": "CPS", "professionCode": "91"}"#)
            let id = try #require(created.json["id"] as? String)
            try await api.uploadMissingDocuments(id, as: holder)
            try await api.act(id, "submit", as: holder)

            for (method, path, body) in [
                (HTTPMethod.GET, "/api/v1/cards/\(id)", nil), (.GET, "/api/v1/cards/\(id)/history", nil),
                (.POST, "/api/v1/cards/\(id)/validate", "{}"), (.POST, "/api/v1/cards/\(id)/reject", #"{"reason": "x"}"#),
                (.POST, "/api/v1/cards/\(id)/request-documents", #"{"reason": "x"}"#),
            ] as [(HTTPMethod, String, String?)] {
                let refused = try await api.call(method, path, as: TestActors.otherArs, json: body)
                #expect(refused.status == .forbidden, "\(path): \(refused.json)")
                #expect(refused.json["code"] as? String == "card.forbidden")
                let text = "\(refused.json)"
                #expect(!text.contains(sophie.idNat.value) && !text.contains("MOREL") && !text.contains("awaiting") && !text.contains(id), "\(text)")
            }
            #expect(try await api.call(.GET, "/api/v1/cards?idNat=\(sophie.idNat.value)", as: TestActors.otherArs).array.isEmpty)
            #expect(try await api.state(id) == "awaiting_validation")

            #expect(try await api.call(.GET, "/api/v1/cards?idNat=\(sophie.idNat.value)", as: TestActors.ars).array.count == 1)
            let validated = try await api.act(id, "validate", as: TestActors.ars)
            #expect(validated["state"] as? String == "validated")
        }
    }

    @Test("an agency token names its region: ars:<code>; ars alone or an unknown region is refused")
    func configuration() throws {
        let configuration = try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_ACTOR_TOKENS": "ars:53=ars-bretagne-0123456789"])
        #expect(configuration.actorTokens["ars-bretagne-0123456789"] == .agenceRegionale(.bretagne))
        for wrong in ["ars=ars-token-0123456789", "ars:99=ars-token-0123456789"] {
            #expect(throws: ConfigurationError.self, "\(wrong)") {
                try OpenCPSConfiguration.resolve(flags: .init(), environment: ["OPENCPS_ACTOR_TOKENS": wrong])
            }
        }
        #expect(DemoCards.actorTokens["demo-ars-84"] == .agenceRegionale(.auvergneRhoneAlpes))
        #expect(DemoCards.actorTokens.values.filter { if case .agenceRegionale = $0 { true } else { false } }.count == 18)
    }
}
