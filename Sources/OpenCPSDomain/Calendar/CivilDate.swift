public import Foundation

/// A day in the proleptic Gregorian calendar, without time or time zone.
///
/// Arithmetic is pure (days from the civil date, after Howard Hinnant's algorithms), so
/// results never depend on the machine's time zone. Encodes as `YYYY-MM-DD`.
public struct CivilDate: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The year, 1...9999.
    public let year: Int
    /// The month, 1...12.
    public let month: Int
    /// The day of the month, 1...31.
    public let day: Int

    /// Creates a date.
    /// - Throws: ``CivilDateError`` with code `date.invalid` when the day does not exist.
    public init(year: Int, month: Int, day: Int) throws(CivilDateError) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= CivilDate.daysInMonth(year: year, month: month) else {
            throw CivilDateError(code: "date.invalid", reason: "\(year)-\(month)-\(day) is not a day of the calendar")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads a date written `YYYY-MM-DD`.
    /// - Throws: ``CivilDateError`` with code `date.format` or `date.invalid`.
    public init(_ text: String) throws(CivilDateError) {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else {
            throw CivilDateError(code: "date.format", reason: "a date is written YYYY-MM-DD, got \"\(text)\"")
        }
        try self.init(year: year, month: month, day: day)
    }

    /// The date `daysSinceEpoch` days after 1970-01-01 (negative before).
    public init(daysSinceEpoch: Int) {
        // civil_from_days (H. Hinnant).
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        self.day = day
    }

    /// The day a point in time falls on, at a fixed offset from UTC.
    /// - Parameters:
    ///   - date: the instant.
    ///   - utcOffsetSeconds: the offset of the wanted local time (3600 for CET in winter).
    public init(_ date: Date, utcOffsetSeconds: Int = 0) {
        self = Self.dayAndSecond(of: date, utcOffsetSeconds: utcOffsetSeconds).day
    }

    /// The day a point in time falls on and the second of that day (0..<86,400), at a fixed
    /// offset from UTC, the fraction of a second dropped: what a time stamp to the second
    /// writes, without a `Calendar`.
    /// - Parameters:
    ///   - date: the instant.
    ///   - utcOffsetSeconds: the offset of the wanted local time (0 for UTC).
    public static func dayAndSecond(of date: Date, utcOffsetSeconds: Int = 0) -> (day: CivilDate, secondOfDay: Int) {
        dayAndSecond(ofSecondsSince1970: Int(date.timeIntervalSince1970.rounded(.down)) + utcOffsetSeconds)
    }

    /// The day and the second of that day (0..<86,400) of a whole number of seconds since
    /// 1970-01-01T00:00:00 (negative before), for callers that round a `Date` their own way.
    public static func dayAndSecond(ofSecondsSince1970 seconds: Int) -> (day: CivilDate, secondOfDay: Int) {
        let (days, second) = seconds.quotientAndRemainder(dividingBy: 86_400)
        return second < 0
            ? (CivilDate(daysSinceEpoch: days - 1), second + 86_400)
            : (CivilDate(daysSinceEpoch: days), second)
    }

    /// The number of days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        // days_from_civil (H. Hinnant).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> CivilDate {
        CivilDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// The number of days from `self` to `other` (negative when `other` is earlier).
    public func days(to other: CivilDate) -> Int {
        other.daysSinceEpoch - daysSinceEpoch
    }

    /// The day of the week.
    public var weekday: Weekday {
        // 1970-01-01 was a Thursday (ISO 4).
        let iso = ((daysSinceEpoch + 3) % 7 + 7) % 7 + 1
        return Weekday(rawValue: iso)!
    }

    /// Whether the day is a Saturday or a Sunday.
    public var isWeekend: Bool { weekday == .saturday || weekday == .sunday }

    /// Midnight UTC at the start of the day.
    public var startOfDayUTC: Date {
        Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch) * 86_400)
    }

    /// The number of days in a month.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Whether a year of the Gregorian calendar is a leap year.
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// Compares dates chronologically.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// The date as `YYYY-MM-DD`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Decodes a date from `YYYY-MM-DD`, refusing other forms.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do throws(CivilDateError) {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.reason, underlyingError: error))
        }
    }

    /// Encodes the date as `YYYY-MM-DD`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A day of the week, numbered as in ISO 8601 (Monday 1 ... Sunday 7).
public enum Weekday: Int, Hashable, Sendable, Codable, CaseIterable {
    /// Lundi.
    case monday = 1
    /// Mardi.
    case tuesday
    /// Mercredi.
    case wednesday
    /// Jeudi.
    case thursday
    /// Vendredi.
    case friday
    /// Samedi.
    case saturday
    /// Dimanche.
    case sunday
}

/// Why a text or numbers are not a calendar date.
public struct CivilDateError: DomainError, Equatable {
    /// `date.format` or `date.invalid`.
    public let code: String
    /// What is wrong.
    public let reason: String

    /// Creates a date error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}
