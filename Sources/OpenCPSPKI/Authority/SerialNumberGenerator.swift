import X509

/// Makes certificate serial numbers: 16 random bytes (127 bits of entropy), positive,
/// first byte non-zero, so the DER INTEGER is always exactly 16 bytes long.
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
