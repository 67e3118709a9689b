import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence

/// Blocking a card (DESIGN.md §1): opposition after a loss or theft, with its replacement and
/// the establishment's temporary card; suspension on suspected misuse and reinstatement;
/// revocation for good. Certificates follow the card in the same transaction: revoked, held or
/// released with the card's new state, or neither is kept; OCSP and the CRLs say so once it
/// has committed, before the call returns.
public final class CardBlocking: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// Declares the card lost or stolen: blocked at once (its certificates revoked, visible on
    /// OCSP in the next response), then a replacement is ordered, waiting for its documents.
    /// - Returns: the opposed card and the replacement file.
    public func oppose(_ id: String, reason: String, actor: CardActor) async throws -> (opposed: Card, replacement: Card) {
        try await core.database.transaction { _ in
            let opposed = try await self.core.transition(id, .oppose, actor: actor, detail: reason)
            try await self.core.revokeCertificates(opposed, reason: .keyCompromise, actor: actor, detail: "opposition: \(reason)")
            let replacement = try await self.orderReplacement(of: opposed)
            return (opposed, replacement)
        }
    }

    /// Suspends a card on suspected misuse: its certificates are put on hold.
    public func suspend(_ id: String, reason: String, actor: CardActor) async throws -> Card {
        try await core.database.transaction { _ in
            let card = try await self.core.transition(id, .suspend, actor: actor, detail: reason)
            try await self.core.revokeCertificates(card, reason: .certificateHold, actor: actor, detail: reason)
            return card
        }
    }

    /// Reinstates a suspended card: the holds are released.
    public func reinstate(_ id: String, reason: String, actor: CardActor) async throws -> Card {
        try await core.database.transaction { _ in
            let card = try await self.core.transition(id, .reinstate, actor: actor, detail: reason)
            if let certificates = card.manufacture?.certificates {
                for serial in certificates.serials {
                    _ = try await self.core.pki.releaseHold(issuer: certificates.issuer, serialHex: serial, actor: actor.auditName, detail: reason)
                }
            }
            return card
        }
    }

    /// Revokes a card for good, with its reason.
    public func revoke(_ id: String, reason: String, actor: CardActor) async throws -> Card {
        try await core.database.transaction { _ in
            let card = try await self.core.transition(id, .revoke, actor: actor, detail: reason)
            try await self.core.revokeCertificates(card, reason: .privilegeWithdrawn, actor: actor, detail: reason)
            return card
        }
    }

    /// Issues a temporary card (short validity, internal use, never prescriber rights: a CPE)
    /// for a holder whose card was opposed, ordered and validated by the manager of the
    /// establishment where the holder is salaried; a libéral professional waits for the
    /// replacement.
    public func issueTemporaryCard(for opposedID: String, actor: CardActor) async throws -> Card {
        // Who asks is settled before anything of the card is told (its state included).
        guard case .establishmentManager(let structure) = actor else {
            throw CardLifecycleError(code: "card.forbidden", reason: "only an establishment's manager issues temporary cards")
        }
        let opposed = try await core.load(opposedID)
        guard let holder = try await core.registry.professional(opposed.holder)?.professional else {
            throw CardLifecycleError(code: "card.forbidden", reason: "the registry shows no activity of the card's holder in structure \(structure)")
        }
        try CardAuthorization.checkTemporaryCard(for: holder, in: structure)
        guard opposed.state == .opposed else {
            throw CardLifecycleError(code: "card.not-opposed", reason: "a temporary card stands in for an opposed card")
        }
        let card = Card(
            id: core.newFileID(), holder: opposed.holder, kind: .cpe,
            order: CardOrder(mode: .manual, reason: .temporary, instance: .establishmentManager(structure)),
            profession: opposed.profession, structure: structure, temporary: true, createdAt: core.clock.now())
        try core.authorize(actor, .order, card)
        let number = opposed.manufacture?.serial.value ?? opposed.id
        try await core.cards.insert(card, actor: actor.auditName, detail: "temporary card while \(number) is replaced")
        _ = try await core.transition(card.id, .submitForValidation, actor: actor)
        let today = core.today
        return try await core.transition(card.id, .validate, actor: actor) { card in
            card.validatedOn = today
            card.dueOn = today
        }
    }

    /// The replacement file of an opposed card, ordered by the platform for the same kind,
    /// profession and structure: a manual order, whose documents are required again.
    private func orderReplacement(of card: Card) async throws -> Card {
        let structure = card.kind.isStaffCard ? card.structure : nil
        let replacement = Card(
            id: core.newFileID(), holder: card.holder, kind: card.kind,
            order: CardOrder(
                mode: .manual, reason: .replacement,
                instance: try ValidatingInstance.competent(for: card.kind, profession: card.profession, structure: structure),
                replaces: card.id),
            profession: card.profession, structure: card.structure, createdAt: core.clock.now())
        try await core.cards.insert(replacement, actor: CardActor.platform.auditName)
        return replacement
    }
}
