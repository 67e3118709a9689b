import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence

/// Ends a holder's e-CPS sessions (and device certificates) when their last active card stops serving: e-CPS serves
/// only holders with an active card (``ECPSCore/requireActiveCard(_:)``), so the card
/// lifecycle calls this in the transaction that blocks a card, as it ends the card's own sessions.
public enum ECPSCardSessions {
    /// Ends the holder's e-CPS sessions and their tokens, in the running transaction, unless
    /// another of their cards is still active.
    /// The device certificates naming the blocked card are revoked in any case (they carry its
    /// name and serial); when no card of the holder stays active, all of theirs are.
    static func end(holder: IdNat, blockedCard: Card, database: any Database, clock: any WallClock, pki: PKIService) async throws {
        let detail = "card \(blockedCard.id) \(blockedCard.state.rawValue)"
        if let serial = blockedCard.manufacture?.serial {
            try await ECPSCertificates.revokeCertificates(
                .card(serial.value), reason: .cessationOfOperation, actor: CardActor.platform.auditName, detail: detail,
                database: database, clock: clock, pki: pki)
        }
        let cards = try await CardRepository(database: database, clock: clock).cards(holder: holder)
        guard !cards.contains(where: { $0.id != blockedCard.id && $0.state == .active }) else { return }
        try await ECPSCertificates.revokeCertificates(
            .holder(holder), reason: .cessationOfOperation, actor: CardActor.platform.auditName, detail: detail,
            database: database, clock: clock, pki: pki)
        let oidc = OIDCRepository(database: database, clock: clock)
        for session in try await ECPSRepository(database: database, clock: clock).openECPSSessions(holder: holder) {
            _ = try await oidc.endSessions(where: .id, equals: session, reason: "no active card (\(blockedCard.state.rawValue))", at: clock.now())
        }
    }
}
