/// The national identifier of a person (*idNat_PS*): a type prefix followed by an identifier.
///
/// It is what certificates (CN) and authentication claims (`SubjectNameID`) carry:
/// - `8` + RPPS (12 digits);
/// - `0` + ADELI (10 characters);
/// - `3` + FINESS + `/` + local identifier, for establishment staff without a national number;
/// - `1` + ADELI cabinet id, `4` + SIREN, `5` + SIRET or `6` + RPPS cabinet id, then `/` and
///   the structure's own number for the person (TRE_G08 *N° de registre*): staff of other
///   structures (see ``StaffRegister``).
public enum IdNat: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A professional in the RPPS register.
    case rpps(RPPS)
    /// A professional in the legacy ADELI register.
    case adeli(ADELI)
    /// A member of an establishment's staff, known by the establishment's local identifier.
    case establishmentStaff(FINESS, localID: String)
    /// A member of another structure's staff (types `1`, `4`, `5`, `6`), known by the
    /// structure's register number.
    case structureStaff(StaffRegister, localID: String)

    /// The longest local identifier accepted after the FINESS number.
    public static let maximumLocalIDLength = 30

    /// Reads a national identifier.
    /// - Throws: ``IdentifierError``: `identifier.prefix` for an unknown type prefix, or the
    ///   error of the inner identifier (with kind `idNat` and the idNat in its reason).
    public init(_ text: String) throws(IdentifierError) {
        guard let prefix = text.first else {
            throw IdentifierError(kind: .idNat, code: "identifier.length", reason: "an idNat cannot be empty")
        }
        let rest = String(text.dropFirst())
        do throws(IdentifierError) {
            switch prefix {
            case "8": self = .rpps(try RPPS(rest))
            case "0": self = .adeli(try ADELI(rest))
            case "3":
                guard let slash = rest.firstIndex(of: "/") else {
                    throw IdentifierError(
                        kind: .idNat, code: "identifier.characters",
                        reason: "an establishment-staff idNat is 3 + FINESS + \"/\" + local identifier, got \"\(text)\"")
                }
                let finess = try FINESS(String(rest[..<slash]))
                let localID = String(rest[rest.index(after: slash)...])
                try IdNat.checkLocalID(localID)
                self = .establishmentStaff(finess, localID: localID)
            case "1", "4", "5", "6":
                guard let slash = rest.firstIndex(of: "/") else {
                    throw IdentifierError(
                        kind: .idNat, code: "identifier.characters",
                        reason: "an idNat of type \(prefix) is \(prefix) + structure number + \"/\" + local identifier, got \"\(text)\"")
                }
                let register = try StaffRegister(typeCode: prefix, number: String(rest[..<slash]))
                let localID = String(rest[rest.index(after: slash)...])
                try IdNat.checkLocalID(localID)
                self = .structureStaff(register, localID: localID)
            default:
                throw IdentifierError(
                    kind: .idNat, code: "identifier.prefix",
                    reason: "an idNat starts with 8 (RPPS), 0 (ADELI), 1, 3, 4, 5 or 6 (staff of a structure), got \"\(prefix)\"")
            }
        } catch where error.kind == .idNat {
            throw error
        } catch {
            throw IdentifierError(kind: .idNat, code: error.code, reason: "idNat \(text): \(error.reason)")
        }
    }

    /// Creates the idNat of establishment staff.
    /// - Throws: ``IdentifierError`` when `localID` is empty, longer than 30 characters or has
    ///   characters other than `A-Z a-z 0-9 - _ .`.
    public static func establishmentStaff(finess: FINESS, localID: String) throws(IdentifierError) -> IdNat {
        try checkLocalID(localID)
        return .establishmentStaff(finess, localID: localID)
    }

    private static func checkLocalID(_ localID: String) throws(IdentifierError) {
        let count = localID.utf8.count
        guard count >= 1, count <= maximumLocalIDLength else {
            throw IdentifierError(
                kind: .idNat, code: "identifier.length",
                reason: "a local identifier has 1 to \(maximumLocalIDLength) characters, got \(localID.count)")
        }
        for byte in localID.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                continue
            default:
                throw IdentifierError(
                    kind: .idNat, code: "identifier.characters",
                    reason: "a local identifier has letters, digits, \"-\", \"_\" and \".\" only, got \"\(localID)\"")
            }
        }
    }

    /// The idNat as text, prefix included.
    public var value: String {
        switch self {
        case .rpps(let rpps): "8" + rpps.value
        case .adeli(let adeli): "0" + adeli.value
        case .establishmentStaff(let finess, let localID): "3" + finess.value + "/" + localID
        case .structureStaff(let register, let localID): register.typeCode + register.number + "/" + localID
        }
    }

    /// The type prefix (TRE_G08): `8` RPPS, `0` ADELI, `3` FINESS, `1` ADELI cabinet,
    /// `4` SIREN, `5` SIRET, `6` RPPS cabinet.
    public var typeCode: String {
        switch self {
        case .rpps: "8"
        case .adeli: "0"
        case .establishmentStaff: "3"
        case .structureStaff(let register, _): register.typeCode
        }
    }

    /// Whether the idNat names staff of a structure (types `1`, `3`, `4`, `5`, `6`) rather
    /// than a person in a national register.
    public var isStructureStaff: Bool {
        switch self {
        case .rpps, .adeli: false
        case .establishmentStaff, .structureStaff: true
        }
    }

    /// The identifier without its type prefix.
    public var identifier: String { String(value.dropFirst()) }

    /// The idNat as text.
    public var description: String { value }

    /// Decodes an idNat from a plain string, refusing invalid ones.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do throws(IdentifierError) {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.reason, underlyingError: error))
        }
    }

    /// Encodes the idNat as a plain string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// The register of a structure whose staff carry an idNat of type `1`, `4`, `5` or `6`
