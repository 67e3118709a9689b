import Foundation

/// A QR Code (ISO/IEC 18004) of a text in byte mode at error-correction level M, for the
/// enrolment payload the portal shows to a phone's camera.
///
/// Why our own: no QR encoder is among the packages this project may use, and the part it
/// needs is small: byte mode, one level, versions 1 to 40, the eight masks and the standard's
/// penalty rules to choose one. It follows the standard's steps in order; the tests compare
/// its matrices with those of `qrencode` (libqrencode) and decode them with `zbarimg`.
public struct QRCode: Sendable, Equatable {
    /// The version (1 to 40): the symbol has `17 + 4 × version` modules a side.
    public let version: Int
    /// The mask pattern used (0 to 7).
    public let mask: Int
    /// The modules, row after row; true is dark. The quiet zone is not included.
    public let modules: [[Bool]]

    /// The number of modules a side.
    public var size: Int { modules.count }

    /// Encodes `text` (its UTF-8 bytes) in the smallest version that holds it.
    /// - Parameter mask: a mask to use (0 to 7); nil chooses the one with the lowest penalty,
    ///   as the standard says (a fixed mask serves the known-answer tests).
    /// - Throws: ``QRCodeError/tooLong(_:)`` past the 2,331 bytes of version 40-M.
    public init(text: String, mask: Int? = nil) throws(QRCodeError) {
        let bytes = Array(text.utf8)
        guard let version = (1...40).first(where: { 4 + Self.countBits($0) + 8 * bytes.count <= Self.dataCodewords($0) * 8 }) else {
            throw .tooLong(bytes.count)
        }
        if let mask, !(0...7).contains(mask) { throw .invalidMask(mask) }
        var matrix = Matrix(version: version)
        matrix.drawFunctionPatterns()
        matrix.drawCodewords(Self.interleaved(Self.dataCodewords(bytes, version: version), version: version))
        let chosen = mask ?? (0...7).min { matrix.penalty(mask: $0) < matrix.penalty(mask: $1) } ?? 0
        matrix.apply(mask: chosen)
        matrix.drawFormatBits(mask: chosen)
        self.version = version
        self.mask = chosen
        modules = matrix.modules
    }

    /// The symbol as an SVG image, with a 4-module quiet zone: one path of dark squares,
    /// black on white, `role="img"` with `label` for screen readers, `pixels` wide (no style
    /// attribute: the portal's Content-Security-Policy allows none).
    public func svg(label: String, pixels: Int = 256) -> String {
        let side = size + 8
        var path = ""
        for (y, row) in modules.enumerated() {
            for (x, dark) in row.enumerated() where dark { path += "M\(x + 4) \(y + 4)h1v1h-1z" }
        }
        let escaped = label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(pixels)" height="\(pixels)" viewBox="0 0 \(side) \(side)" role="img" \
            aria-label="\(escaped)" \
            shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }

    // MARK: Capacity (level M)

    /// Error-correction codewords per block at level M, by version.
    static let eccPerBlock = [
        10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
        26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ]
    /// Error-correction blocks at level M, by version.
    static let blockCount = [
        1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
        17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ]

    /// The modules that carry codewords (data and error correction) in a version.
    static func rawDataModules(_ version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    static func dataCodewords(_ version: Int) -> Int {
        rawDataModules(version) / 8 - eccPerBlock[version - 1] * blockCount[version - 1]
    }

    /// The bits of the byte mode's character count.
    static func countBits(_ version: Int) -> Int { version <= 9 ? 8 : 16 }

    // MARK: Codewords

    /// Mode, count, data, terminator and padding, as codewords.
    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }
        append(0b0100, 4)
        append(bytes.count, countBits(version))
        for byte in bytes { append(Int(byte), 8) }
        let capacity = dataCodewords(version) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var codewords = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while codewords.count < dataCodewords(version) {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// The data split into blocks, each with its Reed–Solomon codewords, interleaved.
    static func interleaved(_ data: [UInt8], version: Int) -> [UInt8] {
        let blocks = blockCount[version - 1], ecc = eccPerBlock[version - 1]
        let raw = rawDataModules(version) / 8
        let shortBlocks = blocks - raw % blocks, shortLength = raw / blocks
        let divisor = ReedSolomon.divisor(degree: ecc)
        var split: [[UInt8]] = []
        var start = 0
        for index in 0..<blocks {
            let length = shortLength - ecc + (index < shortBlocks ? 0 : 1)
            let part = Array(data[start..<start + length])
            start += length
            // A short block gets a placeholder where long blocks have one more data codeword.
            split.append(part + (index < shortBlocks ? [0] : []) + ReedSolomon.remainder(part, divisor: divisor))
        }
        var result: [UInt8] = []
        for column in 0..<split[0].count {
            for (index, block) in split.enumerated() where column != shortLength - ecc || index >= shortBlocks {
                result.append(block[column])
            }
        }
        return result
    }
}

/// Why a text could not be encoded.
public enum QRCodeError: Error, Equatable, Sendable {
    /// More bytes than version 40-M holds.
    case tooLong(Int)
    /// A mask outside 0 to 7.
    case invalidMask(Int)
}

/// Reed–Solomon over GF(2⁸) with the QR Code's polynomial x⁸ + x⁴ + x³ + x² + 1.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= Int((y >> UInt8(i)) & 1) * Int(x)
        }
        return UInt8(z)
    }

    /// The generator polynomial's coefficients (highest first, the leading 1 left out).
    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in result.indices { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
