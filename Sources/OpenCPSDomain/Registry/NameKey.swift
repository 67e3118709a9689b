/// The normalised form of a name that the registry sorts and searches by.
///
/// Upper case, accents and other marks removed, every run of anything but letters and
/// digits folded to one space. `"Lévêque-d'Hérouville, Zoé"` becomes
/// `"LEVEQUE D HEROUVILLE ZOE"`, so a search for `leveque` or `LÉVÊQUE` finds it.
public enum NameKey {
    /// The key of a professional: last name, then first name.
    public static func make(lastName: String, firstName: String) -> String {
        let last = normalise(lastName)
        let first = normalise(firstName)
        return first.isEmpty ? last : last + " " + first
    }

    /// The normalised form of any text (used for search prefixes too).
    public static func normalise(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            guard let folded = fold(scalar) else {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.append(" ")
                pendingSpace = false
            }
            result.append(folded)
        }
        return result
    }

    private static func fold(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A: return String(scalar)
        case 0x61...0x7A: return String(Unicode.Scalar(scalar.value - 32)!)
        default: break
        }
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
