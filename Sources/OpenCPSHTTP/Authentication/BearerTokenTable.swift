import Crypto
import Foundation

/// Bearer tokens and who holds them, looked up by SHA-256 in constant time, so that neither
/// a token nor its length leaks through timing. The tables of operators and of card actors
/// are both one of these.
struct BearerTokenTable<Holder: Sendable>: Sendable {
    private let entries: [(digest: Data, holder: Holder)]

    init(_ tokens: [String: Holder]) {
        entries = tokens.map { (Data(SHA256.hash(data: Data($0.key.utf8))), $0.value) }
    }

    /// The holder of `token`, if any; every entry is compared, whatever matches.
    func holder(of token: String) -> Holder? {
        let candidate = Data(SHA256.hash(data: Data(token.utf8)))
        var found: Holder?
        for entry in entries {
            var difference: UInt8 = 0
            for (left, right) in zip(entry.digest, candidate) { difference |= left ^ right }
            if difference == 0 { found = entry.holder }
        }
        return found
    }
}
