/// The serial number of a card: 10 digits, such as `3100345668`.
///
/// The format is not officially confirmed: the only published example has 10 digits and no
/// check digit is known, so none is checked. Encodes as its string.
public struct CardSerial: StringIdentifier, Comparable {
    /// The number of digits of a serial.
    public static let length = 10

    /// The serial, 10 ASCII digits.
    public let value: String

    /// Reads a serial.
    /// - Throws: ``CardLifecycleError`` with code `card.serial-length` or `card.serial-characters`.
    public init(_ text: String) throws(CardLifecycleError) {
        guard text.count == CardSerial.length else {
            throw CardLifecycleError(
                code: "card.serial-length", reason: "a card serial has \(CardSerial.length) digits, got \(text.count) characters")
        }
        guard text.utf8.count == CardSerial.length,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw CardLifecycleError(code: "card.serial-characters", reason: "a card serial has the digits 0 to 9 only, got \"\(text)\"")
        }
        self.value = text
    }

    /// The serial of a sequence number, padded with zeros to 10 digits.
    /// - Throws: ``CardLifecycleError`` with code `card.serial-length` when the number is
    ///   negative or has more than 10 digits.
    public init(number: Int) throws(CardLifecycleError) {
        guard number >= 0, number <= 9_999_999_999 else {
            throw CardLifecycleError(code: "card.serial-length", reason: "a card serial is 0 to 9999999999, got \(number)")
        }
        let digits = String(number)
        try self.init(String(repeating: "0", count: CardSerial.length - digits.count) + digits)
    }

    /// Orders serials numerically (they all have the same length).
    public static func < (lhs: CardSerial, rhs: CardSerial) -> Bool { lhs.value < rhs.value }
}

/// How long a card is valid: 5 years by default (configurable).
public struct CardValidity: Hashable, Sendable {
    /// The default validity, in years.
    public static let defaultYears = 5

    /// The validity, in years.
    public let years: Int

    /// Creates a validity.
    /// - Throws: ``CardLifecycleError`` with code `card.configuration-invalid` when `years` is
    ///   not 1 to 30.
    public init(years: Int = CardValidity.defaultYears) throws(CardLifecycleError) {
        guard (1...30).contains(years) else {
            throw .configuration("a card is valid for 1 to 30 years, got \(years)")
        }
        self.years = years
    }

    /// The default validity, 5 years.
    public static let standard = try! CardValidity()

    /// The expiry date of a card valid from `start`: the same day `years` later, as on the
    /// published example (2024-02-21 → 2027-02-21); a card starting on 29 February ends on
    /// 28 February.
    public func expiry(from start: CivilDate) -> CivilDate {
        start.adding(months: 12 * years)
    }
}
