/// Why a text is not a valid identifier: a stable code and a precise reason.
///
/// Codes: `identifier.length`, `identifier.characters`, `identifier.check-digit`,
/// `identifier.prefix` and `identifier.unknown-value`.
public struct IdentifierError: DomainError, Equatable {
    /// The kind of identifier that was being read.
    public let kind: IdentifierKind
    /// A stable code, such as `identifier.check-digit`.
    public let code: String
    /// A sentence in English that says what is wrong, such as
    /// `the Luhn key of RPPS 10000000008 should be 9`.
    public let reason: String

    /// Creates an identifier error.
    public init(kind: IdentifierKind, code: String, reason: String) {
        self.kind = kind
        self.code = code
        self.reason = reason
    }

    static func length(_ kind: IdentifierKind, _ expected: String, got text: String) -> IdentifierError {
        IdentifierError(
            kind: kind, code: "identifier.length",
            reason: "\(kind.article) \(kind.displayName) number has \(expected), got \(text.count)")
    }

    static func characters(_ kind: IdentifierKind, _ allowed: String, got text: String) -> IdentifierError {
        IdentifierError(
            kind: kind, code: "identifier.characters",
            reason: "\(kind.article) \(kind.displayName) number has \(allowed) only, got \"\(text)\"")
    }

    static func checkDigit(_ kind: IdentifierKind, _ text: String, expected: UInt8) -> IdentifierError {
        IdentifierError(
            kind: kind, code: "identifier.check-digit",
            reason: "the Luhn key of \(kind.displayName) \(text) should be \(expected)")
    }
}

/// The kinds of identifiers the domain reads.
public enum IdentifierKind: String, Sendable, Codable {
    /// A person in the RPPS register.
    case rpps
    /// An activity of a person in the RPPS register (*RPPS rang*).
    case rppsRang
    /// A person in the legacy ADELI register.
    case adeli
    /// A health establishment (FINESS).
    case finess
    /// An establishment of a company (SIRET).
    case siret
    /// A company (SIREN).
    case siren
    /// A national identifier of a person (*idNat*).
    case idNat
    /// A French department code.
    case department

    /// The name people use for this kind.
    public var displayName: String {
        switch self {
        case .rpps: "RPPS"
        case .rppsRang: "RPPS rang"
        case .adeli: "ADELI"
        case .finess: "FINESS"
        case .siret: "SIRET"
        case .siren: "SIREN"
        case .idNat: "idNat"
        case .department: "department"
        }
    }

    var article: String {
        switch self {
        case .rpps, .rppsRang, .adeli, .idNat: "an"
        default: "a"
        }
    }
}
