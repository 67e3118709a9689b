import Foundation
import X509

/// Makes certificate serial numbers, always positive and exactly 16 bytes long in DER:
/// ``next()`` gives 16 random bytes (127 bits of entropy), for the CAs' own certificates;
/// ``next(at:)`` begins with the time of issuance and ends with 80 random bits, for card
/// certificates, which are stored by the million.
public struct SerialNumberGenerator: Sendable {
    private let random: RandomBytes

    /// Creates a generator.
    /// - Parameter random: The random source (inject a seeded one in tests).
    public init(random: RandomBytes = .system) {
        self.random = random
    }

    /// Returns a fresh serial number.
    public func next() -> Certificate.SerialNumber {
        next(isTaken: { _ in false })
    }

    /// Returns a fresh serial number that begins with the time: 6 bytes holding a marker bit
    /// (0x40, so that the number stays positive and 16 bytes long) over 46 bits of milliseconds
    /// since 1970, then 10 random bytes (80 bits of entropy, above the 64 bits the CA/Browser
    /// Forum's Baseline Requirements ask of a serial).
    ///
    /// Serials made later sort after earlier ones (to the millisecond): stored in a B-tree (the
    /// certificates' key, the audit log's entity index), each new one lands next to the last
    /// instead of on a random page, so an issuance rewrites a few pages rather than one per index.
    /// - Parameter date: the time of issuance (from 1970 to the year 4199).
    public func next(at date: Date) -> Certificate.SerialNumber {
        let milliseconds = UInt64(min(max(0, (date.timeIntervalSince1970 * 1000).rounded()), Double(Self.largestMillisecond)))
        var bytes = random.bytes(16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> UInt64(40 - 8 * index))
        }
        bytes[0] |= 0x40
        return Certificate.SerialNumber(bytes: bytes)
    }

    /// The largest time `next(at:)` writes: 46 bits of milliseconds.
    private static let largestMillisecond: UInt64 = 1 << 46 - 1

    /// Returns a fresh serial number not yet in use.
    /// - Parameter isTaken: Called to reject a serial already in use (the caller's database);
    ///   a collision is astronomically unlikely, but cheap to rule out.
    /// - Returns: The serial number.
    public func next(isTaken: (Certificate.SerialNumber) throws -> Bool) rethrows -> Certificate.SerialNumber {
        while true {
            var bytes = random.bytes(16)
            bytes[0] &= 0x7F
            if bytes[0] == 0 { bytes[0] = 0x01 }
            let serial = Certificate.SerialNumber(bytes: bytes)
            if try !isTaken(serial) { return serial }
        }
    }
}

extension Certificate.SerialNumber {
    /// The serial number as lowercase hexadecimal without separators (the form stored by the
    /// database and used for revocation look-ups).
    public var hex: String { DERHelpers.hex(bytes) }

    /// Parses lowercase or uppercase hexadecimal (optionally with `:` separators).
    /// - Parameter hex: The text.
    /// - Returns: `nil` if it is not hexadecimal.
    public init?(hex: String) {
        let digits = Array(hex.replacingOccurrences(of: ":", with: "").lowercased())
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        self.init(bytes: DERHelpers.minimalUnsigned(bytes))
    }
}
