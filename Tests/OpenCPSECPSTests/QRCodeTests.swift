import Foundation
@testable import OpenCPSECPS
import Testing

/// The QR encoder against references it did not make: the Reed–Solomon codewords of the
/// standard's worked example, and matrices `qrencode` 4.1.1 (libqrencode, Debian) drew for the
/// same text (`qrencode -l M -8 -m 0 -t ASCII`). The portal's tests also decode the page's
/// code with `zbarimg`.
@Suite("QR code")
struct QRCodeTests {
    /// `qrencode -l M -8 -m 0 -t ASCII HELLO` (version 1, mask 3).
    static let hello = [
        "#######.#..#..#######",
        "#.....#.####..#.....#",
        "#.###.#...#.#.#.###.#",
        "#.###.#.#.#.#.#.###.#",
        "#.###.#....#..#.###.#",
        "#.....#....##.#.....#",
        "#######.#.#.#.#######",
        "........#..##........",
        "#.##.###.#.##.#..#.##",
        ".##.##.#.######..##..",
        "#...#.#..#.#.......##",
        "#.##...#...#..####.#.",
        ".#.######...#..#..#.#",
        "........####..#...#.#",
        "#######.#..##..#.....",
        "#.....#.#.#....#####.",
        "#.###.#.....######.##",
        "#.###.#.#.##..#.####.",
        "#.###.#.##..#.##..#..",
        "#.....#...#..#.##...#",
        "#######.#.#..#.#.....",
    ]

    /// The same for an enrolment payload of a server at `https://opencps.test` (version 6, mask 2).
    static let payload = "ecps1.aHR0cHM6Ly9vcGVuY3BzLnRlc3Q.5E0C3D9A-1F2B-4C3D-9E8F-0A1B2C3D4E5F.Zq3vX9kLm2Np4Rt6Vw8Yb0"
    static let payloadMatrix = [
        "#######..#####.#########.#.##..#..#######",
        "#.....#....##..###..##..####.#....#.....#",
        "#.###.#.##.#.###.##..#####.##..#..#.###.#",
        "#.###.#.#.......#..###.#..#####...#.###.#",
        "#.###.#.#......#..##.####.......#.#.###.#",
        "#.....#.###...#.###.#...####.##.#.#.....#",
        "#######.#.#.#.#.#.#.#.#.#.#.#.#.#.#######",
        "........#....#..#..#.###...##.#.#........",
        "#.#####..#.#.#......###.#.#####.#.#####..",
        ".###......##..##..##.#.#.#......#.#.##.#.",
        "##..#.##.#.#.#...##.#...#..##....#.###...",
        "..#..#.#.#.#.#..#....#.#..###....###.#.##",
        "##..###..##.#####..####.#.#..####..#..##.",
        "######..#....##..##..#.....#...##.#.####.",
        ".##..###.###.##..##.##.##.##.##..#.#..#..",
        "..#..#..###..##......###..##..###...##...",
        "#..####.#...........#..#.#.##....#.#.#.##",
        "..#.#..#.##.#..#..##..#...#..##.###.##.##",
        "#.##..##...#...#..#...#.#..#..#.##.#.#...",
        "##.#.#.####...##.......#..###.#...#.#..#.",
        "##.####.##.#......##.####..#....#..####.#",
        "#.......#..##.......##...####..#...######",
        "#.##.#####.....####...#...###.#..#..#.#..",
        ".#...#.#...####.#.#.###.#.....####.###...",
        "####.##.#..#...###..###..###.#.#.....##.#",
        "....##...##..#.##...####..###.#.##..#...#",
        ".#.########.#.##....#......#..#.#....###.",
        "..#..#.#....##..#.#.##..#.##..#..#.###...",
        ".#....#.#...#.#..##....#.#..#...##...##.#",
        "###..#.#####...####.##..#.....#.#.###...#",
        "#.#...###.#.##.....#......##.##...#.#.##.",
        "#..#.#..###.###...#####.#.#....#####.#...",
        "#.....##.#.#.#.#.#.##.#.#.##.##.#####.#.#",
        "........##..#.#####.######.###.##...#.##.",
        "#######...#.##...#...#..#####.###.#.#....",
        "#.....#.#.##..##########.#......#...##.##",
        "#.###.#.##..#.#.#...##....####..#####..##",
        "#.###.#.#..#..#...##.#####....##...#.....",
        "#.###.#.#..#.##..##.#.#....####..####....",
        "#.....#...#...###...##....#.....##..#..#.",
        "#######.#..#..#....##.##.#.#........###..",
    ]

    static func rows(_ code: QRCode) -> [String] {
        code.modules.map { row in String(row.map { $0 ? "#" : "." }) }
    }

    @Test("Reed–Solomon gives the error-correction codewords of the HELLO WORLD 1-M example")
    func reedSolomon() {
        // Data codewords of "HELLO WORLD" in alphanumeric mode, version 1-M, and their 10 EC codewords.
        let data: [UInt8] = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17]
        #expect(ReedSolomon.remainder(data, divisor: ReedSolomon.divisor(degree: 10)) == [196, 35, 39, 119, 235, 215, 231, 226, 93, 23])
    }

    @Test("byte mode, version 1: the matrix qrencode draws with the same mask")
    func helloMatrix() throws {
        let code = try QRCode(text: "HELLO", mask: 3)
        #expect(code.version == 1 && code.size == 21)
        #expect(Self.rows(code) == Self.hello)
    }

    @Test("an enrolment payload: the smallest version, the mask the penalty rules choose, the matrix qrencode draws")
    func payloadMatrixMatches() throws {
        let code = try QRCode(text: Self.payload)
        #expect(code.version == 6 && code.mask == 2)
        #expect(Self.rows(code) == Self.payloadMatrix)
    }

    @Test("capacity: the version grows with the text; past version 40 the text is refused; masks are 0 to 7")
    func capacity() throws {
        #expect(try QRCode(text: String(repeating: "x", count: 14)).version == 1)
        #expect(try QRCode(text: String(repeating: "x", count: 15)).version == 2)
        #expect(try QRCode(text: String(repeating: "x", count: 2331)).version == 40)
        #expect(throws: QRCodeError.tooLong(2332)) { try QRCode(text: String(repeating: "x", count: 2332)) }
        #expect(throws: QRCodeError.invalidMask(8)) { try QRCode(text: "x", mask: 8) }
    }

    @Test("the SVG: the quiet zone, one path, a label for screen readers, no style attribute")
    func svg() throws {
        let svg = try QRCode(text: "HELLO").svg(label: "Code \"QR\" & co")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"256\" height=\"256\" viewBox=\"0 0 29 29\" role=\"img\""))
        #expect(svg.contains("aria-label=\"Code &quot;QR&quot; &amp; co\"") && !svg.contains("style="))
        #expect(svg.contains("M4 4h1v1h-1z"))  // the finder's corner, after the 4-module quiet zone
    }
}
