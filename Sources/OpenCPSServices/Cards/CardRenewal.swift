import OpenCPSDomain
import OpenCPSPersistence

/// Renewal and reissue (DESIGN.md §1): a holder's renewal, the platform's mass renewal and
/// campaigns, and the reissue of cards whose content a registry change altered. The new card
/// supersedes the old one only once it is active.
public final class CardRenewal: Sendable {
    private let core: CardCore
    private let production: CardProduction

    init(core: CardCore, production: CardProduction) {
        self.core = core
        self.production = production
    }

    /// Orders the renewal of a card: by whoever may order it (its holder, the manager of a
    /// staff card, its order), or by the platform. A renewal already under way is returned as
    /// it is, to those who may see it; otherwise the card must be delivered or active, and its
    /// renewal window open (``CardServiceSettings/renewalWindowMonths`` before expiry).
    public func renew(_ id: String, actor: CardActor) async throws -> Card {
        let card = try await core.load(id)
        if actor != .platform { try core.authorize(actor, .order, card) }
        if let pending = try await openSuccessor(of: card), card.isInService { return pending }
        try card.checkRenewal(on: core.today, windowMonths: core.settings.renewalWindowMonths)
        return try await orderSuccessor(of: card, reason: .renewal, actor: actor)
    }

    /// Orders the renewal of every card made and not blocked (shipped, delivered or active)
    /// expiring on or before `day` that has no renewal yet. The platform's campaigns choose
    /// their own horizon `day`: the holder's renewal window does not bind them. Returns the new
    /// files (validated when their order is automatic). The orders of each page of 500 cards
    /// are written in one transaction.
    /// - Parameter eachPage: called with each page's new files once they are stored.
    public func renewExpiring(
        onOrBefore day: CivilDate, limit: Int = 1_000, eachPage: ([Card]) async throws -> Void = { _ in }
    ) async throws -> [Card] {
        let repository = core.cards
        var created: [Card] = []
        var after: Card?
        while created.count < limit {
            let page = try await repository.cardsExpiring(onOrBefore: day, limit: 500, after: after)
            guard let last = page.last else { break }
            after = last
            let renewed = try await repository.cardsWithSuccessor(among: page.map(\.id))
            // A suspended card is blocked: never renewed, by a campaign either.
            let files = try page.filter { !renewed.contains($0.id) && $0.state != .suspended }.prefix(limit - created.count)
                .map { try successorFile(of: $0, reason: .renewal, actor: .platform) }
            try await repository.insert(files)
            created += files.map(\.card)
            try await eachPage(files.map(\.card))
        }
        return created
    }

    /// A renewal campaign: orders the renewal of the cards in service expiring on or before
    /// `day` (as ``renewExpiring(onOrBefore:limit:eachPage:)``) and manufactures the
    /// renewals validated at once, each page of orders going to production while the next
    /// is ordered. Renewals that wait for documents are ordered only.
    /// - Returns: the new files, and what production made of them.
    public func campaign(
        expiringOnOrBefore day: CivilDate, limit: Int, production actor: CardActor
    ) async throws -> (orders: [Card], production: CardProduction.Run) {
        try await withThrowingTaskGroup(of: CardProduction.Run.self) { group in
            var production = CardProduction.Run()
            var pagesInProduction = 0
            let orders = try await renewExpiring(onOrBefore: day, limit: limit) { page in
                let validated = page.filter { $0.state == .validated }.map(\.id)
                group.addTask { await self.production.manufacture(validated, actor: actor) }
                pagesInProduction += 1
                // Ordering runs ahead of production by two pages at most.
                if pagesInProduction > 2, let made = try await group.next() {
                    production.add(made)
                    pagesInProduction -= 1
                }
            }
            for try await made in group { production.add(made) }
            return (orders, production)
        }
    }

    /// After a change in the registry, orders a new card for every card with its holder whose
    /// content (name, profession, structure) no longer matches; the old one keeps working
    /// until the new one is active. Runs in the caller's transaction when there is one.
    public func reissueAfterRegistryChange(of idNat: IdNat) async throws -> [Card] {
        let holder = try await core.registry.professional(idNat)?.professional
        var reissued: [Card] = []
        for card in try await core.cards.cards(holder: idNat) where card.isWithHolder {
            var structure: Structure?
            if card.kind.isStaffCard, let identifier = card.structure {
                structure = try await core.registry.structure(id: identifier.idNatStruct)
            }
            guard try CardPersonalisation(card: card, holder: holder, structure: structure).digest != card.contentDigest else { continue }
            guard try await openSuccessor(of: card) == nil else { continue }
            reissued.append(try await orderSuccessor(of: card, reason: .reissue, actor: .platform))
        }
        return reissued
    }

    /// The file under way that renews, replaces or reissues a card, if there is one.
    private func openSuccessor(of card: Card) async throws -> Card? {
        try await core.cards.cards(holder: card.holder).first { $0.order.replaces == card.id && !$0.isClosed }
    }

    private func orderSuccessor(of card: Card, reason: OrderReason, actor: CardActor) async throws -> Card {
        let file = try successorFile(of: card, reason: reason, actor: actor)
        try await core.cards.insert([file])
        return file.card
    }

    /// The file that renews or reissues a card, with its audit events. The card being renewed
    /// or reissued proves the file: it goes straight to validation when its order was
    /// automatic (or for a reissue), and waits for its documents otherwise.
    private func successorFile(of card: Card, reason: OrderReason, actor: CardActor) throws -> (card: Card, events: [AuditEvent]) {
        var successor = Card(
            id: core.newFileID(), holder: card.holder, kind: card.kind,
            order: CardOrder(mode: card.order.mode, reason: reason, instance: card.order.instance, replaces: card.id),
            profession: card.profession, structure: card.structure, createdAt: core.clock.now())
        var events = [AuditEvent(
            actor: actor.auditName, action: "card.order", entityType: "card", entityID: successor.id,
            afterDigest: CardRepository.digest(of: successor),
            detail: "\(reason.rawValue) of card \(card.manufacture?.serial.value ?? card.id)")]
        guard card.order.mode == .automatic || reason == .reissue else { return (successor, events) }
        for transition in [CardTransition.submitForValidation, .validate] {
            let before = CardRepository.digest(of: successor)
            if transition == .validate {
                // A successor is never on the express path: its due date is the standard one.
                try successor.validate(on: core.today, delay: core.settings.delay)
            } else {
                try successor.apply(transition)
            }
            events.append(AuditEvent(
                actor: actor.auditName, action: "card.\(transition.rawValue)", entityType: "card", entityID: successor.id,
                beforeDigest: before, afterDigest: CardRepository.digest(of: successor)))
        }
        return (successor, events)
    }
}