/// (TRE_G08: *Id Cabinet ADELI*, *SIREN*, *SIRET*, *Id Cabinet RPPS* / *N° de registre*).
///
/// SIREN and SIRET are checked as such. The format of the ADELI and RPPS cabinet ids is not
/// published: they are read as 1 to 20 ASCII letters and digits.
public enum StaffRegister: Hashable, Sendable {
    /// `1`: an ADELI cabinet.
    case adeliCabinet(String)
    /// `4`: a company, by SIREN.
    case siren(SIREN)
    /// `5`: an establishment of a company, by SIRET.
    case siret(SIRET)
    /// `6`: an RPPS cabinet.
    case rppsCabinet(String)

    /// The longest cabinet id accepted.
    public static let maximumCabinetIDLength = 20

    /// Reads the structure part of an idNat of type `1`, `4`, `5` or `6`.
    /// - Throws: ``IdentifierError`` for another type or an invalid number.
    public init(typeCode: Character, number: String) throws(IdentifierError) {
        switch typeCode {
        case "1": self = .adeliCabinet(try Self.cabinetID(number))
        case "4": self = .siren(try SIREN(number))
        case "5": self = .siret(try SIRET(number))
        case "6": self = .rppsCabinet(try Self.cabinetID(number))
        default:
            throw IdentifierError(kind: .idNat, code: "identifier.prefix", reason: "\"\(typeCode)\" is not a staff register type (1, 4, 5 or 6)")
        }
    }

    /// The idNat type prefix.
    public var typeCode: String {
        switch self {
        case .adeliCabinet: "1"
        case .siren: "4"
        case .siret: "5"
        case .rppsCabinet: "6"
        }
    }

    /// The structure's number, without prefix.
    public var number: String {
        switch self {
        case .adeliCabinet(let id), .rppsCabinet(let id): id
        case .siren(let siren): siren.value
        case .siret(let siret): siret.value
        }
    }

    static func cabinetID(_ text: String) throws(IdentifierError) -> String {
        guard (1...maximumCabinetIDLength).contains(text.utf8.count) else {
            throw IdentifierError(
                kind: .idNat, code: "identifier.length",
                reason: "a cabinet id has 1 to \(maximumCabinetIDLength) characters, got \(text.count)")
        }
        guard text.utf8.allSatisfy({ $0.isASCIIAlphanumeric }) else {
            throw IdentifierError(kind: .idNat, code: "identifier.characters", reason: "a cabinet id has letters and digits only, got \"\(text)\"")
        }
        return text
    }
}

extension UInt8 {
    /// Whether the byte is an ASCII letter or digit.
    var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
