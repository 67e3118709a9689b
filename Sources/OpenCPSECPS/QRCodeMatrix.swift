extension QRCode {
    /// The symbol being drawn: its modules and which of them belong to function patterns
    /// (finders, timing, alignment, format and version information), which masks leave alone.
    struct Matrix {
        let version: Int
        let size: Int
        var modules: [[Bool]]
        var isFunction: [[Bool]]

        init(version: Int) {
            self.version = version
            size = 17 + 4 * version
            modules = Array(repeating: Array(repeating: false, count: size), count: size)
            isFunction = modules
        }

        private mutating func set(_ x: Int, _ y: Int, _ dark: Bool) {
            modules[y][x] = dark
            isFunction[y][x] = true
        }

        // MARK: Function patterns

        mutating func drawFunctionPatterns() {
            for i in 0..<size {
                set(6, i, i % 2 == 0)
                set(i, 6, i % 2 == 0)
            }
            for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
                for dy in -4...4 {
                    for dx in -4...4 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                        let distance = max(abs(dx), abs(dy))
                        set(x + dx, y + dy, distance != 2 && distance != 4)
                    }
                }
            }
            let positions = alignmentPositions
            let last = positions.count - 1
            for i in positions.indices {
                for j in positions.indices where !(i == 0 && j == 0) && !(i == 0 && j == last) && !(i == last && j == 0) {
                    for dy in -2...2 {
                        for dx in -2...2 { set(positions[i] + dx, positions[j] + dy, max(abs(dx), abs(dy)) != 1) }
                    }
                }
            }
            // Reserved now, written once the mask is chosen.
            drawFormatBits(mask: 0)
            if version >= 7 {
                var remainder = version
                for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
                let bits = version << 12 | remainder
                for i in 0..<18 {
                    let dark = (bits >> i) & 1 == 1
                    let a = size - 11 + i % 3, b = i / 3
                    set(a, b, dark)
                    set(b, a, dark)
                }
            }
        }

        /// The centres of the alignment patterns along each axis.
        var alignmentPositions: [Int] {
            guard version > 1 else { return [] }
            let count = version / 7 + 2
            let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2
            var result = [6]
            var position = size - 7
            for _ in 0..<(count - 1) {
                result.insert(position, at: 1)
                position -= step
            }
            return result
        }

        /// The format information (level M, the mask) with its BCH code, in both copies.
        mutating func drawFormatBits(mask: Int) {
            let data = 0b00 << 3 | mask  // level M's indicator is 00
            var remainder = data
            for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
            let bits = (data << 10 | remainder) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(8, i, bit(i)) }
            set(8, 7, bit(6))
            set(8, 8, bit(7))
            set(7, 8, bit(8))
            for i in 9..<15 { set(14 - i, 8, bit(i)) }
            for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
            for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
            set(8, size - 8, true)  // the dark module
        }

        // MARK: Data

        /// Places the codewords in the zigzag of two-module columns, right to left.
        mutating func drawCodewords(_ codewords: [UInt8]) {
            var index = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for vertical in 0..<size {
                    for j in 0..<2 {
                        let x = right - j
                        let upward = (right + 1) & 2 == 0
                        let y = upward ? size - 1 - vertical : vertical
                        if !isFunction[y][x] && index < codewords.count * 8 {
                            modules[y][x] = (codewords[index >> 3] >> (7 - UInt8(index & 7))) & 1 == 1
                            index += 1
                        }
                    }
                }
                right -= 2
            }
        }

        /// Inverts the data modules the mask pattern selects (applying it twice undoes it).
        mutating func apply(mask: Int) {
            for y in 0..<size {
                for x in 0..<size where !isFunction[y][x] {
                    let invert = switch mask {
                    case 0: (x + y) % 2 == 0
                    case 1: y % 2 == 0
                    case 2: x % 3 == 0
                    case 3: (x + y) % 3 == 0
                    case 4: (x / 3 + y / 2) % 2 == 0
                    case 5: x * y % 2 + x * y % 3 == 0
                    case 6: (x * y % 2 + x * y % 3) % 2 == 0
                    default: ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                    if invert { modules[y][x].toggle() }
                }
            }
        }

        // MARK: Penalty

        /// The standard's penalty of the symbol with `mask` applied (rules N1 to N4).
        func penalty(mask: Int) -> Int {
            var masked = self
            masked.apply(mask: mask)
            masked.drawFormatBits(mask: mask)
            return masked.score()
        }

        private func score() -> Int {
            var result = 0
            for y in 0..<size { result += lineScore { modules[y][$0] } }
            for x in 0..<size { result += lineScore { modules[$0][x] } }
            for y in 0..<(size - 1) {
                for x in 0..<(size - 1) {
                    let colour = modules[y][x]
                    if colour == modules[y][x + 1] && colour == modules[y + 1][x] && colour == modules[y + 1][x + 1] { result += 3 }
                }
            }
            let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
            let total = size * size
            let k = (abs(dark * 20 - total * 10) + total - 1) / total - 1
            return result + k * 10
        }

        /// Rule N1 (runs of five or more) and N3 (finder-like 1:1:3:1:1 patterns with four
        /// light modules on a side, the quiet zone counting as light) along one row or column.
        private func lineScore(_ module: (Int) -> Bool) -> Int {
            var result = 0
            var runColour = false, runLength = 0
            var history = [Int](repeating: 0, count: 7)
            for i in 0..<size {
                if module(i) == runColour {
                    runLength += 1
                    if runLength == 5 { result += 3 } else if runLength > 5 { result += 1 }
                } else {
                    addHistory(runLength, &history)
                    if !runColour { result += finderPatterns(history) * 40 }
                    runColour = module(i)
                    runLength = 1
                }
            }
            if runColour {
                addHistory(runLength, &history)
                runLength = 0
            }
            addHistory(runLength + size, &history)
            return result + finderPatterns(history) * 40
        }

        private func addHistory(_ length: Int, _ history: inout [Int]) {
            history.removeLast()
            history.insert(history[0] == 0 ? length + size : length, at: 0)
        }

        private func finderPatterns(_ history: [Int]) -> Int {
            let n = history[1]
            let core = n > 0 && history[2] == n && history[3] == n * 3 && history[4] == n && history[5] == n
            return (core && history[0] >= n * 4 && history[6] >= n ? 1 : 0) + (core && history[6] >= n * 4 && history[0] >= n ? 1 : 0)
        }
    }
}
