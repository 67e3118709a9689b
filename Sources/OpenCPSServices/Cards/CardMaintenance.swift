import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// The card lifecycle's scheduled work: renewal reminders into the outbox, the overdue watch
/// for the help desk, and the expiry of cards past their last day.
public final class CardMaintenance: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// Puts the renewal reminders due today in the outbox: 3 months, 1 month and 1 week
    /// before expiry, each once per card, even across restarts (a unique key per card and kind).
    /// - Returns: how many were added.
    public func enqueueRenewalReminders() async throws -> Int {
        let repository = core.cards
        let today = core.today
        var added = 0
        var after: Card?
        while true {
            let page = try await repository.cardsExpiring(onOrBefore: today.adding(months: 3), limit: 500, after: after)
            guard let last = page.last else { break }
            after = last
            for card in page {
                guard let made = card.manufacture else { continue }
                let sent = Set(try await repository.notifications(cardID: card.id).compactMap { RenewalReminder(notificationKind: $0.kind) })
                guard let reminder = RenewalSchedule(expiresOn: made.expiresOn).dueReminder(on: today, alreadySent: sent) else { continue }
                let message = "Votre carte \(card.kind.code) n° \(made.serial.value) expire le \(made.expiresOn.frenchDescription). Pensez à demander son renouvellement."
                if try await repository.enqueue(CardNotification(
                    id: core.newFileID(), cardID: card.id, kind: reminder.notificationKind, recipient: card.holder.value,
                    message: message, createdAt: ISO8601DateFormatter().string(from: core.clock.now()), sentAt: nil)) {
                    added += 1
                }
            }
        }
        return added
    }

    /// Files past their due date (validated or in manufacture); each is also put once in the
    /// outbox for the help desk.
    public func overdueFiles() async throws -> [Card] {
        try await core.overdueFiles()
    }

    /// Expires every card in service whose last day of validity has passed.
    /// - Returns: how many were expired.
    public func expireCards() async throws -> Int {
        var count = 0
        for card in try await core.cards.cardsExpiring(onOrBefore: core.today.adding(days: -1), limit: 10_000) {
            _ = try await core.transition(card.id, .expire, actor: .platform)
            count += 1
        }
        return count
    }
}

extension CardCore {
    /// Files past their due date (validated or in manufacture), each put once in the outbox
    /// for the help desk.
    func overdueFiles() async throws -> [Card] {
        let repository = cards
        let today = self.today
        let overdue = try await repository.cards(states: [.validated, .inManufacture], limit: 10_000).filter { $0.isOverdue(on: today) }
        for card in overdue {
            try await repository.enqueue(CardNotification(
                id: newFileID(), cardID: card.id, kind: "overdue", recipient: "helpdesk",
                message: "Le dossier \(card.id) (\(card.kind.code), \(card.holder.value)) a dépassé sa date prévue du \(card.dueOn?.description ?? "").",
                createdAt: ISO8601DateFormatter().string(from: clock.now()), sentAt: nil))
        }
        return overdue
    }
}

extension RenewalReminder {
    /// The outbox kind of a reminder: `renewal-m3`, `renewal-m1`, `renewal-w1`.
    var notificationKind: String { "renewal-\(key)" }

    init?(notificationKind: String) {
        guard notificationKind.hasPrefix("renewal-") else { return nil }
        self.init(rawValue: String(notificationKind.dropFirst("renewal-".count)))
    }
}

extension CivilDate {
    /// `24/11/2026`.
    var frenchDescription: String {
        String(format: "%02d/%02d/%04d", day, month, year)
    }
}
