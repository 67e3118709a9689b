import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// Ends a holder's e-CPS sessions when their last active card stops serving: e-CPS serves
/// only holders with an active card (``ECPSCore/requireActiveCard(_:)``), so the card
/// lifecycle calls this in the transaction that blocks a card, as it ends the card's own sessions.
public enum ECPSCardSessions {
    /// Ends the holder's e-CPS sessions and their tokens, in the running transaction, unless
    /// another of their cards is still active.
    static func end(holder: IdNat, blockedCard: Card, database: any Database, clock: any WallClock) async throws {
        let cards = try await CardRepository(database: database, clock: clock).cards(holder: holder)
        guard !cards.contains(where: { $0.id != blockedCard.id && $0.state == .active }) else { return }
        let oidc = OIDCRepository(database: database, clock: clock)
        for session in try await ECPSRepository(database: database, clock: clock).openECPSSessions(holder: holder) {
            _ = try await oidc.endSessions(where: .id, equals: session, reason: "no active card (\(blockedCard.state.rawValue))", at: clock.now())
        }
    }
}
