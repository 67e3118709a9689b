import Foundation
import OpenCPSApp
import OpenCPSDomain
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Issue 21: reads of personal files and failed authentications are audited too.
@Suite("Audited reads and failed authentications")
struct AuditedAccessTests {
    private func entries(_ app: Application, action: String) async throws -> [(actor: String, entityType: String, entityID: String, detail: String)] {
        try await (app.db as! any SQLDatabase).raw("SELECT actor, entity_type, entity_id, detail FROM audit_log WHERE action = \(bind: action) ORDER BY seq")
            .all().map { row in
                (try row.decode(column: "actor", as: String.self), try row.decode(column: "entity_type", as: String.self),
                 try row.decode(column: "entity_id", as: String.self), try row.decode(column: "detail", as: String.self))
            }
    }

    @Test("reading a card file, its history, or finding it at the help desk is audited with who read it, outside the card's own history")
    func readsAreAudited() async throws {
        let claire = DemoData.professionals[0]
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared, actorTokens: TestActors.tokens(holders: [claire.idNat.value])) { app, configuration in
            _ = try await DemoData(clock: clock).load(into: app.db)
            let api = CardAPI(app: app, configuration: configuration)
            let services = try #require(app.cards)
            let id = try #require(try await services.ordering.orderAutomatically(for: claire, professionCode: "10")?.id)
            let holder = TestActors.holder(claire.idNat.value)
            #expect(try await api.call(.GET, "/api/v1/cards/\(id)", as: holder).status == .ok)
            #expect(try await api.call(.GET, "/api/v1/cards/\(id)/history", as: holder).status == .ok)
            #expect(try await api.call(.GET, "/api/v1/helpdesk/files?q=\(claire.idNat.value)", as: TestActors.helpDesk).status == .ok)
            let reads = try await entries(app, action: "card.read")
            #expect(reads.map(\.actor) == [CardActor.holder(claire.idNat).auditName, CardActor.holder(claire.idNat).auditName, CardActor.helpDesk.auditName])
            #expect(reads.allSatisfy { $0.entityType == "card-read" && $0.entityID == id })
            #expect(reads.map(\.detail) == ["file", "history", "file, found by the help desk"])
            // A refused read is not a read; the history does not list the reads.
            #expect(try await api.call(.GET, "/api/v1/cards/\(id)", as: TestActors.manager).status == .forbidden)
            #expect(try await entries(app, action: "card.read").count == 3)
            let history = try await services.reading.history(id, actor: .holder(claire.idNat))
            #expect(!history.contains { $0.action == "card.read" })
        }
    }

    @Test("a refused token is audited once per source and minute, its repeats counted when the minute is over; a missing token is not")
    func failedAuthenticationsAreAuditedBounded() async throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        try await withConfiguredTestApp(clock: clock, pki: TestPKIMaterial.shared) { app, _ in
            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: "not-a-token")
            for _ in 0..<5 {
                try await app.testing().test(.GET, "/api/v1/cards?idNat=810099990011", headers: headers) { #expect($0.status == .unauthorized) }
            }
            try await app.testing().test(.POST, "/api/v1/professionals", headers: headers, body: ByteBuffer(string: "{}")) {
                #expect($0.status == .unauthorized)
            }
            try await app.testing().test(.GET, "/api/v1/cards?idNat=810099990011") { #expect($0.status == .unauthorized) }
            #expect(try await entries(app, action: "auth.failed").map(\.entityID) == ["bearer-token"])
            #expect(try await entries(app, action: "auth.failed-repeated").isEmpty)
            clock.advance(by: 61)
            try await app.testing().test(.GET, "/api/v1/cards?idNat=810099990011", headers: headers) { #expect($0.status == .unauthorized) }
            #expect(try await entries(app, action: "auth.failed").count == 2)
            let repeated = try await entries(app, action: "auth.failed-repeated")
            #expect(repeated.count == 1)
            #expect(repeated.first?.detail.hasPrefix("5 more failed authentications (bearer-token from ") == true)
        }
    }
}
