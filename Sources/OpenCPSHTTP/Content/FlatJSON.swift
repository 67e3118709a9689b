// Hand-written on purpose: stands in for Foundation's JSONDecoder and JSONEncoder (Codable, through Vapor's
// content coders) for the issuance request's flat body and its answer.
// Why: a profile of issuance under load put "decoding the JSON body (7 %)" and "encoding the answer (5 %)" of the
// server's samples (2026-11-28 00:35, issuance code of 4560201); with this file, "the JSON body 2 %" (2026-12-03,
// 397b7d0). Its gain in rate was not measured apart from CardCertificateEncoder's (56e1546 and 9122a38 together).
// Benchmark: `bash Benchmarks/pki/run.sh --only issuance`, docs/benchmarks.md "How to reproduce"; the figures are
// in the former diary, `git show 94469db:docs/benchmarks.md`, "Issuance-only run of 2026-11-28, 00:35" and
// "Midday of 2026-12-03".

import Foundation
import OpenCPSDomain

/// A JSON object read for its top-level fields only: strings, integers and nulls are kept, any
/// other value is skipped and remembered by kind, so that reading it as a string or an integer
/// is refused with the message a `JSONDecoder` would give.
///
/// For the issuance request, which is flat: Foundation's decoder, through `Codable`, cost about
/// a twentieth of the server's CPU per certificate. The grammar is RFC 8259's, strictly:
/// anything a `JSONDecoder` refuses as malformed is refused here too (the tests hold the two
/// side by side), and errors are `DecodingError`s, which the problem middleware words.
struct FlatJSONObject {
    /// A top-level value.
    enum Value: Equatable {
        case string(String)
        case integer(Int)
        case null
        /// A number that is not an integer in `Int`'s range, as written.
        case number(String)
        case boolean
        case array
        case object
    }

    private let fields: [String: Value]

    /// Reads `bytes`, which must be one JSON object (whitespace around it allowed).
    /// - Throws: `DecodingError.dataCorrupted` when it is not valid JSON, or not an object.
    init(bytes: some Collection<UInt8>) throws {
        var scanner = Scanner(bytes: Array(bytes))
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw scanner.failure(scanner.atEnd ? "the body is empty" : "the body is not a JSON object")
        }
        scanner.index += 1
        var fields: [String: Value] = [:]
        try scanner.members(close: UInt8(ascii: "}"), keyed: true) { key, value in
            if let key { fields[key] = value }
        }
        self.fields = fields
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.failure("unexpected text after the JSON object") }
    }

    /// The value of a field, nil when absent.
    subscript(key: String) -> Value? { fields[key] }

    /// A required string.
    func string(_ key: String) throws -> String {
        guard let value = fields[key] else {
            throw DecodingError.keyNotFound(FieldKey(key), .init(codingPath: [], debugDescription: "no value for \(key)"))
        }
        guard let text = try Self.string(value, key: key) else {
            throw DecodingError.valueNotFound(String.self, .init(codingPath: [FieldKey(key)], debugDescription: "\(key) is null: \(value)"))
        }
        return text
    }

    /// An optional string: nil when absent or null.
    func optionalString(_ key: String) throws -> String? {
        try Self.string(fields[key], key: key)
    }

    /// The text of a field's value: nil when absent or null.
    private static func string(_ value: Value?, key: String) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw DecodingError.typeMismatch(String.self, .init(codingPath: [FieldKey(key)], debugDescription: "expected a string"))
        }
    }

    /// An optional integer: nil when absent or null.
    func optionalInteger(_ key: String) throws -> Int? {
        switch fields[key] {
        case nil, .null?: return nil
        case .integer(let number)?: return number
        case .number(let text)?:
            throw DecodingError.dataCorrupted(.init(codingPath: [FieldKey(key)], debugDescription: "the number \(text) is not an integer"))
        default: throw DecodingError.typeMismatch(Int.self, .init(codingPath: [FieldKey(key)], debugDescription: "expected an integer"))
        }
    }

    private struct FieldKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// How deep arrays and objects may nest: the issuance body is flat, and each level costs a
    /// frame of the reader's recursion, so a body of nested brackets must not exhaust the stack.
    static let maximumDepth = 64

    /// Reads JSON text byte by byte.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        /// How many arrays and objects are open.
        var depth = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index >= bytes.count }
        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        func failure(_ reason: String) -> DecodingError {
            // No coding path: the problem middleware says "the body is not valid JSON".
            DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(reason) (at byte \(index))"))
        }

        mutating func skipWhitespace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard peek() == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
            index += 1
        }

        mutating func value() throws -> Value {
            guard let byte = peek() else { throw failure("a value is missing") }
            switch byte {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"):
                index += 1
                try members(close: UInt8(ascii: "}"), keyed: true) { _, _ in }
                return .object
            case UInt8(ascii: "["):
                index += 1
                try members(close: UInt8(ascii: "]"), keyed: false) { _, _ in }
                return .array
            case UInt8(ascii: "t"): try literal("true"); return .boolean
            case UInt8(ascii: "f"): try literal("false"); return .boolean
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw failure("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count,
                  bytes[index..<index + count].elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count)) else {
                throw failure("unexpected word")
            }
            index += count
        }

        mutating func number() throws -> Value {
            let start = index
            if peek() == UInt8(ascii: "-") { index += 1 }
            func digits() -> Int {
                let from = index
                while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
                return index - from
            }
            let leadingZero = peek() == UInt8(ascii: "0")
            let integerDigits = digits()
            guard integerDigits > 0, !(leadingZero && integerDigits > 1) else { throw failure("malformed number") }
            var integral = true
            if peek() == UInt8(ascii: ".") {
                index += 1
                integral = false
                guard digits() > 0 else { throw failure("malformed number") }
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                index += 1
                integral = false
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw failure("malformed number") }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if integral, let number = Int(text) { return .integer(number) }
            return .number(text)
        }

        /// Reads the members of an object (`keyed`) or an array up to its closing byte, the
        /// opening one already read, checking the grammar of nested values too; `each` gets every
        /// member's key (nil in an array) and value.
        mutating func members(close: UInt8, keyed: Bool, _ each: (String?, Value) -> Void) throws {
            guard depth < FlatJSONObject.maximumDepth else {
                throw failure("arrays and objects nested deeper than \(FlatJSONObject.maximumDepth) levels")
            }
            depth += 1
            defer { depth -= 1 }
            skipWhitespace()
            if peek() == close {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                var key: String?
                if keyed {
                    key = try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                each(key, try value())
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(close)
                return
            }
        }

        /// A string, its escapes decoded; unescaped control characters and invalid UTF-8 are refused.
        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            let start = index
            // The common case: no escape, so the bytes are the string.
            while let byte = peek(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                guard byte >= 0x20 else { throw failure("a control character in a string") }
                index += 1
            }
            var decoded = Array(bytes[start..<index])
            while true {
                guard let byte = peek() else { throw failure("an unterminated string") }
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: decoded, as: UTF8.self) else { throw failure("a string that is not UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    try escape(into: &decoded)
                case 0..<0x20:
                    throw failure("a control character in a string")
                default:
                    decoded.append(byte)
                }
            }
        }

        mutating func escape(into decoded: inout [UInt8]) throws {
            guard let byte = peek() else { throw failure("an unterminated escape") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hexQuad()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw failure("a lone surrogate")
                    }
                    index += 2
                    let low = try hexQuad()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("a lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw failure("a lone surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw failure("an invalid escape") }
                decoded.append(contentsOf: UTF8.encode(unicode)!)
            default:
                throw failure("an invalid escape")
            }
        }

        mutating func hexQuad() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw failure("an unterminated escape") }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw failure("an invalid escape")
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }
    }
}

