/// The Luhn (mod 10) check used by RPPS, FINESS, SIREN and SIRET numbers.
enum Luhn {
    /// The sum of the Luhn weighted digits, the rightmost digit having weight 1.
    ///
    /// `digits` are values 0...9, not ASCII.
    @inline(__always)
    static func sum(_ digits: some Sequence<UInt8>, count: Int) -> Int {
        var total = 0
        var index = 0
        for digit in digits {
            // Positions counted from the right: the last digit is at position 0.
            let fromRight = count - 1 - index
            var value = Int(digit)
            if fromRight & 1 == 1 {
                value &*= 2
                if value > 9 { value -= 9 }
            }
            total &+= value
            index += 1
        }
        return total
    }

    /// Whether `digits` (values 0...9) pass the Luhn check.
    static func isValid(_ digits: [UInt8]) -> Bool {
        sum(digits, count: digits.count) % 10 == 0
    }

    /// The key to append to `digits` (values 0...9) so that the whole passes the Luhn check.
    static func key(for digits: [UInt8]) -> UInt8 {
        // With the key appended every digit moves one place left.
        let total = sum(digits, count: digits.count + 1)
        return UInt8((10 - total % 10) % 10)
    }
}

/// Reading helpers shared by the identifier types.
enum DigitText {
    /// The digit values of `text` when it is made of ASCII digits only, else nil.
    static func digits(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            result.append(byte - 0x30)
        }
        return result
    }

    /// Checks that `text` has `count` ASCII digits and returns their values.
    static func exactDigits(_ text: String, count: Int, kind: IdentifierKind) throws(IdentifierError) -> [UInt8] {
        guard text.utf8.count == count, text.count == count else {
            throw .length(kind, "\(count) digits", got: text)
        }
        guard let digits = digits(text) else { throw .characters(kind, "digits", got: text) }
        return digits
    }

    /// Checks that `text` has `count` ASCII digits passing the Luhn check and returns their values.
    static func luhnDigits(_ text: String, count: Int, kind: IdentifierKind) throws(IdentifierError) -> [UInt8] {
        let digits = try exactDigits(text, count: count, kind: kind)
        guard Luhn.isValid(digits) else {
            throw .checkDigit(kind, text, expected: Luhn.key(for: Array(digits.dropLast())))
        }
        return digits
    }
}
