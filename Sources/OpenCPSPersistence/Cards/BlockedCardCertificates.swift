import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// A certificate of a blocked card that is not blocked with it: what the repair job revokes.
public struct UnblockedCertificate: Sendable, Equatable {
    /// The card file's id.
    public var cardID: String
    /// The card's state (`opposed`, `suspended`, `revoked`, `expired`, `superseded`).
    public var cardState: String
    /// The issuing CA's slug.
    public var issuer: String
    /// The certificate's serial, lower-case hex.
    public var serial: String
    /// Whether the certificate is on hold (not released) now.
    public var held: Bool
}

/// Finds blocked cards whose certificates still read as good (or only held, for a card
/// blocked for good). Since issue 21, a card's state and its certificates' revocations commit
/// together; this query is the safety net for rows written before, or by hand.
public struct BlockedCardCertificates: Sendable {
    private let database: any Database

    /// Creates the query.
    public init(database: any Database) {
        self.database = database
    }

    /// The states whose certificates must not be good: held for `suspended`, revoked for the others.
    public static let blockedStates = ["opposed", "suspended", "revoked", "expired", "superseded"]

    /// The certificates, still valid at `now`, of blocked cards that are good (never revoked,
    /// or a hold released), or only on hold while their card is blocked for good.
    public func find(validAt now: Date) async throws -> [UnblockedCertificate] {
        let rows = try await database.sql.raw("""
            SELECT c.id AS card_id, c.state AS card_state, t.issuer AS issuer, t.serial AS serial, t.reason AS reason, \
            t.revoked_at AS revoked_at, t.released_at AS released_at \
            FROM cards c JOIN certificates t ON t.issuer = c.certificate_issuer \
            AND t.serial IN (c.authentication_certificate, c.signature_certificate) \
            WHERE c.state IN (\(binds: Self.blockedStates)) AND t.not_after > \(bind: StoredTimestamp.string(now)) \
            AND (t.revoked_at IS NULL OR t.released_at IS NOT NULL OR (c.state <> 'suspended' AND t.reason = 6)) \
            ORDER BY c.id, t.serial
            """).all()
        return try rows.map { row in
            let revoked = try !row.decodeNil(column: "revoked_at")
            let released = try !row.decodeNil(column: "released_at")
            let reason = try row.decodeNil(column: "reason") ? nil : try row.decode(column: "reason", as: Int.self)
            return UnblockedCertificate(
                cardID: try row.decode(column: "card_id", as: String.self), cardState: try row.decode(column: "card_state", as: String.self),
                issuer: try row.decode(column: "issuer", as: String.self), serial: try row.decode(column: "serial", as: String.self),
                held: revoked && !released && reason == 6)
        }
    }
}
