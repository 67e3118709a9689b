/// The header line of a directory extraction file: which column sits at which index.
///
/// Columns are found by name, ignoring case, accents and punctuation, and accepting the
/// spellings of the 56-column variant, so the order of the columns does not matter and
/// unknown columns are skipped.
public struct ExtractionHeader: Hashable, Sendable {
    /// The column names as written in the file, without the empty field after the trailing `|`.
    public let names: [String]
    /// Whether the header line ends with `|` (it does in every published file).
    public let hasTrailingSeparator: Bool
    private let indexes: [Int]

    /// Reads a header line.
    /// - Parameter line: the header, without line terminator; a UTF-8 BOM is ignored.
    /// - Throws: ``ExtractionError`` with code `extraction.header` naming the missing required columns.
    public init(line: String) throws(ExtractionError) {
        var text = Substring(line)
        if text.hasPrefix("\u{FEFF}") { text = text.dropFirst() }
        var fields = text.split(separator: "|", omittingEmptySubsequences: false).map { String($0) }
        hasTrailingSeparator = fields.count > 1 && fields.last == ""
        if hasTrailingSeparator { fields.removeLast() }
        names = fields
        var indexes = Array(repeating: -1, count: ExtractionColumn.allCases.count)
        for (index, name) in fields.enumerated() {
            if let column = ExtractionColumn.accepted[ExtractionColumn.normalise(name)], indexes[column.rawValue] < 0 {
                indexes[column.rawValue] = index
            }
        }
        self.indexes = indexes
        let missing = ExtractionColumn.allCases.filter { $0.isRequired && indexes[$0.rawValue] < 0 }
        guard missing.isEmpty else {
            throw ExtractionError(
                lineNumber: 1, code: "extraction.header",
                message: "the header lacks the required column(s) " + missing.map { "\"\($0.name)\"" }.joined(separator: ", "))
        }
    }

    /// Reads a header line given as UTF-8 bytes (Windows-1252 is accepted too).
    /// - Throws: ``ExtractionError`` with code `extraction.header`.
    public init(bytes: some Collection<UInt8>) throws(ExtractionError) {
        try self.init(line: TextDecoding.string(fromLine: Array(bytes)))
    }

    /// The standard 52-column header.
    public static let standard: ExtractionHeader = try! ExtractionHeader(line: standardLine)

    /// The standard header line exactly as published: the 52 names, each followed by `|`.
    public static let standardLine: String = ExtractionColumn.standardNames.map { $0 + "|" }.joined()

    /// The number of columns.
    public var columnCount: Int { names.count }

    /// The index of a column in the line, or nil when the file does not have it.
    public func index(of column: ExtractionColumn) -> Int? {
        let index = indexes[column.rawValue]
        return index < 0 ? nil : index
    }

    /// The raw index table, -1 for absent columns (used by the row parser).
    var rawIndexes: [Int] { indexes }
}
