import OpenCPSDomain

/// Makes fuzz inputs from seeds, deterministically: the same seed and index give the same input
/// on every machine, so a crash found by `opencps bench fuzz` is replayed from its two numbers.
///
/// Property-based generation in the style of libFuzzer's mutators (bit flips, interesting bytes,
/// insertions, deletions, duplicated and spliced ranges, truncation, nesting, random bytes),
/// stacked a few at a time on a seed taken from the target's corpus. It is not coverage-guided:
/// the seeds and the dictionaries stand in for what coverage would find (docs/benchmarks.md, "Fuzzing").
struct InputMutator {
    private var random: SplitMix64
    private let seeds: [[UInt8]]
    private let dictionary: [[UInt8]]

    /// Creates a mutator over a target's seeds and its dictionary of meaningful tokens.
    init(seed: UInt64, seeds: [[UInt8]], dictionary: [[UInt8]]) {
        random = SplitMix64(seed: seed)
        self.seeds = seeds.isEmpty ? [[]] : seeds
        self.dictionary = dictionary
    }

    /// The next input.
    mutating func next() -> [UInt8] {
        // One input in sixteen is a seed as it is, one in thirty-two pure noise: both are edges
        // the mutations rarely reach.
        switch below(32) {
        case 0, 1: return seeds[below(seeds.count)]
        case 2: return (0..<below(256)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        default: break
        }
        var input = seeds[below(seeds.count)]
        for _ in 0..<(1 + below(4)) { mutate(&input) }
        return input
    }

    private mutating func mutate(_ input: inout [UInt8]) {
        let count = input.count
        switch below(11) {
        case 0 where count > 0:
            let index = below(count)
            input[index] ^= UInt8(1) << UInt8(below(8))
        case 1 where count > 0:
            input[below(count)] = Self.interestingBytes[below(Self.interestingBytes.count)]
        case 2:
            input.insert(UInt8(truncatingIfNeeded: random.next()), at: below(count + 1))
        case 3 where count > 0:
            let start = below(count)
            input.removeSubrange(start..<min(count, start + 1 + below(8)))
        case 4 where count > 0:
            let start = below(count)
            let range = start..<min(count, start + 1 + below(32))
            input.insert(contentsOf: Array(input[range]), at: below(count + 1))
        case 5 where count > 0:
            input.removeLast(below(count) + 1)
        case 6 where !dictionary.isEmpty:
            input.insert(contentsOf: dictionary[below(dictionary.count)], at: below(count + 1))
        case 7:
            // Splice with another seed: the head of one, the tail of the other.
            let other = seeds[below(seeds.count)]
            input = Array(input.prefix(below(count + 1))) + Array(other.suffix(below(other.count + 1)))
        case 8:
            // Deep nesting, the shape that once crashed the server (issue 21).
            let opener = [UInt8(ascii: "["), UInt8(ascii: "{"), 0x30, UInt8(ascii: "(")][below(4)]
            input.insert(contentsOf: [UInt8](repeating: opener, count: 1 + below(4096)), at: below(count + 1))
        case 9 where count > 1:
            // A length or count field made huge or zero: overwrite two bytes.
            let index = below(count - 1)
            input[index] = [0x00, 0x7F, 0x80, 0xFF][below(4)]
            input[index + 1] = [0x00, 0x7F, 0x80, 0x84, 0xFF][below(5)]
        default:
            input.append(UInt8(truncatingIfNeeded: random.next()))
        }
    }

    private mutating func below(_ bound: Int) -> Int {
        Int(random.next() % UInt64(bound))
    }

    /// Bytes that end strings, open structures, or sit at the edge of a length or a sign.
    private static let interestingBytes: [UInt8] = [
        0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF, 0x0A, 0x0D, 0x22, 0x5C, 0x7C, 0x3A, 0x2C, 0x20, 0x30, 0x2D, 0xC3, 0xE2, 0xEF,
    ]
}
