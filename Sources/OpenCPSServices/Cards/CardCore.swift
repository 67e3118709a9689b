import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSTokens

/// What every card use case shares: it loads a card, asks the domain whether the actor may
/// act, applies one transition, and stores the change with its audit entry, in one
/// transaction. The use-case services (``CardOrdering``, ``CardProduction``, ...) are thin
/// around it.
final class CardCore: Sendable {
    let pki: PKIService
    let tokens: SoftwareTokenStore
    /// The PKCS #11 module new cards are made on; nil: software tokens.
    let pkcs11Cards: PKCS11CardTokenStore?
    let letters: URL
    let database: ServiceDatabase
    let clock: any WallClock
    let random: RandomBytes
    let settings: CardServiceSettings

    init(
        pki: PKIService, tokens: SoftwareTokenStore, pkcs11Cards: PKCS11CardTokenStore? = nil, letters: URL, database: ServiceDatabase,
        clock: any WallClock, random: RandomBytes, settings: CardServiceSettings
    ) {
        self.pki = pki
        self.tokens = tokens
        self.pkcs11Cards = pkcs11Cards
        self.letters = letters
        self.database = database
        self.clock = clock
        self.random = random
        self.settings = settings
    }

    var today: CivilDate { CivilDate(clock.now()) }

    /// The token of a card: its software token file if there is one, else its PKCS #11 token.
    func token(cardSerial: String) throws -> any CardToken {
        if let pkcs11Cards, !FileManager.default.fileExists(atPath: tokens.url(cardSerial: cardSerial).path), pkcs11Cards.exists(cardSerial: cardSerial) {
            return try pkcs11Cards.open(cardSerial: cardSerial)
        }
        return try tokens.open(cardSerial: cardSerial)
    }

    /// The cards, in the running operation's transaction if there is one.
    var cards: CardRepository { CardRepository(database: database.current, clock: clock) }

    /// The registry, in the running operation's transaction if there is one.
    var registry: RegistryRepository { RegistryRepository(database: database.current, clock: clock) }

    /// A new file identifier: a lowercase UUID.
    func newFileID() -> String { UUID().uuidString.lowercased() }

    // MARK: Loading and authorising

    /// The card, or `registry.not-found`.
    /// Records that `actor` read a card's personal file (issue 21: reads of personal files are
    /// audited). Kept under the entity type `card-read`, apart from the card's own history, so
    /// that reading the history does not grow it.
    func auditRead(_ card: Card, actor: CardActor, what: String) async throws {
        try await AuditLog(clock: clock).record(
            [AuditEvent(actor: actor.auditName, action: "card.read", entityType: "card-read", entityID: card.id, detail: what)],
            on: database.current)
    }

    func load(_ id: String) async throws -> Card {
        guard let card = try await cards.card(id: id) else { throw PersistenceError.notFound("card \(id)") }
        return card
    }

    /// Refuses the action unless the domain's rules allow it (or allow `alternative`).
    func authorize(_ actor: CardActor, _ action: CardAction, _ card: Card, orAlso alternative: CardAction? = nil) throws {
        if let alternative, CardAuthorization.isAllowed(actor, alternative, on: card.context) { return }
        try CardAuthorization.check(actor, action, on: card.context)
    }

    /// Refuses a regional health agency acting on a file outside its region, from the
    /// registry (``CardAuthorization/checkRegion(_:holder:)``); other actors pass.
    func authorizeRegion(_ actor: CardActor, _ card: Card) async throws {
        guard case .agenceRegionale = actor else { return }
        try CardAuthorization.checkRegion(actor, holder: try await registry.professional(card.holder)?.professional)
    }

    // MARK: Changing

    /// Changes a stored card in one transaction: the stored card is read under the lock, the
    /// actor authorised for `action` (the platform acts on its own authority), `change` applied,
    /// and the result written with its audit entry `auditAction`.
    func change(
        _ id: String, actor: CardActor, authorizing action: CardAction, auditAction: String, detail: String? = nil,
        _ change: @escaping @Sendable (inout Card) async throws -> Void
    ) async throws -> Card {
        // In a transaction of the service's own, so that what `change` reads is read in it.
        try await database.transaction { _ in
            try await self.cards.update(id: id, actor: actor.auditName, action: auditAction, detail: detail) { stored, _ in
                if actor != .platform {
                    try self.authorize(actor, action, stored)
                    try await self.authorizeRegion(actor, stored)
                }
                var updated = stored
                try await change(&updated)
                return updated
            }
        }
    }

