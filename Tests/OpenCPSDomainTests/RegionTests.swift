import OpenCPSDomain
import Testing

/// The ARS regions and INSEE's department → region table (Code officiel géographique).
@Suite("Regions")
struct RegionTests {
    @Test("18 regions; every department but Saint-Pierre-et-Miquelon in exactly one; the table's known rows")
    func table() throws {
        #expect(Region.allCases.count == 18)
        var seen: [DepartmentCode: Region] = [:]
        for region in Region.allCases {
            for department in region.departments {
                #expect(seen[department] == nil, "\(department) twice")
                seen[department] = region
                #expect(Region(department: department) == region)
            }
        }
        #expect(Set(seen.keys) == Set(DepartmentCode.all).subtracting([try DepartmentCode("975")]))
        #expect(Region(department: try DepartmentCode("975")) == nil)
        let rows: [(String, Region)] = [
            ("69", .auvergneRhoneAlpes), ("25", .bourgogneFrancheComte), ("90", .bourgogneFrancheComte), ("2A", .corse), ("2B", .corse),
            ("75", .ileDeFrance), ("44", .paysDeLaLoire), ("35", .bretagne), ("59", .hautsDeFrance), ("67", .grandEst),
            ("33", .nouvelleAquitaine), ("31", .occitanie), ("13", .provenceAlpesCoteDAzur), ("76", .normandie), ("45", .centreValDeLoire),
            ("971", .guadeloupe), ("972", .martinique), ("973", .guyane), ("974", .laReunion), ("976", .mayotte),
        ]
        for (department, region) in rows {
            #expect(Region(department: try DepartmentCode(department)) == region, "\(department)")
        }
        #expect(try Region(code: "84") == .auvergneRhoneAlpes)
        #expect(throws: IdentifierError.self) { try Region(code: "99") }
    }

    @Test("a regional agency acts only on files of professionals the registry places in its region, by department or else by postal code")
    func agencyScope() throws {
        func professional(_ activities: [Activity]) throws -> Professional {
            Professional(
                idNat: try IdNat("810100271385"), civilite: nil, lastName: "MOREL", firstName: "SOPHIE",
                exercises: [Exercise(profession: Profession.named(code: "91")!, activities: activities)])
        }
        let lyon = try professional([Activity(mode: .liberal, department: try DepartmentCode("69"))])
        let rennesByPostalCode = try professional([Activity(mode: .liberal, address: PostalAddress(postalCode: "35000"))])
        let nowhere = try professional([Activity(mode: .liberal)])
        try CardAuthorization.checkRegion(.agenceRegionale(.auvergneRhoneAlpes), holder: lyon)
        try CardAuthorization.checkRegion(.agenceRegionale(.bretagne), holder: rennesByPostalCode)
        for (region, holder) in [(Region.bretagne, lyon), (.auvergneRhoneAlpes, rennesByPostalCode), (.ileDeFrance, nowhere)] {
            #expect(throws: CardLifecycleError.self) { try CardAuthorization.checkRegion(.agenceRegionale(region), holder: holder) }
        }
        #expect(throws: CardLifecycleError.self) { try CardAuthorization.checkRegion(.agenceRegionale(.ileDeFrance), holder: nil) }
        // Only agencies are concerned.
        try CardAuthorization.checkRegion(.ordre(.cnom), holder: nowhere)
    }
}
