import Fluent
import Foundation
import NIOCore
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import Vapor

/// The card lifecycle's background work, started and stopped with the application, every
/// hour: renewal reminders into the outbox, the overdue watch for the help desk, expiry, and
/// handing the outbox to the sender (each notification once: it is marked sent when handed over);
/// the sweep of what a crash left behind and the repair of blocked cards' certificates
/// (``CardRepair``), which also run at start-up before the server answers.
struct CardMaintenanceSchedule: LifecycleHandler {
    let cards: CardServices
    let database: ServiceDatabase
    let sweepGrace: TimeInterval
    private let task = RepeatedTaskBox()

    init(cards: CardServices, database: ServiceDatabase, sweepGrace: TimeInterval) {
        self.cards = cards
        self.database = database
        self.sweepGrace = sweepGrace
    }

    /// Sweeps and repairs, logging what was done; a failure is logged, never fatal.
    static func sweepAndRepair(_ repair: CardRepair, grace: TimeInterval, logger: Logger) async {
        do {
            let sweep = try await repair.sweep(grace: grace)
            let repaired = try await repair.repairBlockedCards()
            if !sweep.abandonedCertificates.isEmpty || !sweep.removedFiles.isEmpty || !repaired.isEmpty {
                logger.warning("card sweep and repair", metadata: [
                    "abandoned-certificates": "\(sweep.abandonedCertificates.count)", "removed-files": "\(sweep.removedFiles.count)",
                    "repaired-certificates": "\(repaired.count)",
                ])
            }
        } catch {
            logger.error("card sweep and repair failed", metadata: ["error": "\(error)"])
        }
    }

    func didBootAsync(_ application: Application) async throws {
        let maintenance = cards.maintenance
        let repair = cards.repair
        let grace = sweepGrace
        let logger = application.logger
        await Self.sweepAndRepair(repair, grace: grace, logger: logger)
        let database = self.database
        let eventLoop = application.eventLoopGroup.next()
        task.set(eventLoop.scheduleRepeatedAsyncTask(initialDelay: .seconds(5), delay: .hours(1)) { _ in
            eventLoop.makeFutureWithTask {
                await Self.sweepAndRepair(repair, grace: grace, logger: logger)
                do {
                    let reminders = try await maintenance.enqueueRenewalReminders()
                    let overdue = try await maintenance.overdueFiles()
                    let expired = try await maintenance.expireCards()
                    let sent = try await NotificationSender(logger: logger).send(on: database.current)
                    logger.info("card maintenance", metadata: [
                        "reminders": "\(reminders)", "overdue": "\(overdue.count)", "expired": "\(expired)", "sent": "\(sent)",
                    ])
                } catch {
                    logger.error("card maintenance failed", metadata: ["error": "\(error)"])
                }
            }
        })
    }

    func shutdownAsync(_ application: Application) async {
        task.cancel()
    }
}

/// Hands the outbox to the delivery channel. Until a mail or SMS gateway is configured, the
/// channel is the log (recipient and kind, never more), and each notification is marked sent.
struct NotificationSender {
    let logger: Logger

    func send(on database: any Database) async throws -> Int {
        let repository = CardRepository(database: database, clock: SystemWallClock())
        let pending = try await repository.unsentNotifications()
        for notification in pending {
            logger.notice("notification", metadata: ["recipient": "\(notification.recipient)", "kind": "\(notification.kind)", "card": "\(notification.cardID)"])
            try await repository.markSent(id: notification.id, at: Date())
        }
        return pending.count
    }
}

/// A repeated task, cancelled at shutdown.
final class RepeatedTaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var task: RepeatedTask?

    func set(_ task: RepeatedTask) { lock.withLock { self.task = task } }
    func cancel() { lock.withLock { task?.cancel() } }
}