    /// Applies one transition of the state machine to a stored card (see ``change(_:actor:authorizing:auditAction:detail:_:)``).
    func transition(
        _ id: String, _ transition: CardTransition, actor: CardActor, detail: String? = nil,
        also change: @escaping @Sendable (inout Card) async throws -> Void = { _ in }
    ) async throws -> Card {
        // One transaction: a card that stops logging in ends its SSO sessions and tokens with it.
        try await database.transaction { database in
            let card = try await self.change(id, actor: actor, authorizing: .transition(transition), auditAction: "card.\(transition.rawValue)", detail: detail) { card in
                try card.apply(transition)
                try await change(&card)
            }
            if OIDCCardSessions.endsSessions(card.state) {
                try await OIDCCardSessions.end(cardID: card.id, state: card.state, database: database, clock: self.clock)
                try await ECPSCardSessions.end(holder: card.holder, blockedCard: card, database: database, clock: self.clock, pki: self.pki)
            }
            return card
        }
    }

    // MARK: Certificates

    /// Revokes (or holds) both certificates of a card; one revoked for good already is left as is.
    func revokeCertificates(_ card: Card, reason: RevocationReason, actor: CardActor, detail: String) async throws {
        guard let certificates = card.manufacture?.certificates else { return }
        for serial in certificates.serials {
            do {
                _ = try await pki.revoke(issuer: certificates.issuer, serialHex: serial, reason: reason, actor: actor.auditName, detail: detail)
            } catch let error as PersistenceError where error.code == "certificate.already-revoked" {
                // Revoked for good already: nothing more to do.
            }
        }
    }

    /// Ends a card the platform replaces (supersession, or revocation of a suspended one) and
    /// revokes its certificates, in one transaction.
    func retire(_ card: Card, transition: CardTransition, reason: RevocationReason, detail: String) async throws {
        try await database.transaction { _ in
            let retired = try await self.transition(card.id, transition, actor: .platform, detail: detail)
            try await self.revokeCertificates(retired, reason: reason, actor: .platform, detail: detail)
        }
    }

    // MARK: Files and documents

    /// The documents a manual order needs, from the holder's profession and mode of activity;
    /// nil for an automatic order.
    func requiredDocuments(_ card: Card) async throws -> RequiredDocuments? {
        guard card.order.mode == .manual else { return nil }
        let professional = try await registry.professional(card.holder)?.professional
        let mode = professional?.exercises.first { $0.profession == card.profession }?.activities.first?.mode ?? .salarie
        return RequiredDocuments(kind: card.kind, profession: card.profession, mode: mode, orderMode: .manual, express: card.isExpress)
    }

    /// Refuses a file whose required documents are not all provided.
    func requireComplete(_ card: Card) async throws {
        guard let required = try await requiredDocuments(card) else { return }
        let provided = try await cards.documents(cardID: card.id).compactMap { DocumentKind(rawValue: $0.kind) }
        try required.checkComplete(provided: provided)
    }

    /// The whole file of a card: documents, shipments, what is missing, whether it is late.
    func file(of card: Card) async throws -> CardFile {
        let repository = cards
        let documents = try await repository.documents(cardID: card.id)
        let missing = try await requiredDocuments(card)?.missing(from: documents.compactMap { DocumentKind(rawValue: $0.kind) }) ?? []
        return CardFile(
            card: card, documents: documents, shipments: try await repository.shipments(cardID: card.id),
            missingDocuments: missing, isOverdue: card.isOverdue(on: today))
    }

    /// Decimal digits from the CSPRNG, without modulo bias.
    func digits(_ count: Int) -> String {
        var result = ""
        while result.count < count {
            for byte in random.bytes(count * 2) where byte < 250 && result.count < count {
                result.append(Character(String(byte % 10)))
            }
        }
        return result
    }
}
