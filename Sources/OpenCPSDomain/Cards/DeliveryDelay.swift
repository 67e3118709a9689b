/// How an order is delivered: in the promised standard delay, or by the express path.
public enum DeliveryPath: String, Hashable, Sendable, Codable, CaseIterable {
    /// The standard path: 8 to 15 working days after validation of a complete file.
    case standard
    /// The express path, for a proven emergency, handled by the help desk (*guichet unique*).
    case express
}

/// The delivery delay of a card: a number of working days (French public holidays excluded)
/// after the validation of a complete file.
///
/// The standard window is 8 to 15 working days by default; the promise made to the holder is
/// the window's upper bound (``latestWorkingDays``). The express delay is a configurable
/// default of 2 working days: it is this project's figure, not an official one.
public struct DeliveryDelay: Hashable, Sendable {
    /// The default standard window, in working days.
    public static let defaultWindow = 8...15
    /// The default express delay, in working days (a configurable default, not an official figure).
    public static let defaultExpressWorkingDays = 2

    /// The fewest working days a standard delivery takes.
    public let earliestWorkingDays: Int
    /// The most working days a standard delivery takes: the promised maximum.
    public let latestWorkingDays: Int
    /// The working days an express delivery takes.
    public let expressWorkingDays: Int
    /// The calendar that says which days are worked.
    public let calendar: FrenchWorkingDayCalendar

    /// Creates a delay.
    /// - Parameters:
    ///   - window: the standard window, in working days (default 8...15).
    ///   - expressWorkingDays: the express delay, in working days (default 2).
    ///   - calendar: the working-day calendar (Alsace-Moselle adds two holidays).
    /// - Throws: ``CardLifecycleError`` with code `card.configuration-invalid` when the window
    ///   starts below 1 day or the express delay is below 1 day or longer than the window's start.
    public init(
        window: ClosedRange<Int> = DeliveryDelay.defaultWindow,
        expressWorkingDays: Int = DeliveryDelay.defaultExpressWorkingDays,
        calendar: FrenchWorkingDayCalendar = FrenchWorkingDayCalendar()
    ) throws(CardLifecycleError) {
        guard window.lowerBound >= 1 else {
            throw .configuration("the delivery window starts at 1 working day or more, got \(window.lowerBound)")
        }
        guard expressWorkingDays >= 1, expressWorkingDays <= window.lowerBound else {
            throw .configuration(
                "the express delay is 1 to \(window.lowerBound) working days (no longer than the standard window's start), got \(expressWorkingDays)")
        }
        self.earliestWorkingDays = window.lowerBound
        self.latestWorkingDays = window.upperBound
        self.expressWorkingDays = expressWorkingDays
        self.calendar = calendar
    }

    /// The default delay: 8 to 15 working days, 2 by the express path, national holidays.
    public static let standard = try! DeliveryDelay()

    /// The standard window, in working days.
    public var window: ClosedRange<Int> { earliestWorkingDays...latestWorkingDays }

    /// The earliest day a standard delivery is expected.
    /// - Parameter validatedOn: the day the complete file was validated.
    public func earliest(validatedOn: CivilDate) -> CivilDate {
        calendar.adding(workingDays: earliestWorkingDays, to: validatedOn)
    }

    /// The latest day a standard delivery is promised.
    /// - Parameter validatedOn: the day the complete file was validated.
    public func latest(validatedOn: CivilDate) -> CivilDate {
        calendar.adding(workingDays: latestWorkingDays, to: validatedOn)
    }

    /// The deadline of an order.
    /// - Parameters:
    ///   - validatedOn: the day the complete file was validated.
    ///   - path: standard or express.
    /// - Returns: the deadline: ``latest(validatedOn:)`` for the standard path, the express delay
    ///   after validation otherwise.
    public func deadline(validatedOn: CivilDate, path: DeliveryPath) -> DeliveryDeadline {
        switch path {
        case .standard:
            DeliveryDeadline(validatedOn: validatedOn, path: path, earliest: earliest(validatedOn: validatedOn),
                             due: latest(validatedOn: validatedOn), calendar: calendar)
        case .express:
            DeliveryDeadline(validatedOn: validatedOn, path: path, earliest: nil,
                             due: calendar.adding(workingDays: expressWorkingDays, to: validatedOn), calendar: calendar)
        }
    }
}

/// The deadline of one order, computed by ``DeliveryDelay/deadline(validatedOn:path:)``.
public struct DeliveryDeadline: Hashable, Sendable {
    /// The day the complete file was validated.
    public let validatedOn: CivilDate
    /// Standard or express.
    public let path: DeliveryPath
    /// The earliest expected day, for the standard path.
    public let earliest: CivilDate?
    /// The last day the card is promised by.
    public let due: CivilDate
    /// The calendar the deadline was computed with.
    public let calendar: FrenchWorkingDayCalendar

    /// Whether the card is late on `date`: the due day has passed (the due day itself is not late).
    /// - Parameter date: the day to judge, usually today.
    public func isOverdue(on date: CivilDate) -> Bool {
        date > due
    }

    /// The working days after `date` up to and including the due day, counted as
    /// ``FrenchWorkingDayCalendar/workingDays(from:to:)`` does: zero on the due day, and zero or
    /// negative once it has passed.
    /// - Parameter date: the day to count from, usually today.
    public func workingDaysLeft(on date: CivilDate) -> Int {
        calendar.workingDays(from: date, to: due)
    }
}
