import Foundation
@testable import OpenCPSDomain
@testable import OpenCPSHTTP
import Testing
import Vapor
import VaporTesting

/// The issuance path reads and writes its JSON by hand; Foundation's JSON is the reference.
@Suite("Flat JSON reader and writer")
struct FlatJSONTests {
    /// Foundation's reading of a top-level object, for comparison.
    func foundation(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    func assertSame(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = Array(text.utf8)
        let ours = try FlatJSONObject(bytes: bytes)
        let reference = try #require(foundation(bytes), "Foundation refused \(text)", sourceLocation: sourceLocation)
        for (key, value) in reference {
            switch value {
            case let string as String:
                #expect(ours[key] == .string(string), "\(key) in \(text)", sourceLocation: sourceLocation)
            case is NSNull:
                #expect(ours[key] == .null, sourceLocation: sourceLocation)
            case is [Any]:
                #expect(ours[key] == .array, sourceLocation: sourceLocation)
            case is [String: Any]:
                #expect(ours[key] == .object, sourceLocation: sourceLocation)
            case let number as NSNumber:
                switch ours[key] {
                case .integer(let integer)?: #expect(number.int64Value == Int64(integer), sourceLocation: sourceLocation)
                case .number?, .boolean?: break
                default: Issue.record("\(key) read as \(String(describing: ours[key])) in \(text)", sourceLocation: sourceLocation)
                }
            default:
                Issue.record("unexpected value for \(key)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("valid objects read as Foundation reads them", arguments: [
        #"{}"#,
        #" { "a" : "b" } "#,
        #"{"profile":"authentication","csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\/xyz==\n-----END CERTIFICATE REQUEST-----\n"}"#,
        #"{"name":"M\u00e9decin \"lib\u00E9ral\" \\ \/ \b\f\n\r\t","emoji":"\ud83d\ude00","raw":"Ørsted ✓"}"#,
        #"{"n":0,"m":-12,"big":9223372036854775807,"f":1.5,"e":2E+3,"neg":-0.0}"#,
        #"{"t":true,"f":false,"z":null,"a":[1,[2,{"x":[]}],"s"],"o":{"k":{"j":null}}}"#,
        #"{"dup":"first","dup":"second"}"#,
        "{\"tab\":\"a\u{00}\"}".replacingOccurrences(of: "\u{00}", with: "\\u0000"),
    ])
    func valid(text: String) throws {
        try assertSame(text)
    }

    @Test("malformed text is refused as JSONDecoder refuses it", arguments: [
        "", " ", "[]", "\"s\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":1}x", "{\"a\":01}", "{\"a\":1.}",
        "{\"a\":-}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\u{01}\"}", "{\"a\":\"open}",
        "{'a':1}", "{a:1}", "{\"a\":[1,2}", "{\"a\":{\"b\":1]}", "{\"a\":1}{}", "{\"a\" 1}",
    ])
    func malformed(text: String) {
        #expect(throws: DecodingError.self) { try FlatJSONObject(bytes: Array(text.utf8)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode([String: String?].self, from: Data(text.utf8)) }
    }

    @Test("invalid UTF-8 in a string is refused")
    func invalidUTF8() {
        let bytes = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: DecodingError.self) { try FlatJSONObject(bytes: bytes) }
        #expect(foundation(bytes) == nil)
    }

    @Test("random strings written by JSONEncoder read back the same, and by our writer parse back the same")
    func randomStrings() throws {
        var random = SplitMix64(seed: 2026)
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}",
                                          "\u{1F}", "\u{7F}", "é", "Ø", "€", "\u{2028}", "😀", "\u{FFFF}"]
        for _ in 0..<500 {
            let length = Int(random.next() % 24)
            var text = ""
            for _ in 0..<length { text.unicodeScalars.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
            let encoded = try JSONEncoder().encode(["value": text, "other": "x"])
            #expect(try FlatJSONObject(bytes: Array(encoded))["value"] == .string(text))

            var writer = FlatJSONWriter()
            writer.add("value", text)
            writer.add("absent", nil as String?)
            let written = writer.finish()
            #expect(try JSONDecoder().decode([String: String].self, from: Data(written)) == ["value": text])
        }
    }

    @Test("errors are the DecodingErrors Codable would raise: missing, null, wrong type")
    func fieldErrors() throws {
        let object = try FlatJSONObject(bytes: Array(#"{"s":"x","n":null,"i":3,"f":3.5,"b":true}"#.utf8))
        #expect(try object.string("s") == "x")
        #expect(try object.optionalString("missing") == nil)
        #expect(try object.optionalString("n") == nil)
        #expect(try object.optionalInteger("i") == 3)
        #expect(throws: DecodingError.self) { try object.string("missing") }
        #expect(throws: DecodingError.self) { try object.string("n") }
        #expect(throws: DecodingError.self) { try object.string("i") }
        #expect(throws: DecodingError.self) { try object.optionalInteger("s") }
        #expect(throws: DecodingError.self) { try object.optionalInteger("f") }
        #expect(throws: DecodingError.self) { try object.optionalInteger("b") }
        do {
            _ = try object.string("missing")
        } catch DecodingError.keyNotFound(let key, _) {
            #expect(key.stringValue == "missing")
        }
    }

    @Test("dates are written as ISO 8601 to the second, as Vapor's encoder writes them", arguments: [
        0.0, 1_798_761_599.75, 951_782_400.0, -1.0, 4_107_542_400.0,
    ])
    func dates(seconds: Double) throws {
        var writer = FlatJSONWriter()
        writer.add("at", Date(timeIntervalSince1970: seconds))
        let ours = String(decoding: writer.finish(), as: UTF8.self)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let reference = String(decoding: try encoder.encode(["at": Date(timeIntervalSince1970: seconds.rounded(.down))]), as: UTF8.self)
        #expect(ours == reference)
    }

    @Test("nesting is bounded: 64 levels are read, deeper bodies are refused without exhausting the stack")
    func nestingIsBounded() throws {
        let inner = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        let nested = try FlatJSONObject(bytes: Array("{\"a\":\(inner)}".utf8))
        #expect(nested["a"] == .array)
        for depth in [65, 1_000, 400_000] {
            let body = Array(("{\"a\":" + String(repeating: "[", count: depth)).utf8)
            #expect(throws: DecodingError.self, "\(depth) levels") { try FlatJSONObject(bytes: body) }
        }
    }

    @Test("a body of 400 KB of nested brackets gets a 400 problem and the server keeps answering")
    func deepBodyOverHTTP() async throws {
        try await withTestApp(pki: TestPKIMaterial.shared) { app in
            let body = "{\"a\":" + String(repeating: "[", count: 400_000)
            try await app.testing().test(.POST, "/api/v1/certificates", headers: .operatorHeaders, body: jsonBody(body)) { response in
                #expect(response.status == .badRequest)
                let problem = try jsonObject(response)
                #expect(problem["code"] as? String == "request.malformed-body")
            }
            try await app.testing().test(.GET, "/health") { #expect($0.status == .ok) }
        }
    }
}
