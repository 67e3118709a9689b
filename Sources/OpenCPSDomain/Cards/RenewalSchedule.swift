/// A reminder sent to a holder before their card expires. The raw values are stable keys.
public enum RenewalReminder: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// Three months before expiry, when the renewal window opens.
    case threeMonths = "m3"
    /// One month before expiry.
    case oneMonth = "m1"
    /// One week before expiry.
    case oneWeek = "w1"

    /// The stable key: `m3`, `m1` or `w1`.
    public var key: String { rawValue }

    /// The day of the reminder for a card that expires on `expiry`: the same day of the month
    /// 3 or 1 months before (the month's last day when it is shorter), or 7 days before.
    public func date(expiringOn expiry: CivilDate) -> CivilDate {
        switch self {
        case .threeMonths: expiry.adding(months: -3)
        case .oneMonth: expiry.adding(months: -1)
        case .oneWeek: expiry.adding(days: -7)
        }
    }

    /// Orders reminders by when they are sent: `m3`, `m1`, `w1`.
    public static func < (lhs: RenewalReminder, rhs: RenewalReminder) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// When a card's renewal opens and when its holder is reminded.
///
/// Renewal opens 3 months before expiry (DESIGN.md §1; configurable). Reminders go 3 months,
/// 1 month and 1 week before expiry, each at most once, and never on or after the expiry day.
public struct RenewalSchedule: Hashable, Sendable {
    /// The months before expiry when renewal opens by default: 3 (DESIGN.md §1).
    public static let standardWindowMonths = 3

    /// The last day of the card's validity.
    public let expiresOn: CivilDate
    /// How many months before expiry the renewal window opens.
    public let windowMonths: Int

    /// Creates the schedule of a card.
    /// - Parameters:
    ///   - expiresOn: the card's expiry date (*date de fin de validité*).
    ///   - windowMonths: how many months before expiry renewal opens (3 by default).
    public init(expiresOn: CivilDate, windowMonths: Int = standardWindowMonths) {
        self.expiresOn = expiresOn
        self.windowMonths = windowMonths
    }

    /// The first day a renewal can be ordered: ``windowMonths`` before expiry, on the same day
    /// of the month (the month's last day when it is shorter).
    public var windowOpensOn: CivilDate { expiresOn.adding(months: -windowMonths) }

    /// Whether a renewal can be ordered on `date`: from ``windowOpensOn`` on, expiry day included.
    public func isWindowOpen(on date: CivilDate) -> Bool {
        date >= windowOpensOn && date <= expiresOn
    }

    /// The day of each reminder.
    public var reminderDates: [RenewalReminder: CivilDate] {
        Dictionary(uniqueKeysWithValues: RenewalReminder.allCases.map { ($0, $0.date(expiringOn: expiresOn)) })
    }

    /// The reminder to send on `date`, if any.
    ///
    /// It is the latest reminder whose day has come, before the expiry day, when neither it nor
    /// a later one was sent. A missed reminder is skipped once a later one is due, so a holder
    /// never gets two reminders at once, and each is due once: after sending it, the caller
    /// adds it to `alreadySent`.
    /// - Parameters:
    ///   - date: the day the reminder job runs.
    ///   - alreadySent: the reminders already sent for this card.
    /// - Returns: the reminder to send, or `nil`.
    public func dueReminder(on date: CivilDate, alreadySent: Set<RenewalReminder>) -> RenewalReminder? {
        guard date < expiresOn else { return nil }
        guard let latest = RenewalReminder.allCases.last(where: { $0.date(expiringOn: expiresOn) <= date }) else { return nil }
        guard !alreadySent.contains(where: { $0 >= latest }) else { return nil }
        return latest
    }
}
