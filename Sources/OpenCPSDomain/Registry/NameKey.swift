/// The normalised form of a name that the registry sorts and searches by.
///
/// Upper case, accents and other marks removed, every run of anything but letters and
/// digits folded to one space. `"Lévêque-d'Hérouville, Zoé"` becomes
/// `"LEVEQUE D HEROUVILLE ZOE"`, so a search for `leveque` or `LÉVÊQUE` finds it.
public enum NameKey {
    /// The key of a professional: last name, then first name.
    public static func make(lastName: String, firstName: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lastName.utf8.count + firstName.utf8.count + 1)
        appendNormalised(lastName, to: &bytes)
        let lastEnd = bytes.count
        bytes.append(UInt8(ascii: " "))
        appendNormalised(firstName, to: &bytes)
        if bytes.count == lastEnd + 1 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The normalised form of any text (used for search prefixes too).
    public static func normalise(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        appendNormalised(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the normalised form of `text` to `bytes` (UTF-8). A bulk import computes a key
    /// per professional and structure: ASCII letters, digits and separators, most of any
    /// French name, are folded here byte by byte; only other characters go through ``fold(_:)``.
    private static func appendNormalised(_ text: String, to bytes: inout [UInt8]) {
        let start = bytes.count
        var pendingSpace = false
        /// Writes the space a run of separators left, before the next folded character.
        func endSeparator() {
            if pendingSpace {
                bytes.append(UInt8(ascii: " "))
                pendingSpace = false
            }
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                let byte = UInt8(value)
                let folded: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"): folded = byte
                case UInt8(ascii: "a")...UInt8(ascii: "z"): folded = byte - 32
                default:
                    pendingSpace = bytes.count > start
                    continue
                }
                endSeparator()
                bytes.append(folded)
            } else if let folded = fold(scalar) {
                endSeparator()
                bytes.append(contentsOf: folded.utf8)
            } else {
                pendingSpace = bytes.count > start
            }
        }
    }

    /// The folded form of a character outside ASCII: its Latin base letters, nothing for a
    /// combining mark, its upper case for another letter, nil for a separator.
    private static func fold(_ scalar: Unicode.Scalar) -> String? {
        if let base = latinBase[scalar] { return base }
        // Combining marks (a decomposed accent) vanish without breaking the word.
        if (0x300...0x36F).contains(scalar.value) { return "" }
        if scalar.properties.isAlphabetic { return String(scalar).uppercased() }
        return nil
    }

    private static let latinBase: [Unicode.Scalar: String] = {
        let table: [(String, String)] = [
            ("ÀÁÂÃÄÅàáâãäå", "A"), ("ÆæǼǽ", "AE"), ("Çç", "C"), ("ÈÉÊËèéêë", "E"), ("ÌÍÎÏìíîï", "I"),
            ("Ññ", "N"), ("ÒÓÔÕÖØòóôõöø", "O"), ("Œœ", "OE"), ("ÙÚÛÜùúûü", "U"), ("ÝŸýÿ", "Y"), ("ß", "SS"),
        ]
        var map: [Unicode.Scalar: String] = [:]
        for (letters, base) in table {
            for scalar in letters.unicodeScalars { map[scalar] = base }
        }
        return map
    }()
}
