/// The identifier of a structure: its FINESS number or its SIRET.
public enum StructureIdentifier: Hashable, Sendable, CustomStringConvertible {
    /// A health establishment, by FINESS number.
    case finess(FINESS)
    /// Another structure (a practice, a company), by SIRET.
    case siret(SIRET)

    /// The national structure identifier (*idNatStruct*): `1`+FINESS or `3`+SIRET.
    public var idNatStruct: String {
        switch self {
        case .finess(let finess): "1" + finess.value
        case .siret(let siret): "3" + siret.value
        }
    }

    /// Reads a national structure identifier (`1`+FINESS or `3`+SIRET).
    /// - Throws: ``IdentifierError`` when the prefix or the number is invalid.
    public init(idNatStruct text: String) throws(IdentifierError) {
        guard let prefix = text.first else {
            throw IdentifierError(kind: .idNat, code: "identifier.length", reason: "a structure identifier cannot be empty")
        }
        let rest = String(text.dropFirst())
        switch prefix {
        case "1": self = .finess(try FINESS(rest))
        case "3": self = .siret(try SIRET(rest))
        default:
            throw IdentifierError(
                kind: .idNat, code: "identifier.prefix",
                reason: "a structure identifier starts with 1 (FINESS) or 3 (SIRET), got \(prefix)")
        }
    }

    /// The bare number, without prefix.
    public var number: String {
        switch self {
        case .finess(let finess): finess.value
        case .siret(let siret): siret.value
        }
    }

    /// The idNatStruct form.
    public var description: String { idNatStruct }
}

/// A structure where professionals work: a health establishment or another organisation.
public struct Structure: Hashable, Sendable {
    /// Its FINESS number or SIRET.
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

    /// Creates a structure.
    public init(
        identifier: StructureIdentifier, name: String, sectorCode: String? = nil,
        department: DepartmentCode? = nil, address: PostalAddress? = nil, legalEntity: FINESS? = nil
    ) {
        self.identifier = identifier
        self.name = name
        self.sectorCode = sectorCode
        self.department = department
        self.address = address
        self.legalEntity = legalEntity
    }
}
