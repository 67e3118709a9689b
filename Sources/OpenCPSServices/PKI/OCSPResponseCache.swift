import Foundation
import OpenCPSPKI
import X509

/// Signed OCSP responses kept for requests without a nonce (RFC 5019), so that a repeated
/// question costs a dictionary look-up instead of a signature.
///
/// Entries are keyed by the request's DER bytes and indexed by the serial numbers they
/// answer: a revocation drops every entry naming the serial before it is acknowledged, so the
/// very next response is signed afresh. Entries also expire, well before their `nextUpdate`.
///
/// Each answer carries the revocation version its status was read at
/// (``RevocationVersionRepository``). The cache knows the newest version it has heard of (from
/// this process's own changes, from PostgreSQL notifications and from each signed answer's
/// read): an answer read at an older version is never stored, and a change heard of drops the
/// entries naming its serial. While the cache cannot hear of changes (its notification
/// connection is down: ``suspend()``), it keeps and serves nothing.
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
    /// The newest revocation version heard of: an answer is stored only if its status was
    /// read at this version or a newer one.
    private var knownVersion: UInt64 = 0
    /// False while changes may go unheard: nothing is kept or served.
    private var live = true
    private let capacity: Int

    /// Creates a cache holding at most `capacity` responses.
    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// The cached response to this request, if one is fresh at `now`.
    func response(for request: [UInt8], now: Date) -> OCSPResponderResult? {
        lock.withLock {
            guard live, let entry = entries[RequestKey(bytes: request)], entry.expires > now else { return nil }
            return entry.result
        }
    }

    /// Keeps a response until `expires`, unless a newer revocation version than the one its
    /// status was read at (`readAt`) is known: such an answer may be stale. A `readAt` newer
    /// than any heard of means notifications are behind: every entry is dropped, since which
    /// serials changed is not yet known.
    func store(_ result: OCSPResponderResult, for request: [UInt8], issuer: String, expires: Date, readAt: UInt64) {
        let keys = result.serialNumbers.map { Self.key(issuer, $0.hex) }
        let request = RequestKey(bytes: request)
        lock.withLock {
            guard live, readAt >= knownVersion else { return }
            if readAt > knownVersion {
                knownVersion = readAt
                dropAll()
            }
            if entries.count >= capacity { dropAll() }
            entries[request] = Entry(result: result, expires: expires, serialKeys: keys)
            for key in keys { bySerial[key, default: []].insert(request) }
        }
    }

    /// Forgets every response that names this serial number, whose status changed at `version`.
    func invalidate(issuer: String, serialHex: String, version: UInt64) {
        lock.withLock {
            knownVersion = max(knownVersion, version)
            guard let requests = bySerial.removeValue(forKey: Self.key(issuer, serialHex)) else { return }
            for request in requests { entries.removeValue(forKey: request) }
        }
    }

    /// Stops keeping and serving answers and forgets them all: changes may go unheard.
    func suspend() {
        lock.withLock {
            live = false
            dropAll()
        }
    }

    /// Keeps and serves answers again, once changes are heard of and the version is read anew
    /// (`version`): answers read at an older version are not stored.
    func resume(at version: UInt64) {
        lock.withLock {
            knownVersion = max(knownVersion, version)
            dropAll()
            live = true
        }
    }

    /// Whether answers are kept and served.
    var isLive: Bool { lock.withLock { live } }

    private func dropAll() {
        entries.removeAll(keepingCapacity: true)
        bySerial.removeAll(keepingCapacity: true)
    }

    private static func key(_ issuer: String, _ serialHex: String) -> String { "\(issuer)/\(serialHex)" }
}
