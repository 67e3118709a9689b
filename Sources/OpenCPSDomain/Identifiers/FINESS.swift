/// A number in the FINESS register of health and social establishments: 9 characters,
/// 8 followed by a Luhn key.
///
/// The first two characters are the department (`2A`/`2B` for Corsica, `97` or `98` for
/// overseas). The key is computed after replacing `2A` by `21` and `2B` by `22`.
public struct FINESS: StringIdentifier {
    /// The 9 characters.
    public let value: String

    /// Reads a FINESS number.
    /// - Throws: ``IdentifierError`` with code `identifier.length`, `identifier.characters`
    ///   or `identifier.check-digit`.
    public init(_ text: String) throws(IdentifierError) {
        guard text.utf8.count == 9, text.count == 9 else { throw .length(.finess, "9 characters", got: text) }
        guard let digits = FINESS.substitutedDigits(text) else {
            throw .characters(.finess, "digits (or 2A/2B as its first two characters)", got: text)
        }
        guard Luhn.isValid(digits) else {
            throw .checkDigit(.finess, text, expected: Luhn.key(for: Array(digits.dropLast())))
        }
        value = text
    }

    /// The FINESS number made of `body` (8 characters, may start with `2A`/`2B`) and its key.
    /// - Returns: nil when `body` is not 8 valid characters.
    public static func withKey(body: String) -> FINESS? {
        guard body.utf8.count == 8, let digits = substitutedDigits(body) else { return nil }
        return try? FINESS(body + String(Luhn.key(for: digits)))
    }

    /// The department part: the first two characters (`25`, `2A`, `97`, ...).
    public var department: String { String(value.prefix(2)) }

    /// The department as a ``DepartmentCode``, when it is one.
    ///
    /// Overseas numbers start with `970` and the department's last digit (`970100228` is in
    /// Guadeloupe, 971); a number starting `971`...`976` is read as that department.
    public var departmentCode: DepartmentCode? {
        let bytes = Array(value.utf8)
        if department == "97" {
            let digit = bytes[2] == UInt8(ascii: "0") ? bytes[3] : bytes[2]
            return try? DepartmentCode("97" + String(UnicodeScalar(digit)))
        }
        return try? DepartmentCode(department)
    }

    /// Digit values with 2A → 21 and 2B → 22, or nil when a character is not allowed.
    static func substitutedDigits(_ text: String) -> [UInt8]? {
        var digits: [UInt8] = []
        digits.reserveCapacity(9)
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case 0x30...0x39: digits.append(byte - 0x30)
            case UInt8(ascii: "A") where index == 1 && digits.first == 2: digits.append(1)
            case UInt8(ascii: "B") where index == 1 && digits.first == 2: digits.append(2)
            default: return nil
            }
        }
        return digits
    }
}
