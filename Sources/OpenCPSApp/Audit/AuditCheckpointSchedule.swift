import Foundation
import NIOCore
import OpenCPSDomain
import OpenCPSPersistence
import Vapor

/// How often `serve` signs a checkpoint of the audit log.
struct AuditCheckpointSettings: Sendable, Equatable {
    /// A checkpoint at most this long after the last one, when entries were added (300 s).
    var interval: Int = 300
    /// A checkpoint as soon as this many entries were added since the last one (10,000).
    var entries: Int64 = 10_000

    /// Reads `OPENCPS_AUDIT_CHECKPOINT_SECONDS` and `OPENCPS_AUDIT_CHECKPOINT_ENTRIES`.
    /// - Throws: ``ConfigurationError`` for a value that is not a positive whole number.
    init(environment: [String: String]) throws {
        func positive(_ variable: String, setting: String) throws -> Int? {
            guard let text = environment[variable], !text.isEmpty else { return nil }
            guard let value = Int(text), value > 0 else {
                throw ConfigurationError(setting, "\(variable) must be a positive whole number, got '\(text)'")
            }
            return value
        }
        interval = try positive("OPENCPS_AUDIT_CHECKPOINT_SECONDS", setting: "audit-checkpoint-seconds") ?? interval
        entries = Int64(try positive("OPENCPS_AUDIT_CHECKPOINT_ENTRIES", setting: "audit-checkpoint-entries") ?? Int(entries))
    }
}

/// Signs a checkpoint of the audit log every ``AuditCheckpointSettings/interval`` seconds or
/// ``AuditCheckpointSettings/entries`` entries, whichever comes first, and at shutdown.
/// Registered by `serve` only: test applications and one-shot commands do not sign.
struct AuditCheckpointSchedule: LifecycleHandler {
    let checkpoints: AuditCheckpoints
    let settings: AuditCheckpointSettings
    private let task = RepeatedTaskBox()

    init(checkpoints: AuditCheckpoints, settings: AuditCheckpointSettings) {
        self.checkpoints = checkpoints
        self.settings = settings
    }

    func didBootAsync(_ application: Application) async throws {
        // The key is made (or read) now, so that a missing or unreadable key shows at start.
        _ = try checkpoints.folder.publicKeyPEM()
        let checkpoints = self.checkpoints
        let settings = self.settings
        let logger = application.logger
        let database = application.db
        let eventLoop = application.eventLoopGroup.next()
        let tick = Int64(min(settings.interval, 10))
        let lastSigned = LastSigned()
        task.set(eventLoop.scheduleRepeatedAsyncTask(initialDelay: .seconds(tick), delay: .seconds(tick)) { _ in
            eventLoop.makeFutureWithTask {
                do {
                    let head = try await AuditCheckpoints.head(on: database)
                    let last = try await AuditCheckpoints.latest(on: database)
                    let added = head.seq - (last?.seq ?? 0)
                    guard added > 0 else { return }
                    if added >= settings.entries || lastSigned.elapsed() >= Double(settings.interval) {
                        try await checkpoints.write(on: database)
                        lastSigned.reset()
                    }
                } catch {
                    logger.error("audit checkpoint failed", metadata: ["error": "\(error)"])
                }
            }
        })
    }

    func shutdownAsync(_ application: Application) async {
        task.cancel()
        do {
            try await checkpoints.write(on: application.db)
        } catch {
            application.logger.error("audit checkpoint at shutdown failed", metadata: ["error": "\(error)"])
        }
    }

    /// When the schedule last signed (monotonic: the interval is a duration, not a date).
    private final class LastSigned: @unchecked Sendable {
        private let lock = NSLock()
        private var at = ContinuousClock.now

        func elapsed() -> Double {
            let duration = lock.withLock { ContinuousClock.now - at }
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        func reset() { lock.withLock { at = ContinuousClock.now } }
    }

    /// The repeated task, cancelled at shutdown.
    private final class RepeatedTaskBox: @unchecked Sendable {
        private let lock = NSLock()
        private var task: RepeatedTask?

        func set(_ task: RepeatedTask) { lock.withLock { self.task = task } }
        func cancel() { lock.withLock { task?.cancel() } }
    }
}
