import NIOCore

/// Where a bulk row's values go, one after the other (nil for NULL): packed for SQLite's
/// binds (``PackedRows``) or written as `COPY` text for PostgreSQL (``CopyTextRows``).
protocol BulkValueSink {
    /// Appends the next value of the row being built; the row is complete after its table's columns.
    mutating func append(_ value: String?)
}

/// Rows of text values (or NULLs) packed one after the other in a single byte buffer, for the
/// bulk inserts of an import.
///
/// An import builds and writes a few million values: as an array of strings per row, each row
/// costs an allocation, and each value a retain and a release when it is built, copied, bound
/// and freed. Here a batch's rows of one table are one buffer; the SQLite writer binds
/// straight from it and PostgreSQL's `COPY` text is encoded from it.
///
/// Layout: for each value, its length as 4 bytes (little-endian; `0xFFFFFFFF` for NULL), then
/// its UTF-8 bytes.
struct PackedRows: BulkValueSink, Sendable {
    /// Values per row.
    let columns: Int
    /// Complete rows appended.
    private(set) var count = 0
    private var bytes: [UInt8] = []
    private var valuesInRow = 0

    private static let null: UInt32 = .max

    /// Creates an empty set of rows of `columns` values each.
    /// - Parameters:
    ///   - columns: values per row.
    ///   - rows: how many rows to make room for.
    ///   - bytesPerValue: the expected mean size of a value, for the reservation.
    init(columns: Int, reservingRows rows: Int = 0, bytesPerValue: Int = 12) {
        self.columns = columns
        bytes.reserveCapacity(rows * columns * (4 + bytesPerValue))
    }

    /// Packs `rows`, each with one value per column.
    init(_ rows: [[String?]], columns: Int) {
        self.init(columns: columns, reservingRows: rows.count)
        for row in rows {
            precondition(row.count == columns, "a row of \(row.count) values for \(columns) columns")
            for value in row { append(value) }
        }
    }

    /// Whether there is no row.
    var isEmpty: Bool { count == 0 }

    /// Appends the next value of the row being built (nil for NULL); the row is complete
    /// after `columns` values.
    mutating func append(_ value: String?) {
        guard let value else {
            appendLength(Self.null)
            return completeValue()
        }
        appendLength(UInt32(truncatingIfNeeded: value.utf8.count))
        bytes.append(contentsOf: value.utf8)
        completeValue()
    }

    private mutating func appendLength(_ length: UInt32) {
        withUnsafeBytes(of: length.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func completeValue() {
        valuesInRow += 1
        if valuesInRow == columns {
            valuesInRow = 0
            count += 1
        }
    }

    /// Reads the rows in order: `body` gets a cursor for each row and must read its `columns` values.
    func forEachRow(_ body: (inout Cursor) throws -> Void) rethrows {
        precondition(valuesInRow == 0, "the last row is incomplete")
        try bytes.withUnsafeBufferPointer { buffer in
            var cursor = Cursor(buffer: buffer)
            for _ in 0..<count {
                let before = cursor.valuesRead
                try body(&cursor)
                precondition(cursor.valuesRead - before == columns, "a row was not read to its end")
            }
        }
    }

    /// The rows as an array of strings per row (for the paths that bind through SQLKit).
    var strings: [[String?]] {
        var rows: [[String?]] = []
        rows.reserveCapacity(count)
        forEachRow { cursor in
            rows.append((0..<columns).map { _ in cursor.next().map { String(decoding: $0, as: UTF8.self) } })
        }
        return rows
    }

    /// Reads packed values one after the other; valid only inside ``PackedRows/forEachRow(_:)``.
    struct Cursor {
        private let buffer: UnsafeBufferPointer<UInt8>
        private var offset = 0
        fileprivate private(set) var valuesRead = 0

        fileprivate init(buffer: UnsafeBufferPointer<UInt8>) {
            self.buffer = buffer
        }

        /// The next value's UTF-8 bytes, or nil for NULL.
        mutating func next() -> UnsafeBufferPointer<UInt8>? {
            precondition(offset + 4 <= buffer.count, "read past the last value")
            let length = UInt32(littleEndian: UnsafeRawPointer(buffer.baseAddress! + offset).loadUnaligned(as: UInt32.self))
            offset += 4
            valuesRead += 1
            guard length != PackedRows.null else { return nil }
            let start = offset
            offset += Int(length)
            return UnsafeBufferPointer(rebasing: buffer[start..<offset])
        }
    }
}

/// Rows written straight in `COPY`'s text format: values separated by tabs, `\N` for NULL,
/// backslash, tab, newline and carriage return escaped, one line a row. Writing them once
/// here, rather than packing them and encoding the packed rows, spares a copy of every value;
/// the text grows in an array (a `ByteBuffer`'s writes check their capacity and uniqueness
/// byte by byte) and becomes a buffer once.
struct CopyTextRows: BulkValueSink, Sendable {
    /// Values per row.
    let columns: Int
    /// Complete rows written.
    private(set) var count = 0
    private var bytes: [UInt8] = []
    private var valuesInRow = 0

    /// Creates an empty text for rows of `columns` values.
    init(columns: Int, reservingRows rows: Int = 0, bytesPerValue: Int = 12) {
        self.columns = columns
        bytes.reserveCapacity(rows * columns * (1 + bytesPerValue))
    }

    /// The text, for `COPY ... FROM STDIN`.
    var buffer: ByteBuffer {
        precondition(valuesInRow == 0, "the last row is incomplete")
        return ByteBuffer(bytes: bytes)
    }

    /// Appends the next value of the row being written (nil for NULL).
    mutating func append(_ value: String?) {
        if valuesInRow > 0 { bytes.append(UInt8(ascii: "\t")) }
        if var value {
            value.withUTF8 { Self.appendEscaped($0, to: &bytes) }
        } else {
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "N"))
        }
        valuesInRow += 1
        if valuesInRow == columns {
            bytes.append(UInt8(ascii: "\n"))
            valuesInRow = 0
            count += 1
        }
    }

    /// Appends a value in COPY's text format: backslash, tab, newline and carriage return escaped.
    static func appendEscaped(_ value: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        let special: (UInt8) -> Bool = { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        guard value.contains(where: special) else {
            bytes.append(contentsOf: value)
            return
        }
        for byte in value {
            switch byte {
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            default: bytes.append(byte)
            }
        }
    }
}
