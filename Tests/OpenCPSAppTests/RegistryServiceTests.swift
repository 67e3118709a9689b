import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import SQLKit
import Testing
import Vapor

/// A registry write and its card consequences commit together or not at all.
@Suite("Registry service")
struct RegistryServiceTests {
    let claire = DemoData.professionals[0]

    /// How many entries the audit log holds, checking the chain on the way.
    func auditEntries(_ app: Application) async throws -> Int {
        guard case .intact(let entries) = try await AuditLogProbe.verify(app.db) else {
            Issue.record("the audit chain is broken")
            return -1
        }
        return Int(entries)
    }

    @Test("a registration whose automatic card order fails is not recorded either; once the order can be placed, both are")
    func registrationAndOrder() async throws {
        try await withConfiguredTestApp(clock: FixedWallClock(testNow), pki: TestPKIMaterial.shared) { app, _ in
            _ = try await DemoData(clock: FixedWallClock(testNow)).load(into: app.db)
            let registry = try #require(app.registryService)
            let sql = app.db as! any SQLDatabase
            // A card of Claire's that no longer reads as one: placing her order, which reads her
            // cards, fails after the registration was written in the same transaction.
            try await plantUnreadableCard(for: claire, in: app)
            let before = try await registry.professional(claire.idNat)
            let entries = try await auditEntries(app)
            let registration = OrderRegistration(ordre: .cnom, registeredOn: try CivilDate("2026-01-15"), number: "123456")
            let failure = await errorCode {
                _ = try await registry.register(claire.idNat, professionCode: "10", registration: registration, expectedVersion: nil, actor: "operator:test")
            }
            #expect(failure == "storage.corrupt-row")
            #expect(try await registry.professional(claire.idNat) == before)
            #expect(try await auditEntries(app) == entries)

            try await sql.raw("DELETE FROM cards WHERE id_nat = \(bind: claire.idNat.value)").run()
            let registered = try await registry.register(
                claire.idNat, professionCode: "10", registration: registration, expectedVersion: nil, actor: "operator:test")
            #expect(registered.professional.exercises[0].registration == registration && registered.version == before.version + 1)
            let cards = try await CardRepository(database: app.db, clock: FixedWallClock(testNow)).cards(holder: claire.idNat)
            #expect(cards.count == 1 && cards.first?.order.mode == .automatic && cards.first?.state == .validated)
        }
    }

    @Test("an update whose card reissue fails leaves the record as it was, over the API too")
    func updateAndReissue() async throws {
        try await withConfiguredTestApp(clock: FixedWallClock(testNow), pki: TestPKIMaterial.shared) { app, _ in
            _ = try await DemoData(clock: FixedWallClock(testNow)).load(into: app.db)
            let registry = try #require(app.registryService)
            try await plantUnreadableCard(for: claire, in: app)
            let before = try await registry.professional(claire.idNat)
            let entries = try await auditEntries(app)
            var renamed = before.professional
            renamed.lastName = "LAMBERT-DURAND"
            #expect(await errorCode { _ = try await registry.update(renamed, expectedVersion: before.version, actor: "operator:test") } == "storage.corrupt-row")
            #expect(try await registry.professional(claire.idNat) == before)

            // The same over HTTP: the edge answers 500 without detail, and nothing is kept.
            let body = try JSONSerialization.data(withJSONObject: [
                "idNat": claire.idNat.value, "civilite": "MME", "lastName": "LAMBERT-DURAND", "firstName": claire.firstName,
                "exercises": [["professionCode": "10", "registration": ["registeredOn": "2020-09-01"],
                               "activities": [["mode": "S", "structureId": DemoData.establishments[2].identifier.idNatStruct,
                                               "structureName": DemoData.establishments[2].name, "department": "69",
                                               "address": ["line": "5 Rue DE LA REPUBLIQUE", "postalCode": "69002", "city": "Lyon"]]]]],
            ])
            try await app.testing().test(.PUT, "/api/v1/professionals/\(claire.idNat.value)", headers: .operatorHeaders, body: ByteBuffer(data: body)) {
                #expect($0.status == .internalServerError)
            }
            #expect(try await registry.professional(claire.idNat) == before)
            #expect(try await auditEntries(app) == entries)
        }
    }

    /// Stores a card for the professional, then breaks its state the way a bad migration could.
    func plantUnreadableCard(for professional: Professional, in app: Application) async throws {
        let card = Card(
            id: UUID().uuidString.lowercased(), holder: professional.idNat, kind: .cps,
            order: CardOrder(mode: .manual, reason: .first, instance: .ordre(.cnom)), profession: try Profession(code: "10"),
            structure: nil, createdAt: testNow)
        try await CardRepository(database: app.db, clock: FixedWallClock(testNow)).insert(card, actor: "test")
        try await (app.db as! any SQLDatabase).raw("UPDATE cards SET state = 'misplaced' WHERE id = \(bind: card.id)").run()
    }
}
