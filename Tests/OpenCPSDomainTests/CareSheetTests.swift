import Foundation
import OpenCPSDomain
import Testing

/// The care sheet's content: NIR keys (Corsica included), the Vitale identifiers, acts and total,
/// and the canonical JSON that is signed.
@Suite("Care sheet")
struct CareSheetTests {
    func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as CareSheetError { return error.code } catch { return "other" }
        return nil
    }

    // Keys computed independently (Python: 97 - n % 97), 2A read as 19 and 2B as 18.
    @Test("NIR keys: 97 − (NIR mod 97), Corsica's 2A and 2B as INSEE reads them")
    func nirKeys() throws {
        #expect(try NIR(number: "1841276451089", key: "46").description == "184127645108946")
        #expect(try NIR(number: "269052A123456", key: "88").number == "269052A123456")
        #expect(try NIR(number: "269052b123456", key: "18").number == "269052B123456")
        #expect(code { _ = try NIR(number: "1841276451089", key: "47") } == "care-sheet.nir.invalid-key")
        #expect(code { _ = try NIR(number: "269052A123456", key: "18") } == "care-sheet.nir.invalid-key")
        #expect(code { _ = try NIR(number: "18412764510", key: "46") } == "care-sheet.nir.malformed")
        #expect(code { _ = try NIR(number: "18412A6451089", key: "46") } == "care-sheet.nir.malformed")
        #expect(code { _ = try NIR(number: "1841276451089", key: "4") } == "care-sheet.nir.malformed")
    }

    @Test("the Vitale identifiers, the acts and the total are checked; the canonical JSON parses back")
    func content() throws {
        let nir = try NIR(number: "1841276451089", key: "46")
        let beneficiary = try VitaleBeneficiary(nir: nir, birthDate: "19841200", rank: 1)
        #expect(code { _ = try VitaleBeneficiary(nir: nir, birthDate: "19841301", rank: 1) } == "care-sheet.beneficiary.birth-date-invalid")
        #expect(code { _ = try VitaleBeneficiary(nir: nir, birthDate: "19841201", rank: 0) } == "care-sheet.beneficiary.rank-invalid")
        let sheet = try CareSheet(beneficiary: beneficiary, professionalIdNat: "810100271385", careDate: "2026-12-04",
                                  acts: [BilledAct(code: "G", quantity: 1, amountCents: 3000), BilledAct(code: "YYYY010", quantity: 2, amountCents: 1500)])
        #expect(sheet.totalCents == 4500)
        let json = String(decoding: sheet.canonicalJSON(), as: UTF8.self)
        #expect(json.hasPrefix(#"{"acts":[{"amountCents":3000,"code":"G","quantity":1}"#))
        #expect(try CareSheet.parse(sheet.canonicalJSON()) == sheet)
        #expect(code { _ = try CareSheet(beneficiary: beneficiary, professionalIdNat: "810100271385", careDate: "2026-02-30", acts: sheet.acts) }
            == "care-sheet.care-date-invalid")
        #expect(code { _ = try CareSheet(beneficiary: beneficiary, professionalIdNat: "810100271385", careDate: "2026-12-04", acts: []) }
            == "care-sheet.acts-missing")
        #expect(code { _ = try CareSheet.parse(Array(json.replacingOccurrences(of: #""totalCents":4500"#, with: #""totalCents":4600"#).utf8)) }
            == "care-sheet.total-mismatch")
        #expect(code { _ = try CareSheet.parse(Array(json.replacingOccurrences(of: #""key":"46""#, with: #""key":"45""#).utf8)) }
            == "care-sheet.nir.invalid-key")
        #expect(code { _ = try CareSheet.parse(Array("not json".utf8)) } == "care-sheet.malformed")
    }
}
