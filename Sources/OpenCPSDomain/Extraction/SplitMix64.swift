/// A small, fast, seeded random number generator (SplitMix64, by Sebastiano Vigna), so
/// that generated data is the same for the same seed on every machine.
///
/// Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`, with the negligible bias of a 64-bit modulo.
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// Whether an event of probability `percent`/100 happens.
    @inline(__always)
    mutating func chance(_ percent: Int) -> Bool {
        below(100) < percent
    }
}
