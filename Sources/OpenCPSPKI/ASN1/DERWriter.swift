/// The few DER writing steps of the issuance path: a tag, a definite length and the content,
/// appended to a byte array.
///
/// swift-asn1's serializer reserves one length byte per constructed node and moves the
/// content when the length needs more, and swift-certificates builds a model of the whole
/// certificate before serializing it; for the one certificate issued per request, writing
/// the known shape straight into bytes costs a fraction of that. The output is checked
/// against swift-certificates' own by the tests.
enum DERWriter {
    /// Tags used by card certificates.
    enum Tag {
        static let integer: UInt8 = 0x02
        static let bitString: UInt8 = 0x03
        static let octetString: UInt8 = 0x04
        static let utf8String: UInt8 = 0x0C
        static let ia5String: UInt8 = 0x16
        static let utcTime: UInt8 = 0x17
        static let generalizedTime: UInt8 = 0x18
        static let sequence: UInt8 = 0x30
        static let set: UInt8 = 0x31
        /// `[0]` constructed, context-specific.
        static let contextConstructed0: UInt8 = 0xA0
        /// `[3]` constructed, context-specific.
        static let contextConstructed3: UInt8 = 0xA3
    }

    /// Appends a definite length in its shortest form.
    static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
        precondition(length >= 0, "a negative DER length")
        if length < 0x80 {
            bytes.append(UInt8(length))
            return
        }
        var octets = 0
        var rest = length
        while rest > 0 {
            octets += 1
            rest >>= 8
        }
        bytes.append(0x80 | UInt8(octets))
        for shift in stride(from: (octets - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: length >> shift))
        }
    }

    /// Appends `tag`, the length of `content`, and `content`.
    static func append(_ tag: UInt8, _ content: some Collection<UInt8>, to bytes: inout [UInt8]) {
        bytes.append(tag)
        appendLength(content.count, to: &bytes)
        bytes.append(contentsOf: content)
    }

    /// Appends `tag`, the length of the text's UTF-8 bytes, and those bytes.
    static func append(_ tag: UInt8, text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { append(tag, $0, to: &bytes) }
    }

    /// `tag`, the length of `content`, and `content`.
    static func element(_ tag: UInt8, _ content: some Collection<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(content.count + 4)
        append(tag, content, to: &bytes)
        return bytes
    }

    /// Whether `lhs` comes before `rhs` in a DER `SET OF`: compared byte by byte, the shorter
    /// padded with zeros at its end (X.690 §11.6), as swift-certificates sorts the attributes
    /// of a relative distinguished name.
    static func setOfPrecedes(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        for (left, right) in zip(lhs, rhs) where left != right {
            return left < right
        }
        let trailing = rhs.dropFirst(lhs.count)
        return !(trailing.isEmpty || trailing.allSatisfy { $0 == 0 })
    }
}
