// Why this file exists: document uploads used Vapor's `FormDataDecoder` (MultipartKit 4.x). The
// fuzz harness (`opencps bench fuzz --target multipart`, issue 21) found that MultipartKit's
// parser traps — "Index out of range" in `isAllowedHeaderFieldNameCharacter`, a 128-entry table
// indexed with any byte — when a part's header name holds a byte of 0x80 or more: one request
// from any caller allowed to upload would have killed the server. No later MultipartKit is
// available here, so uploads are read by this small reader of RFC 7578 bodies, which the same
// harness runs a million inputs through (docs/benchmarks.md, "Fuzzing").
import Foundation

/// A `multipart/form-data` body (RFC 7578), read whole: its parts, in order.
public struct MultipartFormData: Sendable {
    /// One part of the body.
    public struct Part: Sendable, Equatable {
        /// The form field's name (`Content-Disposition: form-data; name="…"`).
        public var name: String
        /// The file name the sender gave, for a file.
        public var filename: String?
        /// The part's `Content-Type`, if given.
        public var contentType: String?
        /// The part's content.
        public var body: [UInt8]

        /// The content as UTF-8 text (a form field's value).
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// The parts, in the order sent.
    public var parts: [Part]

    /// The most parts a body may hold; more is refused rather than read.
    public static let maximumParts = 32
    /// The most header lines a part may have.
    static let maximumHeaderLines = 16

    /// Reads a body sent with `boundary` (the `boundary` parameter of its `Content-Type`).
    /// - Throws: ``MultipartError`` naming what is malformed.
    public init(bytes: [UInt8], boundary: String) throws(MultipartError) {
        let boundaryBytes = Array(boundary.utf8)
        guard (1...70).contains(boundaryBytes.count), boundaryBytes.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw MultipartError("the boundary must be 1 to 70 printable ASCII characters")
        }
        let delimiter = Array("--".utf8) + boundaryBytes
        let separator = Array("\r\n".utf8) + delimiter
        // The first delimiter opens the body, or ends a preamble the reader ignores (RFC 2046 §5.1.1).
        var position: Int
        if bytes.starts(with: delimiter) {
            position = delimiter.count
        } else if let found = Self.find(separator, in: bytes, from: 0) {
            position = found + separator.count
        } else {
            throw MultipartError("the body does not hold its boundary")
        }
        var parts: [Part] = []
        while true {
            if bytes[position...].starts(with: Array("--".utf8)) { break }  // the closing delimiter
            // Transport padding may follow a delimiter before its line break.
            while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
            guard bytes[position...].starts(with: Array("\r\n".utf8)) else {
                throw MultipartError("a boundary is not followed by a line break")
            }
            position += 2
            guard parts.count < Self.maximumParts else {
                throw MultipartError("the body has more than \(Self.maximumParts) parts")
            }
            guard let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: bytes, from: position - 2) else {
                throw MultipartError("a part's headers are not ended by an empty line")
            }
            let headers = try Self.headers(bytes[position..<max(position, headerEnd)])
            guard let contentEnd = Self.find(separator, in: bytes, from: headerEnd + 4) else {
                throw MultipartError("the body is not closed by its boundary")
            }
            parts.append(try Self.part(headers: headers, body: Array(bytes[(headerEnd + 4)..<contentEnd])))
            position = contentEnd + separator.count
        }
        self.parts = parts
    }

    /// The first part named `name`.
    public func part(named name: String) -> Part? {
        parts.first { $0.name == name }
    }

    /// A part's header lines, by lowercased name.
    private static func headers(_ block: ArraySlice<UInt8>) throws(MultipartError) -> [String: String] {
        var headers: [String: String] = [:]
        guard !block.isEmpty else { return headers }
        let lines = block.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count <= maximumHeaderLines else {
            throw MultipartError("a part has more than \(maximumHeaderLines) header lines")
        }
        for rawLine in lines {
            let line = rawLine.last == 0x0D ? rawLine.dropLast() : rawLine
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw MultipartError("a part's header line has no colon")
            }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenCharacter) else {
                throw MultipartError("a part's header name is not a token")
            }
            guard let value = String(bytes: line[(colon + 1)...], encoding: .utf8) else {
                throw MultipartError("a part's header value is not UTF-8")
            }
            headers[String(decoding: name, as: UTF8.self).lowercased()] = value.trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// A part from its headers: `Content-Disposition: form-data` with a name is required.
    private static func part(headers: [String: String], body: [UInt8]) throws(MultipartError) -> Part {
        guard let disposition = headers["content-disposition"] else {
            throw MultipartError("a part has no Content-Disposition")
        }
        let parameters = try dispositionParameters(disposition)
        guard parameters.type == "form-data", let name = parameters.values["name"] else {
            throw MultipartError("a part's Content-Disposition is not form-data with a name")
        }
        return Part(name: name, filename: parameters.values["filename"], contentType: headers["content-type"], body: body)
    }

    /// `form-data; name="file"; filename="a.pdf"`: the type, lowercased, and the parameters
    /// (names lowercased; quoted values unquoted, `\` escaping the next character).
    static func dispositionParameters(_ header: String) throws(MultipartError) -> (type: String, values: [String: String]) {
        var characters = Substring(header)
        func skipSpaces() { characters = characters.drop { $0 == " " || $0 == "\t" } }
        let type = characters.prefix { $0 != ";" }
        characters = characters.dropFirst(type.count)
        var values: [String: String] = [:]
        while !characters.isEmpty {
            characters = characters.dropFirst()  // the ";"
            skipSpaces()
            if characters.isEmpty { break }
            let key = characters.prefix { $0 != "=" && $0 != ";" }
            characters = characters.dropFirst(key.count)
            guard characters.first == "=" else {
                throw MultipartError("a Content-Disposition parameter has no value")
            }
            characters = characters.dropFirst()
            skipSpaces()
            var value = ""
            if characters.first == "\"" {
                characters = characters.dropFirst()
                var closed = false
                while let character = characters.popFirst() {
                    if character == "\\", let escaped = characters.popFirst() {
                        value.append(escaped)
                    } else if character == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw MultipartError("a Content-Disposition value's quotes are not closed") }
                skipSpaces()
                guard characters.isEmpty || characters.first == ";" else {
                    throw MultipartError("a Content-Disposition value has text after its quotes")
                }
            } else {
                let token = characters.prefix { $0 != ";" }
                characters = characters.dropFirst(token.count)
                value = token.trimmingCharacters(in: .whitespaces)
            }
            values[key.trimmingCharacters(in: .whitespaces).lowercased()] = value
        }
        return (type.trimmingCharacters(in: .whitespaces).lowercased(), values)
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Where `needle` first occurs in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, start >= 0, haystack.count - start >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// A `multipart/form-data` body that could not be read.
public struct MultipartError: Error, Equatable, CustomStringConvertible {
    /// What is malformed, for a person.
    public var reason: String
    /// The stable code: `request.malformed-multipart`.
    public var code: String { "request.malformed-multipart" }

    /// Creates the error.
    public init(_ reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { reason }
}
