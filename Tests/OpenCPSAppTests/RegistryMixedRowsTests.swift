import Foundation
import OpenCPSApp
import OpenCPSDomain
import Testing

/// Exercises and activities whose optional columns differ (a registered exercise beside an
/// unregistered one, an activity with an address beside one without) are stored and read back:
/// the rows of one insert are written with their NULLs.
@Suite("Registry: rows with different optional columns")
struct RegistryMixedRowsTests {
    @Test("a médecin registered with the order who is also orthophoniste, one activity without an address: created, updated, read back")
    func mixedRows() async throws {
        try await withConfiguredTestApp(clock: FixedWallClock(testNow), pki: TestPKIMaterial.shared) { app, _ in
            let registry = try #require(app.registryService)
            let professional = Professional(
                idNat: try IdNat("810100271385"), civilite: "M", lastName: "MARTIN", firstName: "PAUL",
                exercises: [
                    Exercise(
                        profession: try Profession(code: "10"), registration: OrderRegistration(ordre: .cnom, registeredOn: try CivilDate("2026-01-15"), number: "42"),
                        activities: [Activity(mode: .salarie, department: try DepartmentCode("25"))]),
                    Exercise(
                        profession: try Profession(code: "91"),
                        activities: [Activity(mode: .liberal, address: PostalAddress(line: "1 rue A", postalCode: "25000", city: "BESANCON"))]),
                ])
            let created = try await registry.create(professional, actor: "operator:test")
            #expect(try await registry.professional(professional.idNat).professional == created.professional)
            #expect(created.professional.exercises.map(\.profession.code) == ["10", "91"])
            var changed = created.professional
            changed.exercises[0].activities[0].address = PostalAddress(line: "2 rue B", postalCode: "25300", city: "PONTARLIER")
            changed.exercises[1].activities[0].address = nil
            let updated = try await registry.update(changed, expectedVersion: created.version, actor: "operator:test")
            #expect(updated.version == created.version + 1)
            #expect(try await registry.professional(professional.idNat).professional == changed)
        }
    }
}
