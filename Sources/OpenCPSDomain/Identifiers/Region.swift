/// A French region as INSEE codes it, the territory of one regional health agency (ARS): the 13
/// metropolitan regions and the 5 overseas single-department regions, 18 in all.
///
/// Source: INSEE, *Code officiel géographique* (COG), table of departments (`DEP` → `REG`), in
/// force since the 2016 regional reform (law 2015-29) and unchanged through the 2024 edition; 975
/// (Saint-Pierre-et-Miquelon) is an overseas collectivity with no region, served by a territorial
/// health administration rather than an ARS, so it maps to no region here.
public enum Region: String, Hashable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case guadeloupe = "01"
    case martinique = "02"
    case guyane = "03"
    case laReunion = "04"
    case mayotte = "06"
    case ileDeFrance = "11"
    case centreValDeLoire = "24"
    case bourgogneFrancheComte = "27"
    case normandie = "28"
    case hautsDeFrance = "32"
    case grandEst = "44"
    case paysDeLaLoire = "52"
    case bretagne = "53"
    case nouvelleAquitaine = "75"
    case occitanie = "76"
    case auvergneRhoneAlpes = "84"
    case provenceAlpesCoteDAzur = "93"
    case corse = "94"

    /// The region's INSEE code (`REG` in the COG), such as `84`.
    public var code: String { rawValue }

    /// The region's name in French.
    public var label: String {
        switch self {
        case .guadeloupe: "Guadeloupe"
        case .martinique: "Martinique"
        case .guyane: "Guyane"
        case .laReunion: "La Réunion"
        case .mayotte: "Mayotte"
        case .ileDeFrance: "Île-de-France"
        case .centreValDeLoire: "Centre-Val de Loire"
        case .bourgogneFrancheComte: "Bourgogne-Franche-Comté"
        case .normandie: "Normandie"
        case .hautsDeFrance: "Hauts-de-France"
        case .grandEst: "Grand Est"
        case .paysDeLaLoire: "Pays de la Loire"
        case .bretagne: "Bretagne"
        case .nouvelleAquitaine: "Nouvelle-Aquitaine"
        case .occitanie: "Occitanie"
        case .auvergneRhoneAlpes: "Auvergne-Rhône-Alpes"
        case .provenceAlpesCoteDAzur: "Provence-Alpes-Côte d'Azur"
        case .corse: "Corse"
        }
    }

    /// `84 Auvergne-Rhône-Alpes`.
    public var description: String { "\(code) \(label)" }

    /// The region with this INSEE code.
    /// - Throws: ``IdentifierError`` `identifier.unknown-value` for any other code.
    public init(code: String) throws(IdentifierError) {
        guard let region = Region(rawValue: code) else {
            throw IdentifierError(
                kind: .department, code: "identifier.unknown-value",
                reason: "\"\(code)\" is not a region code: \(Region.allCases.map(\.code).joined(separator: ", "))")
        }
        self = region
    }

    /// The region of a department; nil for Saint-Pierre-et-Miquelon (975), which has none.
    public init?(department: DepartmentCode) {
        guard let region = Region.byDepartment[department.value] else { return nil }
        self = region
    }

    /// The region's departments, in code order.
    public var departments: [DepartmentCode] {
        Region.departmentCodes[self, default: []].map { try! DepartmentCode($0) }
    }

    /// Orders regions by INSEE code.
    public static func < (lhs: Region, rhs: Region) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The COG's `DEP` → `REG` table, written region by region.
    static let departmentCodes: [Region: [String]] = [
        .guadeloupe: ["971"],
        .martinique: ["972"],
        .guyane: ["973"],
        .laReunion: ["974"],
        .mayotte: ["976"],
        .ileDeFrance: ["75", "77", "78", "91", "92", "93", "94", "95"],
        .centreValDeLoire: ["18", "28", "36", "37", "41", "45"],
        .bourgogneFrancheComte: ["21", "25", "39", "58", "70", "71", "89", "90"],
        .normandie: ["14", "27", "50", "61", "76"],
        .hautsDeFrance: ["02", "59", "60", "62", "80"],
        .grandEst: ["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"],
        .paysDeLaLoire: ["44", "49", "53", "72", "85"],
        .bretagne: ["22", "29", "35", "56"],
        .nouvelleAquitaine: ["16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"],
        .occitanie: ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"],
        .auvergneRhoneAlpes: ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"],
        .provenceAlpesCoteDAzur: ["04", "05", "06", "13", "83", "84"],
        .corse: ["2A", "2B"],
    ]

    private static let byDepartment: [String: Region] = departmentCodes.reduce(into: [:]) { table, entry in
        for department in entry.value { table[department] = entry.key }
    }
}
