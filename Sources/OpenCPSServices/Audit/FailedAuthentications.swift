import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// Failed authentications go to the audit log (issue 21) without letting a flood of bad tokens
/// flood it: the first failure of a kind from an address in a minute is written at once; the
/// repeats are counted and written as one entry when the minute is over (with the next failure
/// after it); past ``maximumSourcesPerMinute`` sources in a minute, further ones are counted
/// together. So a minute costs at most that many entries, whoever sends what.
public actor FailedAuthentications {
    /// Distinct (kind, address) pairs written one by one in a minute.
    public static let maximumSourcesPerMinute = 1_000

    private let database: ServiceDatabase
    private let clock: any WallClock
    private var minute: Int64 = .min
    private var counts: [String: Int] = [:]

    /// Creates the recorder.
    public init(database: ServiceDatabase, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Records a failed authentication: `kind` says what was presented (`bearer-token`,
    /// `operator-token`, `ecps-device-proof`), `address` where it came from.
    public func record(kind: String, address: String) async {
        let now = clock.now()
        let bucket = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
        var events: [AuditEvent] = []
        if bucket != minute {
            events += summary()
            counts = [:]
            minute = bucket
        }
        let source = "\(kind) from \(address)"
        if let count = counts[source] {
            counts[source] = count + 1
        } else if counts.count < Self.maximumSourcesPerMinute {
            counts[source] = 1
            events.append(AuditEvent(actor: address, action: "auth.failed", entityType: "authentication", entityID: kind, detail: "an invalid \(kind)"))
        } else {
            counts["\(kind) from other addresses", default: 0] += 1
        }
        guard !events.isEmpty else { return }
        // Best effort: a failure to audit must not turn a 401 into a 500.
        try? await AuditLog(clock: clock).record(events, on: database.current)
    }

    /// The repeats of the minute that ended, one entry per source.
    private func summary() -> [AuditEvent] {
        guard minute != .min else { return [] }
        let start = StoredTimestamp.string(Date(timeIntervalSince1970: TimeInterval(minute * 60)))
        return counts.sorted { $0.key < $1.key }.compactMap { source, count in
            let repeats = source.hasSuffix("from other addresses") ? count : count - 1
            guard repeats > 0 else { return nil }
            return AuditEvent(
                actor: "platform", action: "auth.failed-repeated", entityType: "authentication", entityID: source,
                detail: "\(repeats) more failed authentications (\(source)) in the minute from \(start)")
        }
    }
}
