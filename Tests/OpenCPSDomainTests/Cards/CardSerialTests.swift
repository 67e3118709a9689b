import Foundation
import Testing
@testable import OpenCPSDomain

private func day(_ text: String) -> CivilDate { try! CivilDate(text) }

@Suite("Card serial and validity")
struct CardSerialTests {
    @Test("a serial is 10 digits, such as the published example")
    func valid() throws {
        #expect(try CardSerial("3100345668").value == "3100345668")
        #expect(try CardSerial(number: 42).value == "0000000042")
        #expect(try CardSerial(number: 9_999_999_999).value == "9999999999")
        #expect(try CardSerial("0000000001") < CardSerial("1000000000"))
    }

    @Test("other inputs are refused precisely", arguments: [
        ("310034566", "card.serial-length"), ("31003456680", "card.serial-length"), ("", "card.serial-length"),
        ("310034566A", "card.serial-characters"), ("31003456 8", "card.serial-characters"), ("３100345668", "card.serial-characters"),
    ])
    func invalid(text: String, code: String) {
        #expect { try CardSerial(text) } throws: { ($0 as? CardLifecycleError)?.code == code }
    }

    @Test("numbers out of range are refused")
    func numbers() {
        #expect { try CardSerial(number: -1) } throws: { ($0 as? CardLifecycleError)?.code == "card.serial-length" }
        #expect { try CardSerial(number: 10_000_000_000) } throws: { ($0 as? CardLifecycleError)?.code == "card.serial-length" }
    }

    @Test("a serial encodes as a string and refuses invalid ones")
    func codable() throws {
        let data = try JSONEncoder().encode([try CardSerial("3100345668")])
        #expect(String(decoding: data, as: UTF8.self) == #"["3100345668"]"#)
        #expect(try JSONDecoder().decode([CardSerial].self, from: data) == [try CardSerial("3100345668")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CardSerial].self, from: Data(#"["31003456"]"#.utf8)) }
    }

    @Test("a card is valid 5 years by default, to the same day")
    func validity() throws {
        #expect(CardValidity.standard.years == 5)
        #expect(CardValidity.standard.expiry(from: day("2026-05-06")) == day("2031-05-06"))
        #expect(CardValidity.standard.expiry(from: day("2024-02-29")) == day("2029-02-28"))
        #expect(try CardValidity(years: 3).expiry(from: day("2024-02-21")) == day("2027-02-21"))
        #expect { try CardValidity(years: 0) } throws: { ($0 as? CardLifecycleError)?.code == "card.configuration-invalid" }
    }

    @Test("adding months keeps the day or clamps to the month's end")
    func months() {
        #expect(day("2024-03-31").adding(months: -1) == day("2024-02-29"))
        #expect(day("2025-01-15").adding(months: -3) == day("2024-10-15"))
        #expect(day("2026-12-31").adding(months: 2) == day("2027-02-28"))
        #expect(day("2026-05-06").adding(months: 0) == day("2026-05-06"))
        #expect(day("9999-12-31").adding(months: 1) == CivilDate(daysSinceEpoch: day("9999-12-31").daysSinceEpoch + 31))
    }
}
