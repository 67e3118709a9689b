/// A number in the RPPS register (*Répertoire partagé des professionnels de santé*):
/// 11 digits, a 10-digit sequence followed by a Luhn key computed over all 11.
public struct RPPS: StringIdentifier {
    /// The 11 digits.
    public let value: String

    /// Reads an RPPS number.
    /// - Throws: ``IdentifierError`` with code `identifier.length`, `identifier.characters`
    ///   or `identifier.check-digit`.
    public init(_ text: String) throws(IdentifierError) {
        _ = try DigitText.luhnDigits(text, count: 11, kind: .rpps)
        value = text
    }

    /// The RPPS number whose first 10 digits are `sequence`, with its Luhn key appended.
    /// - Returns: nil when `sequence` is not 10 ASCII digits.
    public static func withKey(sequence: String) -> RPPS? {
        guard sequence.utf8.count == 10, let digits = DigitText.digits(sequence) else { return nil }
        return try? RPPS(sequence + String(Luhn.key(for: digits)))
    }
}

/// An activity number in the RPPS register (*RPPS rang*): 14 digits, the person's RPPS,
/// a 2-digit rank and a Luhn key computed over all 14.
public struct RPPSRang: StringIdentifier {
    /// The 14 digits.
    public let value: String

    /// Reads an RPPS rang; its first 11 digits must themselves be a valid RPPS number.
    /// - Throws: ``IdentifierError`` with code `identifier.length`, `identifier.characters`
    ///   or `identifier.check-digit`.
    public init(_ text: String) throws(IdentifierError) {
        _ = try DigitText.luhnDigits(text, count: 14, kind: .rppsRang)
        do throws(IdentifierError) {
            _ = try RPPS(String(text.prefix(11)))
        } catch {
            throw IdentifierError(kind: .rppsRang, code: error.code, reason: "RPPS rang \(text): \(error.reason)")
        }
        value = text
    }

    /// The RPPS number of the person.
    public var rpps: RPPS { try! RPPS(String(value.prefix(11))) }

    /// The rank of the activity (the 12th and 13th digits), 0...99.
    public var rank: Int { Int(value.dropFirst(11).prefix(2))! }
}

/// A number in the legacy ADELI register (*Automatisation des listes*): 9 characters.
///
/// The ADELI register closed in 2024 but its numbers remain on old cards and in the
/// directory. The usual reading is department (2) + profession (2) + sequence (4) + key (1),
/// where Corsican numbers may carry `2A` or `2B` as the department. The key's algorithm is
/// not published, so only the format is checked: 9 ASCII digits, or `2A`/`2B` followed by
/// 7 digits. Leading zeros are significant (`012600631`).
public struct ADELI: StringIdentifier {
    /// The 9 characters.
    public let value: String

    /// Reads an ADELI number (format only, see the type's documentation).
    /// - Throws: ``IdentifierError`` with code `identifier.length` or `identifier.characters`.
    public init(_ text: String) throws(IdentifierError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 9, text.count == 9 else { throw .length(.adeli, "9 characters", got: text) }
        let corsican = bytes[0] == UInt8(ascii: "2") && (bytes[1] == UInt8(ascii: "A") || bytes[1] == UInt8(ascii: "B"))
        for (index, byte) in bytes.enumerated() where !(corsican && index == 1) {
            guard byte >= 0x30, byte <= 0x39 else {
                throw .characters(.adeli, "digits (or 2A/2B as its first two characters)", got: text)
            }
        }
        value = text
    }

    /// The department part: the first two characters.
    public var departmentPart: String { String(value.prefix(2)) }
}
