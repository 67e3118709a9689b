import Testing
@testable import OpenCPSDomain

@Suite("Name keys")
struct NameKeyTests {
    @Test("names fold to upper case without marks, separators to one space", arguments: [
        ("Lévêque-d'Hérouville, Zoé", "LEVEQUE D HEROUVILLE ZOE"),
        ("  --Jean   Marie--  ", "JEAN MARIE"),
        ("Œuvre Ætna", "OEUVRE AETNA"),
        ("Straße", "STRASSE"),
        ("e\u{301}lise", "ELISE"),  // a decomposed accent vanishes inside the word
        ("Çà et là", "CA ET LA"),
        ("Ÿvonne ÿ", "YVONNE Y"),
        ("λόγος", "ΛΌΓΟΣ"),  // other letters keep their upper case, marks included: only Latin ones lose them
        ("3M/Santé 2000", "3M SANTE 2000"),
        ("", ""),
        ("-' ,", ""),
    ])
    func normalise(text: String, key: String) {
        #expect(NameKey.normalise(text) == key)
    }

    @Test("a professional's key is the last name then the first name")
    func professional() {
        #expect(NameKey.make(lastName: "Lévêque", firstName: "Zoé") == "LEVEQUE ZOE")
        #expect(NameKey.make(lastName: "De La Tour", firstName: "") == "DE LA TOUR")
        #expect(NameKey.make(lastName: "Martin", firstName: " - ") == "MARTIN")
        #expect(NameKey.make(lastName: "O'Neil", firstName: "Anne-Sophie") == "O NEIL ANNE SOPHIE")
    }

    /// The definition, one character at a time, that the byte-wise folding must agree with.
    private func reference(_ text: String) -> String {
        var result = ""
        var pendingSpace = false
        for character in text.unicodeScalars {
            let folded: String?
            switch character.value {
            case 0x30...0x39, 0x41...0x5A: folded = String(character)
            case 0x61...0x7A: folded = String(character).uppercased()
            case 0x300...0x36F: folded = ""
            default:
                let latin: [(String, String)] = [
                    ("ÀÁÂÃÄÅàáâãäå", "A"), ("ÆæǼǽ", "AE"), ("Çç", "C"), ("ÈÉÊËèéêë", "E"), ("ÌÍÎÏìíîï", "I"),
                    ("Ññ", "N"), ("ÒÓÔÕÖØòóôõöø", "O"), ("Œœ", "OE"), ("ÙÚÛÜùúûü", "U"), ("ÝŸýÿ", "Y"), ("ß", "SS"),
                ]
                if let base = latin.first(where: { $0.0.unicodeScalars.contains(character) }) {
                    folded = base.1
                } else {
                    folded = character.properties.isAlphabetic ? String(character).uppercased() : nil
                }
            }
            guard let folded else {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result += " "
                pendingSpace = false
            }
            result += folded
        }
        return result
    }

    @Test("every name, street and town of the generator folds as the definition says")
    func generatorNames() {
        let texts = ExtractionGenerator.lastNames + ExtractionGenerator.maleFirstNames + ExtractionGenerator.femaleFirstNames
            + ExtractionGenerator.streetNames + ExtractionGenerator.towns.map(\.name)
        #expect(texts.count > 100)
        for text in texts {
            #expect(NameKey.normalise(text) == reference(text), "\(text)")
        }
        for (last, first) in zip(ExtractionGenerator.lastNames, ExtractionGenerator.femaleFirstNames) {
            #expect(NameKey.make(lastName: last, firstName: first) == reference(last) + " " + reference(first))
        }
    }
}
