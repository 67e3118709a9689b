/// The type of a CPx card (TRE_R87-TypeCarte), with the numeric code certificates carry.
public enum CardType: Int, Hashable, Sendable, Codable, CaseIterable {
    /// CPS, for health professionals (code 0).
    case cps = 0
    /// CPF, for professionals in training (code 1).
    case cpf = 1
    /// CPE, for establishment staff, ordered by a manager holding a CDE (code 2).
    /// A CPE never carries prescriber rights.
    case cpe = 2
    /// CPA, for staff of other authorised structures, ordered by a manager holding a CDA (code 3).
    case cpa = 3

    /// The FHIR CodeSystem URL of TRE_R87-TypeCarte.
    public static let codeSystem = Nomenclature.codeSystemURL("TRE_R87-TypeCarte")
    /// The OID of TRE_R87-TypeCarte.
    public static let oid = "1.2.250.1.213.1.6.1.106"

    /// The card type with this TRE_R87 code (`CPS`, `CPF`, `CPE`, `CPA`).
    /// - Throws: ``NomenclatureError`` with code `card-type.unknown`.
    public init(code: String) throws(NomenclatureError) {
        guard let type = CardType.allCases.first(where: { $0.code == code }) else {
            throw NomenclatureError(code: "card-type.unknown", reason: "\"\(code)\" is not a card type (CPS, CPF, CPE or CPA)")
        }
        self = type
    }

    /// The numeric card-type code used in certificates (0...3).
    public var numericCode: Int { rawValue }

    /// The TRE_R87 code: `CPS`, `CPF`, `CPE` or `CPA`.
    public var code: String {
        switch self {
        case .cps: "CPS"
        case .cpf: "CPF"
        case .cpe: "CPE"
        case .cpa: "CPA"
        }
    }

    /// The TRE_R87 display label.
    public var display: String {
        switch self {
        case .cps: "Carte de Professionnel de Santé (CPS)"
        case .cpf: "Carte de Professionnel de Santé en Formation (CPF)"
        case .cpe: "Carte de Personnel d'Etablissement de santé (CDE/CPE)"
        case .cpa: "Carte de Personnel Autorisé (CDA/CPA)"
        }
    }
}
