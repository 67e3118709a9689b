import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// Reading cards: a file with its documents and shipments, a holder's cards, a card's history,
/// each for an actor the domain allows to see it.
public final class CardReading: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// A card file, for an actor allowed to see it.
    public func file(_ id: String, actor: CardActor) async throws -> CardFile {
        let card = try await core.load(id)
        try core.authorize(actor, .view, card)
        try await core.authorizeRegion(actor, card)
        let file = try await core.file(of: card)
        try await core.auditRead(card, actor: actor, what: "file")
        return file
    }

    /// The documents a file needs, from its holder's profession and mode of activity (see
    /// ``RequiredDocuments``), for an actor allowed to see it; none for an automatic order.
    public func requiredDocuments(_ id: String, actor: CardActor) async throws -> [DocumentKind] {
        let card = try await core.load(id)
        try core.authorize(actor, .view, card)
        try await core.authorizeRegion(actor, card)
        return try await core.requiredDocuments(card)?.kinds ?? []
    }

    /// The cards of a holder that the actor may see.
    public func cards(of idNat: IdNat, actor: CardActor) async throws -> [Card] {
        let cards = try await core.cards.cards(holder: idNat).filter { CardAuthorization.isAllowed(actor, .view, on: $0.context) }
        guard let card = cards.first else { return [] }
        do {
            try await core.authorizeRegion(actor, card)
        } catch let refusal as CardLifecycleError where refusal.code == "card.forbidden" {
            return []
        }
        return cards
    }

    /// A card's history from the audit log (every transition and use).
    public func history(_ id: String, actor: CardActor) async throws -> [AuditEntry] {
        let card = try await core.load(id)
        try core.authorize(actor, .view, card)
        try await core.authorizeRegion(actor, card)
        let history = try await core.cards.history(cardID: id)
        try await core.auditRead(card, actor: actor, what: "history")
        return history
    }
}

/// The single help desk (*guichet unique*): finds any file, sees why it is stuck, lists the
/// overdue ones, and moves a file to the express path for a proven emergency.
public final class HelpDesk: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// The files matching `query`, read every way it can be read: a holder's idNat, a card
    /// serial, or a file identifier. (A serial that starts with `0` is also an ADELI idNat's
    /// shape: both readings are searched.)
    public func findFiles(_ query: String, actor: CardActor) async throws -> [CardFile] {
        try CardAuthorization.check(actor, .searchFiles)
        let repository = core.cards
        var found: [Card] = []
        if let idNat = try? IdNat(query) {
            found += try await repository.cards(holder: idNat)
        }
        if let serial = try? CardSerial(query), let card = try await repository.card(serial: serial) {
            found.append(card)
        }
        if let card = try await repository.card(id: query.lowercased()) {
            found.append(card)
        }
        var seen: Set<String> = []
        found = found.filter { seen.insert($0.id).inserted }
        var files: [CardFile] = []
        for card in found {
            try core.authorize(actor, .view, card)
            files.append(try await core.file(of: card))
            try await core.auditRead(card, actor: actor, what: "file, found by the help desk")
        }
        return files
    }

    /// The files past their due date, for the help desk.
    public func overdueFiles(actor: CardActor) async throws -> [Card] {
        try CardAuthorization.check(actor, .listOverdueFiles)
        return try await core.overdueFiles()
    }

    /// Moves a file to the express path for a proven emergency; its due date is recomputed.
    public func moveToExpress(_ id: String, justification: String, actor: CardActor) async throws -> Card {
        guard !justification.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CardLifecycleError(code: "card.justification-required", reason: "the express path needs the emergency's justification")
        }
        let delay = core.settings.delay
        return try await core.change(id, actor: actor, authorizing: .moveToExpress, auditAction: "card.express", detail: justification) { card in
            try card.moveToExpress(justification: justification, delay: delay)
        }
    }
}
