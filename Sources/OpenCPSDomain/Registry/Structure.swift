/// The national identifier of a structure (*idNat_Struct*), by the register that knows it.
///
/// The prefixes: `0` ADELI cabinet, `1` FINESS, `2` SIREN, `3` SIRET, `4` RPPS rang; the
/// directory's technical identifiers (`R…`, given to libéral cabinets that have none of
/// these) have no prefix.
public enum StructureIdentifier: Hashable, Sendable, CustomStringConvertible {
    /// A health establishment, by FINESS number.
    case finess(FINESS)
    /// Another structure (a practice, a company), by SIRET.
    case siret(SIRET)
    /// A company, by SIREN.
    case siren(SIREN)
    /// An ADELI cabinet (format unpublished: letters and digits).
    case adeliCabinet(String)
    /// A libéral activity in the RPPS register, by RPPS rang.
    case rppsRang(RPPSRang)
    /// The directory's technical identifier: a letter then letters and digits (`R10100000328372`).
    case technical(String)

    /// The longest technical identifier accepted.
    public static let maximumTechnicalIDLength = 30

    /// The national structure identifier (*idNatStruct*): the prefix and the number, or the
    /// technical identifier as it is.
    public var idNatStruct: String {
        switch self {
        case .finess(let finess): "1" + finess.value
        case .siret(let siret): "3" + siret.value
        case .siren(let siren): "2" + siren.value
        case .adeliCabinet(let id): "0" + id
        case .rppsRang(let rang): "4" + rang.value
        case .technical(let id): id
        }
    }

    /// Reads a national structure identifier: `0`+ADELI cabinet, `1`+FINESS, `2`+SIREN,
    /// `3`+SIRET, `4`+RPPS rang, or a technical identifier (a letter first).
    /// - Throws: ``IdentifierError`` when the prefix or the number is invalid.
    public init(idNatStruct text: String) throws(IdentifierError) {
        guard let prefix = text.first else {
            throw IdentifierError(kind: .idNat, code: "identifier.length", reason: "a structure identifier cannot be empty")
        }
        let rest = String(text.dropFirst())
        switch prefix {
        case "0": self = .adeliCabinet(try StaffRegister.cabinetID(rest))
        case "1": self = .finess(try FINESS(rest))
        case "2": self = .siren(try SIREN(rest))
        case "3": self = .siret(try SIRET(rest))
        case "4": self = .rppsRang(try RPPSRang(rest))
        case "A"..."Z":
            self = .technical(try Self.technicalID(text))
        default:
            throw IdentifierError(
                kind: .idNat, code: "identifier.prefix",
                reason: "a structure identifier starts with 0 (ADELI cabinet), 1 (FINESS), 2 (SIREN), 3 (SIRET), 4 (RPPS rang) or a capital letter (technical id), got \(prefix)")
        }
    }

    /// Reads the directory's technical identifier of a structure (`R…`, `F…`, `C…`).
    /// - Throws: ``IdentifierError`` unless it is a capital letter followed by 1 to 29 letters and digits.
    public static func technicalID(_ text: String) throws(IdentifierError) -> String {
        let bytes = Array(text.utf8)
        guard (2...maximumTechnicalIDLength).contains(bytes.count) else {
            throw IdentifierError(
                kind: .idNat, code: "identifier.length",
                reason: "a technical structure identifier has 2 to \(maximumTechnicalIDLength) characters, got \(text.count)")
        }
        guard (0x41...0x5A).contains(bytes[0]), bytes.allSatisfy(\.isASCIIAlphanumeric) else {
            throw IdentifierError(
                kind: .idNat, code: "identifier.characters",
                reason: "a technical structure identifier is a capital letter then letters and digits, got \"\(text)\"")
        }
        return text
    }

    /// The bare number, without prefix.
    public var number: String {
        switch self {
        case .finess(let finess): finess.value
        case .siret(let siret): siret.value
        case .siren(let siren): siren.value
        case .adeliCabinet(let id), .technical(let id): id
        case .rppsRang(let rang): rang.value
        }
    }

    /// The type prefix of the idNatStruct (empty for a technical identifier).
    public var typeCode: String {
        switch self {
        case .adeliCabinet: "0"
        case .finess: "1"
        case .siren: "2"
        case .siret: "3"
        case .rppsRang: "4"
        case .technical: ""
        }
    }

    /// The stored name of the identifier's kind: `finess`, `siret`, `siren`, `adeli-cabinet`,
    /// `rpps-rang` or `technical`.
    public var kind: String {
        switch self {
        case .finess: "finess"
        case .siret: "siret"
        case .siren: "siren"
        case .adeliCabinet: "adeli-cabinet"
        case .rppsRang: "rpps-rang"
        case .technical: "technical"
        }
    }

    /// The company's SIREN, for a SIREN or a SIRET.
    public var siren: SIREN? {
        switch self {
        case .siren(let siren): siren
        case .siret(let siret): siret.siren
        default: nil
        }
    }

    /// The idNatStruct form.
    public var description: String { idNatStruct }
}

/// Whether a structure is a legal entity (*entité juridique*, EJ) or a site (*entité
/// géographique*, EG), as the national directory's `organizationType` says
/// (fr-core-cs-v2-3307 `LEGAL-ENTITY` / `GEOGRAPHICAL-ENTITY`).
public enum OrganizationEntity: String, Hashable, Sendable, CaseIterable {
    /// A legal entity, which sites belong to.
    case legal = "LEGAL-ENTITY"
    /// A site where professionals work.
    case geographical = "GEOGRAPHICAL-ENTITY"
}

/// A structure where professionals work: a health establishment or another organisation.
public struct Structure: Hashable, Sendable {
    /// Its national identifier: FINESS, SIRET, SIREN, RPPS rang, ADELI cabinet or technical id.
    public var identifier: StructureIdentifier
    /// Its name (*raison sociale*).
    public var name: String
    /// The sector of activity code (TRE_R02).
    public var sectorCode: String?
    /// The department where it stands.
    public var department: DepartmentCode?
    /// Its postal address.
    public var address: PostalAddress?
    /// The FINESS of the legal entity it belongs to (*entité juridique*), when any.
    public var legalEntity: FINESS?
    /// A site or a legal entity.
    public var entity: OrganizationEntity
    /// The directory's technical identifier (`R…`, `F…`, `C…`), when the file gives one.
    public var technicalID: String?
    /// The company's SIREN, when known.
    public var siren: SIREN?
    /// The former identifier (*ancien identifiant de la structure*, an idNatStruct), kept as the file gives it.
    public var formerID: String?
    /// The trade name (*enseigne commerciale*), when any.
    public var tradeName: String?

    /// Creates a structure.
    public init(
        identifier: StructureIdentifier, name: String, sectorCode: String? = nil,
        department: DepartmentCode? = nil, address: PostalAddress? = nil, legalEntity: FINESS? = nil,
        entity: OrganizationEntity = .geographical, technicalID: String? = nil, siren: SIREN? = nil,
        formerID: String? = nil, tradeName: String? = nil
    ) {
        self.identifier = identifier
        self.name = name
        self.sectorCode = sectorCode
        self.department = department
        self.address = address
        self.legalEntity = legalEntity
        self.entity = entity
        self.technicalID = technicalID
        self.siren = siren ?? identifier.siren
        self.formerID = formerID
        self.tradeName = tradeName
    }
}
