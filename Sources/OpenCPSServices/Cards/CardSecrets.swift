import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSTokens

/// The card's PIN and PUK, presented to its token: activation on receipt, verification,
/// change, unblocking, and the counters. Every presentation is recorded as a use of the card.
public final class CardSecrets: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// The holder activates the card on receipt by presenting its PIN. A card that renews or
    /// reissues another supersedes it now (its certificates revoked as superseded): access is
    /// never cut before the new card works.
    public func activate(_ id: String, pin: String, actor: CardActor) async throws -> Card {
        let card = try await core.load(id)
        try core.authorize(actor, .transition(.activate), card)
        _ = try card.applying(.activate)
        let result = try await present(card, actor: actor, action: "card.pin-verify") { try $0.verifyPIN(pin) }
        guard result == .accepted else { throw Self.refusal(result) }
        // The new card and the end of the one it replaces are one change.
        return try await core.database.transaction { _ in
            let active = try await self.core.transition(id, .activate, actor: actor)
            if let previousID = active.order.replaces, let previous = try await self.core.cards.card(id: previousID), previous.isInService {
                let number = active.manufacture?.serial.value ?? active.id
                try await self.core.retire(
                    previous, transition: previous.state == .suspended ? .revoke : .supersede, reason: .superseded,
                    detail: "superseded by card \(number)")
            }
            return active
        }
    }

    /// Presents the PIN to the card (3 tries, then blocked); the counters are written first.
    public func verifyPIN(_ id: String, pin: String, actor: CardActor) async throws -> TokenSecretResult {
        try await present(try await authorized(id, actor), actor: actor, action: "card.pin-verify") { try $0.verifyPIN(pin) }
    }

    /// Changes the PIN.
    public func changePIN(_ id: String, current: String, new: String, actor: CardActor) async throws -> TokenSecretResult {
        try await present(try await authorized(id, actor), actor: actor, action: "card.pin-change") {
            try $0.changePIN(current: current, new: new)
        }
    }

    /// Unblocks the PIN with the PUK; after the PUK's last try the card is dead and must be replaced.
    public func unblockPIN(_ id: String, puk: String, newPIN: String, actor: CardActor) async throws -> TokenSecretResult {
        try await present(try await authorized(id, actor), actor: actor, action: "card.pin-unblock") {
            try $0.unblock(puk: puk, newPIN: newPIN)
        }
    }

    /// The token's counters.
    public func counters(_ id: String, actor: CardActor) async throws -> CardSecretCounters {
        let card = try await core.load(id)
        try core.authorize(actor, .view, card)
        try await core.authorizeRegion(actor, card)
        return try token(card).counters()
    }

    /// Refuses an actor who may not present the card's secrets (anyone but its holder), before
    /// the request's body is read: who asks is settled before anything else is answered.
    public func authorizePresentation(_ id: String, actor: CardActor) async throws {
        _ = try await authorized(id, actor)
    }

    /// The card, for an actor who may present its secrets (its holder).
    private func authorized(_ id: String, _ actor: CardActor) async throws -> Card {
        let card = try await core.load(id)
        try core.authorize(actor, .transition(.activate), card)
        return card
    }

    /// Presents a secret to the card's token and records the use with its outcome.
    private func present(
        _ card: Card, actor: CardActor, action: String, _ presentation: (any CardToken) throws -> TokenSecretResult
    ) async throws -> TokenSecretResult {
        let result = try presentation(try token(card))
        try await core.cards.recordUse(cardID: card.id, actor: actor.auditName, action: action, detail: Self.describe(result))
        return result
    }

    private func token(_ card: Card) throws -> any CardToken {
        guard let serial = card.manufacture?.serial else {
            throw CardLifecycleError(code: "card.not-manufactured", reason: "card file \(card.id) has no card yet")
        }
        return try core.token(cardSerial: serial.value)
    }

    /// The outcome as the audit log records it.
    static func describe(_ result: TokenSecretResult) -> String {
        switch result {
        case .accepted: "accepted"
        case .wrong(let left): "wrong, \(left) tries left"
        case .pinBlocked: "PIN blocked"
        case .pukExhausted: "PUK exhausted"
        }
    }

    /// The error for a PIN the card refused.
    static func refusal(_ result: TokenSecretResult) -> CardLifecycleError {
        switch result {
        case .accepted: CardLifecycleError(code: "card.pin-accepted", reason: "accepted")
        case .wrong(let left): CardLifecycleError(code: "card.pin-wrong", reason: "wrong PIN: \(left) tries left")
        case .pinBlocked: CardLifecycleError(code: "card.pin-blocked", reason: "the PIN is blocked: unblock it with the PUK")
        case .pukExhausted: CardLifecycleError(code: "card.puk-exhausted", reason: "the PUK is used up: the card must be replaced")
        }
    }
}