/// Writes a flat JSON object: `{"key":value,...}`, strings escaped as RFC 8259 requires,
/// dates as ISO 8601 to the second in UTC (what Vapor's JSON encoder writes for the API).
struct FlatJSONWriter {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The object's text, closed.
    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func key(_ name: StaticString) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A string field; nil writes nothing (as `Encodable` leaves out a nil optional).
    mutating func add(_ name: StaticString, _ value: String?) {
        guard var value else { return }
        key(name)
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8 { utf8 in
            // Runs that need no escape are copied whole (a PEM is a run per line).
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(UInt8(ascii: "u"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(UInt8(ascii: "0"))
                    bytes.append(hex.utf8Start[Int(byte >> 4)])
                    bytes.append(hex.utf8Start[Int(byte & 0x0F)])
                default: bytes.append(byte)
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A date field, `yyyy-MM-ddTHH:mm:ssZ` (the fraction of a second dropped); nil writes nothing.
    mutating func add(_ name: StaticString, _ date: Date?) {
        guard let date else { return }
        let (day, time) = CivilDate.dayAndSecond(of: date)
        key(name)
        // Digits and separators only: nothing to escape.
        bytes.append(UInt8(ascii: "\""))
        digits(day.year, width: 4); bytes.append(UInt8(ascii: "-"))
        digits(day.month, width: 2); bytes.append(UInt8(ascii: "-"))
        digits(day.day, width: 2); bytes.append(UInt8(ascii: "T"))
        digits(time / 3600, width: 2); bytes.append(UInt8(ascii: ":"))
        digits(time / 60 % 60, width: 2); bytes.append(UInt8(ascii: ":"))
        digits(time % 60, width: 2); bytes.append(UInt8(ascii: "Z"))
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes a non-negative number in decimal, with leading zeros up to `width` digits.
    private mutating func digits(_ value: Int, width: Int) {
        var divisor = 1
        var places = 1
        while places < width || value / divisor >= 10 {
            divisor *= 10
            places += 1
        }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
