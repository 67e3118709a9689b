public import Foundation

/// One line of an extraction file, as UTF-8 bytes without its line terminator.
public struct ExtractionLine: Hashable, Sendable {
    /// The 1-based line number in the file (the header is line 1).
    public let number: Int
    /// The line's bytes in UTF-8, without `\r\n`, `\n` or the BOM.
    public let bytes: [UInt8]
    /// Whether the line was not valid UTF-8 and was read as Windows-1252.
    public let wasWindows1252: Bool

    /// The line as a string.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Streams the lines of an extraction file from a synchronous loop:
///
/// ```swift
/// let reader = try ExtractionLineReader(path: path)
/// while let line = try reader.nextLine() { ... reader.bytesConsumed ... }
/// ```
///
/// It reads the file in large chunks, splits on `\n`, strips a `\r` before it and a UTF-8
/// BOM at the start of the file, skips empty lines (still counting them), and gives every
/// line as UTF-8: a line that is not valid UTF-8 is read as Windows-1252.
/// Not thread-safe: use one reader from one task.
public final class ExtractionLineReader {
    private let handle: FileHandle?
    private let chunkSize: Int
    private var buffer: [UInt8]
    private var start = 0
    private var scanned = 0
    private var atEnd: Bool
    private var lineCount = 0
    private var atFileStart = true

    /// The size of the file in bytes, when known.
    public let totalBytes: Int?
    /// The bytes of the lines returned so far, terminators included (for a progress bar).
    public private(set) var bytesConsumed = 0
    /// The number of lines that were read as Windows-1252.
    public private(set) var windows1252LineCount = 0

    /// Opens a file.
    /// - Parameters:
    ///   - path: the file's path.
    ///   - chunkSize: how many bytes to read at a time.
    /// - Throws: ``ExtractionError`` with code `extraction.read` when the file cannot be opened.
    public convenience init(path: String, chunkSize: Int = 4 << 20) throws(ExtractionError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ExtractionError(lineNumber: nil, code: "extraction.read", message: "cannot open \(path)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        self.init(handle: handle, totalBytes: size, chunkSize: chunkSize)
    }

    /// Reads from an open file handle, from its current position.
    /// - Parameters:
    ///   - handle: the handle to read; the reader does not close it.
    ///   - totalBytes: the size to report in ``totalBytes``, when known.
    ///   - chunkSize: how many bytes to read at a time.
    public init(handle: FileHandle, totalBytes: Int? = nil, chunkSize: Int = 4 << 20) {
        self.handle = handle
        self.totalBytes = totalBytes
        self.chunkSize = max(chunkSize, 4096)
        buffer = []
        atEnd = false
    }

    /// Reads lines from bytes already in memory.
    public init(bytes: [UInt8]) {
        handle = nil
        totalBytes = bytes.count
        chunkSize = 0
        buffer = bytes
        atEnd = true
    }

    /// The next non-empty line, or nil at the end of the file.
    /// - Throws: ``ExtractionError`` with code `extraction.read` when reading fails.
    public func nextLine() throws(ExtractionError) -> ExtractionLine? {
        while true {
            guard let (raw, consumed) = try nextRawLine() else { return nil }
            lineCount += 1
            bytesConsumed += consumed
            var line = raw
            if atFileStart {
                atFileStart = false
                if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty { continue }
            let (utf8, converted) = TextDecoding.utf8Line(line)
            if converted { windows1252LineCount += 1 }
            return ExtractionLine(number: lineCount, bytes: utf8, wasWindows1252: converted)
        }
    }

    /// The next line's bytes (without `\n`) and the number of bytes it used, `\n` included.
    private func nextRawLine() throws(ExtractionError) -> ([UInt8], Int)? {
        while true {
            let newline: Int? = buffer.withUnsafeBufferPointer { pointer in
                guard let base = pointer.baseAddress, scanned < pointer.count,
                      let found = memchr(base + scanned, 0x0A, pointer.count - scanned)
                else { return nil }
                return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            if let newline {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                scanned = start
                return (line, line.count + 1)
            }
            scanned = buffer.count
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return (line, line.count)
            }
            try fill()
        }
    }

    private func fill() throws(ExtractionError) {
        guard let handle else {
            atEnd = true
            return
        }
        if start > 0 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        let data: Data?
        do {
            data = try handle.read(upToCount: chunkSize)
        } catch {
            throw ExtractionError(lineNumber: nil, code: "extraction.read", message: "cannot read the file: \(error)")
        }
        guard let data, !data.isEmpty else {
            atEnd = true
            return
        }
        buffer.append(contentsOf: data)
    }
}
