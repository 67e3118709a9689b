/// UTF-8 validation and the Windows-1252 fallback used for extraction files.
public enum TextDecoding {
    /// Whether `bytes` are well-formed UTF-8 (no overlong forms, surrogates or values above U+10FFFF).
    public static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        let count = bytes.count
        while index < count {
            // Runs of ASCII, most of any line, are passed eight bytes at a time.
            while index + 8 <= count,
                  UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            guard index < count else { break }
            let byte = bytes[index]
            if byte < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch byte {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            let second = bytes[index + 1]
            guard second >= lower, second <= upper else { return false }
            for offset in 2..<max(2, length) {
                let next = bytes[index + offset]
                guard next >= 0x80, next <= 0xBF else { return false }
            }
            index += length
        }
        return true
    }

    /// Whether `bytes` are well-formed UTF-8.
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isValidUTF8($0) }
    }

    /// Converts Windows-1252 text to UTF-8. The five bytes Windows-1252 leaves undefined
    /// (0x81, 0x8D, 0x8F, 0x90, 0x9D) become the C1 controls of the same value, as the
    /// WHATWG encoding standard does.
    public static func utf8(fromWindows1252 bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + bytes.count / 4)
        for byte in bytes {
            let scalar: UInt32 = byte < 0x80 ? UInt32(byte) : byte < 0xA0 ? windows1252High[Int(byte - 0x80)] : UInt32(byte)
            if scalar < 0x80 {
                result.append(UInt8(scalar))
            } else if scalar < 0x800 {
                result.append(UInt8(0xC0 | (scalar >> 6)))
                result.append(UInt8(0x80 | (scalar & 0x3F)))
            } else {
                result.append(UInt8(0xE0 | (scalar >> 12)))
                result.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                result.append(UInt8(0x80 | (scalar & 0x3F)))
            }
        }
        return result
    }

    /// The line as UTF-8: unchanged when it is valid UTF-8, else read as Windows-1252.
    /// - Returns: the UTF-8 bytes and whether the line was converted from Windows-1252.
    public static func utf8Line(_ bytes: [UInt8]) -> (bytes: [UInt8], wasWindows1252: Bool) {
        bytes.withUnsafeBufferPointer { buffer in
            isValidUTF8(buffer) ? (bytes, false) : (utf8(fromWindows1252: buffer), true)
        }
    }

    /// The line as a string: UTF-8 when valid, else Windows-1252.
    public static func string(fromLine bytes: [UInt8]) -> String {
        String(decoding: utf8Line(bytes).bytes, as: UTF8.self)
    }

    /// The Unicode scalars of Windows-1252 bytes 0x80...0x9F.
    private static let windows1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]
}
