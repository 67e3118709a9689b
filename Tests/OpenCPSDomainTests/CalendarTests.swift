import Foundation
import Testing
@testable import OpenCPSDomain

private func day(_ text: String) -> CivilDate { try! CivilDate(text) }

@Suite("Civil dates")
struct CivilDateTests {
    @Test("a date reads and prints as YYYY-MM-DD")
    func roundTrip() throws {
        #expect(try CivilDate("2026-11-23").description == "2026-11-23")
        #expect(try CivilDate("0001-01-01") == (try CivilDate(year: 1, month: 1, day: 1)))
        #expect(try CivilDate("2000-02-29").weekday == .tuesday)
    }

    @Test("impossible dates and other forms are refused", arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "26-11-23", "2026/11/23", "2026-11-23T00:00"])
    func invalid(text: String) {
        #expect(throws: CivilDateError.self) { try CivilDate(text) }
    }

    @Test("days since the epoch match an independent computation")
    func epoch() {
        // Values from Python's datetime.date arithmetic.
        #expect(day("2026-11-23").daysSinceEpoch == 20780)
        #expect(day("1969-12-31").daysSinceEpoch == -1)
        #expect(day("0001-01-01").daysSinceEpoch == -719_162)
        #expect(CivilDate(daysSinceEpoch: 20780) == day("2026-11-23"))
        #expect(day("2026-11-23").weekday == .monday)
        #expect(day("2024-02-28").adding(days: 1) == day("2024-02-29"))
        #expect(day("2026-12-31").adding(days: 1) == day("2027-01-01"))
        #expect(day("2026-03-01").adding(days: -1) == day("2026-02-28"))
        #expect(day("2026-01-01").days(to: day("2027-01-01")) == 365)
    }

    @Test("every day of four centuries survives the conversion both ways")
    func exhaustive() {
        var previous = CivilDate(daysSinceEpoch: -146_097)
        for days in (-146_096)...146_097 {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            #expect(previous < date)
            previous = date
            if days % 50_000 == 0 { #expect((try? CivilDate(date.description)) == date) }
        }
    }

    @Test("a date is taken from an instant at a fixed offset, without the time zone")
    func fromInstant() {
        let instant = Date(timeIntervalSince1970: 1_795_478_400 - 1800) // 2026-11-23T23:30:00Z
        #expect(CivilDate(instant) == day("2026-11-23"))
        #expect(CivilDate(instant, utcOffsetSeconds: 3600) == day("2026-11-24"))
        #expect(CivilDate(Date(timeIntervalSince1970: -1)) == day("1969-12-31"))
        #expect(day("2026-11-24").startOfDayUTC == Date(timeIntervalSince1970: 1_795_478_400))
    }

    @Test("a date encodes as a string and refuses invalid ones")
    func codable() throws {
        let data = try JSONEncoder().encode([day("2026-05-14")])
        #expect(String(decoding: data, as: UTF8.self) == #"["2026-05-14"]"#)
        #expect(try JSONDecoder().decode([CivilDate].self, from: data) == [day("2026-05-14")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CivilDate].self, from: Data(#"["2026-02-30"]"#.utf8)) }
    }
}

@Suite("French working-day calendar")
struct WorkingDayCalendarTests {
    let calendar = FrenchWorkingDayCalendar()

    @Test("Easter Sunday by the anonymous Gregorian algorithm")
    func easter() {
        // Values from python-dateutil's easter().
        #expect(FrenchWorkingDayCalendar.easterSunday(year: 2024) == day("2024-03-31"))
        #expect(FrenchWorkingDayCalendar.easterSunday(year: 2025) == day("2025-04-20"))
        #expect(FrenchWorkingDayCalendar.easterSunday(year: 2026) == day("2026-04-05"))
        #expect(FrenchWorkingDayCalendar.easterSunday(year: 2027) == day("2027-03-28"))
        #expect(FrenchWorkingDayCalendar.easterSunday(year: 2038) == day("2038-04-25"))
        #expect(FrenchWorkingDayCalendar.easterSunday(year: 2285) == day("2285-03-22"))
    }

    @Test("the public holidays of 2026")
    func holidays2026() {
        let holidays = calendar.holidays(in: 2026)
        #expect(holidays.keys.sorted().map(\.description) == [
            "2026-01-01", "2026-04-06", "2026-05-01", "2026-05-08", "2026-05-14", "2026-05-25",
            "2026-07-14", "2026-08-15", "2026-11-01", "2026-11-11", "2026-12-25",
        ])
        #expect(holidays[day("2026-05-14")] == "Ascension")
        #expect(holidays[day("2026-05-25")] == "Lundi de Pentecôte")
        #expect(holidays[day("2026-12-25")] == "Noël")
    }

    @Test("the public holidays of 2027")
    func holidays2027() {
        #expect(calendar.holidays(in: 2027).keys.sorted().map(\.description) == [
            "2027-01-01", "2027-03-29", "2027-05-01", "2027-05-06", "2027-05-08", "2027-05-17",
            "2027-07-14", "2027-08-15", "2027-11-01", "2027-11-11", "2027-12-25",
        ])
    }

    @Test("Alsace-Moselle adds Good Friday and 26 December")
    func alsaceMoselle() {
        let alsace = FrenchWorkingDayCalendar(alsaceMoselle: true)
        let extra = Set(alsace.holidays(in: 2026).keys).subtracting(calendar.holidays(in: 2026).keys)
        #expect(extra == [day("2026-04-03"), day("2026-12-26")])
        #expect(calendar.adding(workingDays: 1, to: day("2026-04-02")) == day("2026-04-03"))
        #expect(alsace.adding(workingDays: 1, to: day("2026-04-02")) == day("2026-04-07"))
        #expect(calendar.adding(workingDays: 1, to: day("2025-12-24")) == day("2025-12-26"))
        #expect(alsace.adding(workingDays: 1, to: day("2025-12-24")) == day("2025-12-29"))
    }

    @Test("weekends and holidays are not working days; 2026 has 252 working days")
    func workingDays() {
        #expect(!calendar.isWorkingDay(day("2026-11-21")))
        #expect(!calendar.isWorkingDay(day("2026-11-11")))
        #expect(calendar.isWorkingDay(day("2026-11-23")))
        #expect(calendar.workingDays(from: day("2025-12-31"), to: day("2026-12-31")) == 252)
    }

    @Test("adding working days", arguments: [
        ("2026-01-09", 1, "2026-01-12"),   // Friday to Monday
        ("2026-04-30", 3, "2026-05-06"),   // over 1 May and a weekend
        ("2026-04-30", 10, "2026-05-19"),  // over 1 May, 8 May and Ascension (14 May)
        ("2026-05-13", 1, "2026-05-15"),   // over Ascension
        ("2026-05-06", 15, "2026-06-01"),  // over 8 May, Ascension and Whit Monday
        ("2026-12-24", 5, "2027-01-04"),   // over Christmas and New Year
        ("2026-11-23", 8, "2026-12-03"),
        ("2026-11-23", 15, "2026-12-14"),
        ("2026-11-21", 0, "2026-11-21"),
    ])
    func adding(start: String, count: Int, expected: String) {
        let result = calendar.adding(workingDays: count, to: day(start))
        #expect(result == day(expected))
        #expect(calendar.workingDays(from: day(start), to: result) == count)
        #expect(calendar.workingDays(from: result, to: day(start)) == -count)
    }
}
