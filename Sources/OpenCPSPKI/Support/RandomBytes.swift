import Crypto

/// A source of random bytes, injected wherever the PKI needs randomness (serial numbers,
/// salts, nonces) so tests can be deterministic.
///
/// Key generation itself always uses the operating system's generator through swift-crypto.
public struct RandomBytes: Sendable {
    private let generate: @Sendable (Int) -> [UInt8]

    /// Creates a source from a closure that returns exactly `count` bytes.
    /// - Parameter generate: The closure, called with the number of bytes wanted.
    public init(_ generate: @escaping @Sendable (Int) -> [UInt8]) {
        self.generate = generate
    }

    /// Returns `count` random bytes.
    /// - Parameter count: How many bytes to produce.
    /// - Returns: The bytes.
    public func bytes(_ count: Int) -> [UInt8] {
        let result = generate(count)
        precondition(result.count == count, "RandomBytes source returned \(result.count) bytes instead of \(count)")
        return result
    }

    /// The system's cryptographically secure generator.
    public static let system = RandomBytes { count in
        // Eight bytes per draw: each draw is a getrandom(2) call on Linux, and one per byte made
        // the serial number a visible part of issuing a certificate.
        var generator = SystemRandomNumberGenerator()
        var result: [UInt8] = []
        result.reserveCapacity(count + 7)
        while result.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { result.append(contentsOf: $0) }
        }
        result.removeLast(result.count - count)
        return result
    }

    /// A deterministic, NOT secure source for tests: a SplitMix64 stream from `seed`,
    /// advanced on every call.
    /// - Parameter seed: The starting state.
    /// - Returns: The source.
    public static func seeded(_ seed: UInt64) -> RandomBytes {
        let state = SeededState(seed)
        return RandomBytes { count in state.next(count) }
    }
}

/// The mutable state of a seeded test generator, guarded by a lock.
private final class SeededState: @unchecked Sendable {
    private var state: UInt64
    private let lock = PKILock()

    init(_ seed: UInt64) { self.state = seed }

    func next(_ count: Int) -> [UInt8] {
        lock.withLock {
            var out: [UInt8] = []
            out.reserveCapacity(count)
            while out.count < count {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                withUnsafeBytes(of: z.bigEndian) { out.append(contentsOf: $0.prefix(count - out.count)) }
            }
            return out
        }
    }
}
