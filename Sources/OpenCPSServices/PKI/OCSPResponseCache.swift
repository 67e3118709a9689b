import Foundation
import OpenCPSPKI
import X509

/// Signed OCSP responses kept for requests without a nonce (RFC 5019), so that a repeated
/// question costs a dictionary look-up instead of a signature.
///
/// Entries are keyed by the request's DER bytes and indexed by the serial numbers they
/// answer: a revocation drops every entry naming the serial before it is acknowledged, so the
/// very next response is signed afresh. Entries also expire, well before their `nextUpdate`.
final class OCSPResponseCache: @unchecked Sendable {
    private struct Entry {
        var result: OCSPResponderResult
        var expires: Date
        var serialKeys: [String]
    }

    /// A request's DER bytes as a key, hashed as one block of memory: `[UInt8]`'s own hashing
    /// feeds the hasher a byte at a time, which took more of a kept answer's time than the look-up.
    private struct RequestKey: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(bytes.count)
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    private let lock = NSLock()
    // Guarded by lock.
    private var entries: [RequestKey: Entry] = [:]
    private var bySerial: [String: Set<RequestKey>] = [:]
    /// Incremented by every invalidation: an answer is stored only if no revocation came
    /// between the read of its status and its storing.
    private var generation: UInt64 = 0
    private let capacity: Int

    /// Creates a cache holding at most `capacity` responses.
    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// The cached response to this request, if one is fresh at `now`.
    func response(for request: [UInt8], now: Date) -> OCSPResponderResult? {
        lock.withLock {
            guard let entry = entries[RequestKey(bytes: request)], entry.expires > now else { return nil }
            return entry.result
        }
    }

    /// The generation to give ``store(_:for:issuer:expires:readAt:)`` for an answer whose
    /// status is about to be read.
    var currentGeneration: UInt64 { lock.withLock { generation } }

    /// Keeps a response until `expires`, unless a revocation was acknowledged since its status
    /// was read (`readAt`, from ``currentGeneration``): such an answer may be stale.
    func store(_ result: OCSPResponderResult, for request: [UInt8], issuer: String, expires: Date, readAt: UInt64) {
        let keys = result.serialNumbers.map { Self.key(issuer, $0.hex) }
        let request = RequestKey(bytes: request)
        lock.withLock {
            guard generation == readAt else { return }
            if entries.count >= capacity { dropAll() }
            entries[request] = Entry(result: result, expires: expires, serialKeys: keys)
            for key in keys { bySerial[key, default: []].insert(request) }
        }
    }

    /// Forgets every response that names this serial number.
    func invalidate(issuer: String, serialHex: String) {
        lock.withLock {
            generation &+= 1
            guard let requests = bySerial.removeValue(forKey: Self.key(issuer, serialHex)) else { return }
            for request in requests { entries.removeValue(forKey: request) }
        }
    }

    private func dropAll() {
        entries.removeAll(keepingCapacity: true)
        bySerial.removeAll(keepingCapacity: true)
    }

    private static func key(_ issuer: String, _ serialHex: String) -> String { "\(issuer)/\(serialHex)" }
}
