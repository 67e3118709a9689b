import Foundation
import OpenCPSServices
import Testing

/// The byte-level base64url of JWS (RFC 7515 §2) against Foundation's base64 and RFC 4648's
/// test vectors.
@Suite("Base64url")
struct Base64URLTests {
    @Test("encodes as Foundation's base64 with the URL alphabet and no padding, and decodes back, for every length up to 64")
    func matchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.decode(expected) == bytes)
        }
    }

    @Test("RFC 4648's vectors; padding, other alphabets, impossible lengths and stray bits are refused")
    func vectorsAndRefusals() {
        for (text, encoded) in [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")] {
            #expect(Base64URL.encode(Array(text.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(text.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        for bad in ["Zg==", "Zm9v+A", "Zm9v/A", "Z", "Zm9vY", "Zh", "Zm9 v"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
    }
}
