import Foundation
import NIOCore
import OpenCPSServices
import Vapor

/// Re-issues every CA's CRLs on a schedule (at start, then every quarter of their validity),
/// started and stopped with the application. Revocations re-issue them at once besides.
struct CRLPublicationSchedule: LifecycleHandler {
    let pki: PKIService
    private let task = TaskBox()

    init(pki: PKIService) {
        self.pki = pki
    }

    func didBootAsync(_ application: Application) async throws {
        let interval = TimeAmount.seconds(Int64(max(60, pki.publishing.crlValidity / 4)))
        let pki = self.pki
        let logger = application.logger
        let eventLoop = application.eventLoopGroup.next()
        task.set(eventLoop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: interval) { _ in
            eventLoop.makeFutureWithTask {
                do {
                    try await pki.publishAllCRLs()
                } catch {
                    logger.error("CRL publication failed", metadata: ["error": "\(error)"])
                }
            }
        })
    }

    func shutdownAsync(_ application: Application) async {
        task.cancel()
    }

    /// The repeated task, cancelled at shutdown.
    private final class TaskBox: @unchecked Sendable {
        private let lock = NSLock()
        private var task: RepeatedTask?

        func set(_ task: RepeatedTask) { lock.withLock { self.task = task } }
        func cancel() { lock.withLock { task?.cancel() } }
    }
}
