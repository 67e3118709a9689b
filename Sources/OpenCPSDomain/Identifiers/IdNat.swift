/// The national identifier of a person (*idNat_PS*): a type prefix followed by an identifier.
///
/// It is what certificates (CN) and authentication claims (`SubjectNameID`) carry:
/// - `8` + RPPS (12 digits);
/// - `0` + ADELI (10 characters);
/// - `3` + FINESS + `/` + local identifier, for establishment staff without a national number.
public enum IdNat: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A professional in the RPPS register.
    case rpps(RPPS)
    /// A professional in the legacy ADELI register.
    case adeli(ADELI)
    /// A member of an establishment's staff, known by the establishment's local identifier.
    case establishmentStaff(FINESS, localID: String)

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
            default:
                throw IdentifierError(
                    kind: .idNat, code: "identifier.prefix",
                    reason: "an idNat starts with 8 (RPPS), 0 (ADELI) or 3 (establishment staff), got \"\(prefix)\"")
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
        }
    }

    /// The type prefix (TRE_G08): `8` RPPS, `0` ADELI, `3` FINESS.
    public var typeCode: String {
        switch self {
        case .rpps: "8"
        case .adeli: "0"
        case .establishmentStaff: "3"
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
