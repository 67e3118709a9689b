/// Why a line of a directory extraction file was refused.
///
/// Codes: `extraction.header` (a required column is missing or the header is empty),
/// `extraction.field-count`, `extraction.missing-value`, `extraction.identifier-type`,
/// `extraction.invalid-identifier`, `extraction.idnat-mismatch`,
/// `extraction.mode-unknown` and `extraction.read`. (`extraction.profession-unknown` and an
/// invalid optional identifier do not refuse a row: they are ``FlaggedField`` codes.)
public struct ExtractionError: DomainError, Equatable {
    /// The 1-based line number in the file, when the error is about a line.
    public let lineNumber: Int?
    /// The column's name, when the error is about one field.
    public let column: String?
    /// A stable code, such as `extraction.invalid-identifier`.
    public let code: String
    /// The code of the underlying error (such as `identifier.check-digit`), when there is one.
    public let causeCode: String?
    /// A sentence such as `line 17: Identifiant PP: the Luhn key of RPPS 10000000008 should be 9`.
    public let reason: String

    /// Creates an extraction error; the reason is prefixed with the line number and the column.
    public init(lineNumber: Int?, column: String? = nil, code: String, causeCode: String? = nil, message: String) {
        self.lineNumber = lineNumber
        self.column = column
        self.code = code
        self.causeCode = causeCode
        var reason = ""
        if let lineNumber { reason += "line \(lineNumber): " }
        if let column { reason += "\(column): " }
        self.reason = reason + message
    }
}
