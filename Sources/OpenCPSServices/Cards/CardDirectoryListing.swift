import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// A card as the national directory publishes it on a Practitioner (`as-ext-smartcard`):
/// type, number, validity and the date it was blocked for good.
public struct DirectoryCard: Sendable, Equatable {
    /// The card type (TRE_R87: CDE shows as CPE, CDA as CPA).
    public var type: CardType
    /// The card number (its serial).
    public var number: String
    /// The first day of validity: the day the card was made.
    public var validFrom: CivilDate?
    /// The last day of validity.
    public var validUntil: CivilDate
    /// The day the card was opposed (lost or stolen) or revoked, when it was.
    public var oppositionDate: CivilDate?

    /// Creates the view of a card.
    public init(type: CardType, number: String, validFrom: CivilDate?, validUntil: CivilDate, oppositionDate: CivilDate?) {
        self.type = type
        self.number = number
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.oppositionDate = oppositionDate
    }
}

/// What the public directory shows of cards: the cards that were made for a holder, and the
/// holder of a card number. Public data (the national directory publishes them), so no actor
/// is asked for.
public struct CardDirectoryListing: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock

    /// Creates the listing.
    public init(database: ServiceDatabase, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    private var repository: CardRepository { CardRepository(database: database.current, clock: clock) }

    /// The cards made for a holder (every card that left manufacture, whatever its state
    /// since), newest first.
    public func cards(of holder: IdNat) async throws -> [DirectoryCard] {
        let repository = repository
        var listed: [DirectoryCard] = []
        for card in try await repository.cards(holder: holder) {
            guard let manufacture = card.manufacture else { continue }
            let history = try await repository.history(cardID: card.id)
            func day(of action: String) -> CivilDate? {
                history.first { $0.action == action }.flatMap { try? CivilDate(String($0.recordedAt.prefix(10))) }
            }
            let blocked = card.state == .opposed ? day(of: "card.oppose") : (card.state == .revoked ? day(of: "card.revoke") : nil)
            listed.append(DirectoryCard(
                type: card.kind.cardType, number: manufacture.serial.value, validFrom: day(of: "card.manufacture"),
                validUntil: manufacture.expiresOn, oppositionDate: blocked))
        }
        return listed
    }

    /// The holder of the card with this number, if a card has it.
    public func holder(ofCardNumber number: String) async throws -> IdNat? {
        guard let serial = try? CardSerial(number) else { return nil }
        return try await repository.card(serial: serial)?.holder
    }
}
