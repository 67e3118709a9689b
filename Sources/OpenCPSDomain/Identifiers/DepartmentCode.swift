/// A French department code: `01`–`19`, `2A`, `2B`, `21`–`95`, and overseas `971`–`976`
/// (975 is Saint-Pierre-et-Miquelon). `20`, the pre-1976 Corsican code, is refused.
public struct DepartmentCode: StringIdentifier, Comparable {
    /// The code: 2 characters in metropolitan France, 3 digits overseas.
    public let value: String

    /// Reads a department code.
    /// - Throws: ``IdentifierError`` with code `identifier.length`, `identifier.characters`
    ///   or `identifier.unknown-value`.
    public init(_ text: String) throws(IdentifierError) {
        guard DepartmentCode.labels[text] != nil else {
            let count = text.utf8.count
            if count != 2 && count != 3 {
                throw .length(.department, "2 or 3 characters", got: text)
            }
            if text == "20" {
                throw IdentifierError(
                    kind: .department, code: "identifier.unknown-value",
                    reason: "department 20 no longer exists: Corsica is 2A (Corse-du-Sud) or 2B (Haute-Corse)")
            }
            throw IdentifierError(
                kind: .department, code: "identifier.unknown-value",
                reason: "\"\(text)\" is not a French department code (01-19, 2A, 2B, 21-95, 971-976)")
        }
        value = text
    }

    /// The department of a French postal code, when it has one.
    ///
    /// `20000`–`20199` gives 2A and `20200`–`20699` gives 2B; `971xx`–`976xx` give the
    /// overseas department; `98xxx` (Monaco, Pacific territories) and `00xxx` give nil.
    /// CEDEX codes follow the same rule (`25304` → 25).
    public init?(postalCode: some StringProtocol) {
        let bytes = Array(postalCode.utf8)
        guard bytes.count == 5, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let first2 = Int(bytes[0] - 0x30) * 10 + Int(bytes[1] - 0x30)
        let code: String
        switch first2 {
        case 20:
            code = bytes[2] < UInt8(ascii: "2") ? "2A" : "2B"
        case 97:
            code = String(decoding: bytes[0..<3], as: UTF8.self)
        default:
            code = String(decoding: bytes[0..<2], as: UTF8.self)
        }
        guard let department = try? DepartmentCode(code) else { return nil }
        self = department
    }

    /// The department's name in French.
    public var label: String { DepartmentCode.labels[value]! }

    /// Whether the department is overseas (971–976).
    public var isOverseas: Bool { value.utf8.count == 3 }

    /// Every department code, in order.
    public static let all: [DepartmentCode] = labels.keys.sorted().map { try! DepartmentCode($0) }

    /// Orders codes as text, which puts 2A and 2B between 19 and 21 and overseas last.
    public static func < (lhs: DepartmentCode, rhs: DepartmentCode) -> Bool { lhs.value < rhs.value }

    static let labels: [String: String] = [
        "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence", "05": "Hautes-Alpes",
        "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes", "09": "Ariège", "10": "Aube",
        "11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône", "14": "Calvados", "15": "Cantal",
        "16": "Charente", "17": "Charente-Maritime", "18": "Cher", "19": "Corrèze",
        "2A": "Corse-du-Sud", "2B": "Haute-Corse",
        "21": "Côte-d'Or", "22": "Côtes-d'Armor", "23": "Creuse", "24": "Dordogne", "25": "Doubs",
        "26": "Drôme", "27": "Eure", "28": "Eure-et-Loir", "29": "Finistère", "30": "Gard",
        "31": "Haute-Garonne", "32": "Gers", "33": "Gironde", "34": "Hérault", "35": "Ille-et-Vilaine",
        "36": "Indre", "37": "Indre-et-Loire", "38": "Isère", "39": "Jura", "40": "Landes",
        "41": "Loir-et-Cher", "42": "Loire", "43": "Haute-Loire", "44": "Loire-Atlantique", "45": "Loiret",
        "46": "Lot", "47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche",
        "51": "Marne", "52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle", "55": "Meuse",
        "56": "Morbihan", "57": "Moselle", "58": "Nièvre", "59": "Nord", "60": "Oise",
        "61": "Orne", "62": "Pas-de-Calais", "63": "Puy-de-Dôme", "64": "Pyrénées-Atlantiques",
        "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales", "67": "Bas-Rhin", "68": "Haut-Rhin",
        "69": "Rhône", "70": "Haute-Saône", "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie",
        "74": "Haute-Savoie", "75": "Paris", "76": "Seine-Maritime", "77": "Seine-et-Marne",
        "78": "Yvelines", "79": "Deux-Sèvres", "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne",
        "83": "Var", "84": "Vaucluse", "85": "Vendée", "86": "Vienne", "87": "Haute-Vienne",
        "88": "Vosges", "89": "Yonne", "90": "Territoire de Belfort", "91": "Essonne",
        "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d'Oise",
        "971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion",
        "975": "Saint-Pierre-et-Miquelon", "976": "Mayotte",
    ]
}
