/// A company number in the SIRENE register (SIREN): 9 digits whose last is a Luhn key.
public struct SIREN: StringIdentifier {
    /// The 9 digits.
    public let value: String

    /// Reads a SIREN number.
    /// - Throws: ``IdentifierError`` with code `identifier.length`, `identifier.characters`
    ///   or `identifier.check-digit`.
    public init(_ text: String) throws(IdentifierError) {
        _ = try DigitText.luhnDigits(text, count: 9, kind: .siren)
        value = text
    }

    /// The SIREN of La Poste, whose establishments (SIRET) follow their own check rule.
    public static let laPoste = "356000000"

    /// The SIRET of La Poste's head office, which keeps the Luhn key.
    public static let laPosteHeadOffice = "35600000000048"
}

/// An establishment number in the SIRENE register (SIRET): 14 digits, the company's SIREN
/// followed by a 5-digit establishment number (NIC).
///
/// The 14 digits pass the Luhn check, except for La Poste (SIREN `356000000`), whose
/// establishments are too many for the key: their SIRET is valid when the sum of its digits
/// is a multiple of 5. La Poste's head office, `35600000000048`, keeps the Luhn key (its
/// digits add up to 26).
public struct SIRET: StringIdentifier {
    /// The 14 digits.
    public let value: String

    /// Reads a SIRET; its first 9 digits must be a valid SIREN.
    /// - Throws: ``IdentifierError`` with code `identifier.length`, `identifier.characters`
    ///   or `identifier.check-digit`.
    public init(_ text: String) throws(IdentifierError) {
        let digits = try DigitText.exactDigits(text, count: 14, kind: .siret)
        let sirenText = String(text.prefix(9))
        if sirenText == SIREN.laPoste, text != SIREN.laPosteHeadOffice {
            let sum = digits.reduce(0) { $0 + Int($1) }
            guard sum % 5 == 0 else {
                throw IdentifierError(
                    kind: .siret, code: "identifier.check-digit",
                    reason: "the digits of La Poste SIRET \(text) should add up to a multiple of 5, got \(sum)")
            }
        } else {
            guard Luhn.isValid(digits) else {
                throw .checkDigit(.siret, text, expected: Luhn.key(for: Array(digits.dropLast())))
            }
            do throws(IdentifierError) {
                _ = try SIREN(sirenText)
            } catch {
                throw IdentifierError(kind: .siret, code: error.code, reason: "SIRET \(text): \(error.reason)")
            }
        }
        value = text
    }

    /// The SIRET made of `siren` and the first 4 digits of its NIC, the last digit chosen
    /// so that the whole passes the Luhn check.
    /// - Returns: nil when `nicPrefix` is not 4 digits or `siren` is La Poste's.
    public static func withKey(siren: SIREN, nicPrefix: String) -> SIRET? {
        guard siren.value != SIREN.laPoste, nicPrefix.utf8.count == 4,
              let digits = DigitText.digits(siren.value + nicPrefix) else { return nil }
        return try? SIRET(siren.value + nicPrefix + String(Luhn.key(for: digits)))
    }

    /// The company's SIREN (the first 9 digits).
    public var siren: SIREN { try! SIREN(String(value.prefix(9))) }

    /// The establishment number (*NIC*, the last 5 digits).
    public var nic: String { String(value.suffix(5)) }
}
