/// The working days in France: Monday to Friday, except public holidays.
///
/// Public holidays: 1 January, Easter Monday, 1 May, 8 May, Ascension (Easter + 39),
/// Whit Monday (Easter + 50), 14 July, 15 August, 1 November, 11 November, 25 December.
/// Alsace-Moselle adds Good Friday and 26 December. Easter follows the anonymous
/// Gregorian algorithm (Meeus/Jones/Butcher).
public struct FrenchWorkingDayCalendar: Hashable, Sendable {
    /// Whether the local law of Alsace-Moselle applies (Bas-Rhin, Haut-Rhin, Moselle).
    public let alsaceMoselle: Bool

    /// Creates the calendar.
    /// - Parameter alsaceMoselle: add Good Friday and 26 December (departments 57, 67, 68).
    public init(alsaceMoselle: Bool = false) {
        self.alsaceMoselle = alsaceMoselle
    }

    /// Easter Sunday of a Gregorian year.
    public static func easterSunday(year: Int) -> CivilDate {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return try! CivilDate(year: year, month: month, day: day)
    }

    /// The public holidays of a year, with their French names.
    public func holidays(in year: Int) -> [CivilDate: String] {
        var result: [CivilDate: String] = [:]
        for (date, name) in holidayList(year) { result[date] = name }
        return result
    }

    /// Whether a day is neither a weekend day nor a public holiday.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        !date.isWeekend && !isHoliday(date)
    }

    /// Whether a day is a public holiday.
    public func isHoliday(_ date: CivilDate) -> Bool {
        switch (date.month, date.day) {
        case (1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25): return true
        case (12, 26): return alsaceMoselle
        case (3, _), (4, _), (5, _), (6, _):
            let offset = FrenchWorkingDayCalendar.easterSunday(year: date.year).days(to: date)
            return offset == 1 || offset == 39 || offset == 50 || (alsaceMoselle && offset == -2)
        default: return false
        }
    }

    /// The `n`-th working day strictly after `date`; `date` itself when `n` is 0.
    /// - Precondition: `n >= 0`.
    public func adding(workingDays n: Int, to date: CivilDate) -> CivilDate {
        precondition(n >= 0, "the number of working days to add cannot be negative")
        var current = date
        var remaining = n
        while remaining > 0 {
            current = current.adding(days: 1)
            if isWorkingDay(current) { remaining -= 1 }
        }
        return current
    }

    /// The number of working days after `start` up to and including `end`, so that
    /// `workingDays(from: d, to: adding(workingDays: n, to: d)) == n`.
    /// Negative when `end` is before `start`.
    public func workingDays(from start: CivilDate, to end: CivilDate) -> Int {
        if end < start { return -workingDays(from: end, to: start) }
        var count = 0
        var current = start
        while current < end {
            current = current.adding(days: 1)
            if isWorkingDay(current) { count += 1 }
        }
        return count
    }

    private func holidayList(_ year: Int) -> [(CivilDate, String)] {
        func day(_ month: Int, _ day: Int) -> CivilDate { try! CivilDate(year: year, month: month, day: day) }
        let easter = FrenchWorkingDayCalendar.easterSunday(year: year)
        var list: [(CivilDate, String)] = [
            (day(1, 1), "Jour de l'an"),
            (easter.adding(days: 1), "Lundi de Pâques"),
            (day(5, 1), "Fête du Travail"),
            (day(5, 8), "Victoire 1945"),
            (easter.adding(days: 39), "Ascension"),
            (easter.adding(days: 50), "Lundi de Pentecôte"),
            (day(7, 14), "Fête nationale"),
            (day(8, 15), "Assomption"),
            (day(11, 1), "Toussaint"),
            (day(11, 11), "Armistice 1918"),
            (day(12, 25), "Noël"),
        ]
        if alsaceMoselle {
            list.append((easter.adding(days: -2), "Vendredi saint"))
            list.append((day(12, 26), "Saint-Étienne"))
        }
        return list
    }
}
