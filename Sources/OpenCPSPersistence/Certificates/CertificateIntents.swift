import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// A certificate about to be signed, recorded before the CA's key signs it (M0013).
///
/// An intent is *completed* once its certificate is stored in `certificates` (the card's
/// manufacture committed); it is *abandoned* when its card was never recorded: a process died
/// between the signature and the commit, or the manufacture failed. An intent that is not
/// completed reads as revoked (`cessationOfOperation`) for OCSP from the start, and an
/// abandoned one is on the CRLs: a signed certificate the database does not hold as issued is
/// never good anywhere.
public struct CertificateIntent: Sendable, Equatable, Codable {
    /// The issuing CA's slug.
    public var issuer: String
    /// The serial number the certificate will have, lower-case hex.
    public var serial: String
    /// The profile (`authentication`, `signature`).
    public var profile: String
    /// The holder's idNat.
    public var idNat: String?
    /// The card's serial.
    public var cardSerial: String?
    /// The certificate's end of validity (ISO 8601): the CRLs may drop it after.
    public var notAfter: String
    /// When it was recorded (ISO 8601).
    public var intendedAt: String
    /// When it was abandoned, if it was (ISO 8601).
    public var abandonedAt: String?

    /// Creates an intent.
    public init(issuer: String, serial: String, profile: String, idNat: String?, cardSerial: String?, notAfter: Date, intendedAt: Date) {
        self.issuer = issuer
        self.serial = serial
        self.profile = profile
        self.idNat = idNat
        self.cardSerial = cardSerial
        self.notAfter = StoredTimestamp.string(notAfter)
        self.intendedAt = StoredTimestamp.string(intendedAt)
        self.abandonedAt = nil
    }

    enum CodingKeys: String, CodingKey {
        case issuer, serial, profile
        case idNat = "id_nat"
        case cardSerial = "card_serial"
        case notAfter = "not_after"
        case intendedAt = "intended_at"
        case abandonedAt = "abandoned_at"
    }

    /// The RFC 5280 reason an intent not completed is answered with: `cessationOfOperation`
    /// (the certificate was never put into service), not `keyCompromise` (no key was exposed:
    /// the token never left the server).
    public static let revocationReason = 5
}

/// Reads and writes certificate intents.
public struct CertificateIntentRepository: Sendable {
    private let database: any Database
    private let clock: any WallClock

    /// Creates the repository.
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Records intents in one transaction of their own, committed when this returns (one per
    /// production batch, so that a batch costs one more short transaction, not one per card).
    /// Not audited: the issuance is audited when the card is recorded, the abandonment when
    /// it is abandoned.
    public func record(_ intents: [CertificateIntent]) async throws {
        guard !intents.isEmpty else { return }
        try await database.transaction { db in
            if SQLEngine(db.sql) == .sqlite {
                // Another batch's recording may hold SQLite's write lock: wait for it asleep
                // (SQLiteNIO's own busy handler spins on a core, which on a loaded machine kept
                // the pool's connections past their 10 s timeout and failed production runs).
                try await db.sql.raw("PRAGMA busy_timeout = 30000").run()
            }
            for chunk in intents.chunked(by: 500) {
                try await db.sql.insert(into: "certificate_intents").models(Array(chunk), nilEncodingStrategy: .asNil).run()
            }
        }
    }

    /// The revocation an intent stands for, when `serial` is an intent of this CA that is not
    /// completed: revoked since it was abandoned (or intended, while not yet abandoned).
    public func revocation(issuer: String, serial: String) async throws -> StoredRevocation? {
        guard let intent = try await database.sql.select().columns("*").from("certificate_intents")
            .where("issuer", .equal, issuer).where("serial", .equal, serial).first(decoding: CertificateIntent.self)
        else { return nil }
        return Self.revocation(intent)
    }

    /// Every abandoned intent of a CA, as the CRLs list them.
    public func abandoned(issuer: String) async throws -> [StoredRevocation] {
        try await database.sql.select().columns("*").from("certificate_intents")
            .where("issuer", .equal, issuer).where("abandoned_at", .isNot, SQLLiteral.null)
            .all(decoding: CertificateIntent.self).compactMap(Self.revocation)
    }

    /// The intents not completed nor abandoned (for tests and the crash harness).
    public func open() async throws -> [CertificateIntent] {
        try await database.sql.select().columns("*").from("certificate_intents")
            .where("abandoned_at", .is, SQLLiteral.null).all(decoding: CertificateIntent.self)
    }

    /// Every intent of a card (for tests and the crash harness).
    public func intents(cardSerial: String) async throws -> [CertificateIntent] {
        try await database.sql.select().columns("*").from("certificate_intents")
            .where("card_serial", .equal, cardSerial).all(decoding: CertificateIntent.self)
    }

    /// Forgets the intents whose certificate is stored (completed), then abandons, with an
    /// audit entry each, the intents still without a certificate that were recorded before
    /// `cutoff` or belong to one of `cardSerials`. Runs under the audit lock, which the
    /// recording of manufactured cards also takes: an intent whose card is being recorded is
    /// either completed first or abandoned first, never both.
    /// - Returns: the intents abandoned now.
    @discardableResult
    public func sweep(intendedBefore cutoff: Date, cardSerials: [String] = [], actor: String, detail: String) async throws -> [CertificateIntent] {
        let now = StoredTimestamp.string(clock.now())
        let audit = AuditLog(clock: clock)
        return try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            try await sql.raw("""
                DELETE FROM certificate_intents WHERE EXISTS (SELECT 1 FROM certificates c \
                WHERE c.issuer = certificate_intents.issuer AND c.serial = certificate_intents.serial)
                """).run()
            var query = sql.select().columns("*").from("certificate_intents").where("abandoned_at", .is, SQLLiteral.null)
            let cutoffText = StoredTimestamp.string(cutoff)
            if cardSerials.isEmpty {
                query = query.where("intended_at", .lessThan, cutoffText)
            } else {
                query = query.where { group in
                    group.where("intended_at", .lessThan, cutoffText).orWhere("card_serial", .in, cardSerials)
                }
            }
            var abandoned = try await query.orderBy("intended_at").all(decoding: CertificateIntent.self)
            guard !abandoned.isEmpty else { return [] }
            for intent in abandoned {
                try await sql.update("certificate_intents").set("abandoned_at", to: now)
                    .where("issuer", .equal, intent.issuer).where("serial", .equal, intent.serial).run()
            }
            for index in abandoned.indices { abandoned[index].abandonedAt = now }
            try await audit.append(abandoned.map { intent in
                AuditEvent(
                    actor: actor, action: "certificate.abandon", entityType: "certificate", entityID: "\(intent.issuer)/\(intent.serial)",
                    detail: "\(intent.profile) of card \(intent.cardSerial ?? "-") for \(intent.idNat ?? "-"): \(detail)")
            }, after: head, on: sql)
            return abandoned
        }
    }

    /// Abandons these intents at once, with an audit entry each, unless their certificate is
    /// stored or they are abandoned already: what an issuance whose signature failed leaves.
    /// - Returns: the intents abandoned now.
    @discardableResult
    public func abandon(_ intents: [CertificateIntent], actor: String, detail: String) async throws -> [CertificateIntent] {
        guard !intents.isEmpty else { return [] }
        let now = StoredTimestamp.string(clock.now())
        let audit = AuditLog(clock: clock)
        return try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            var abandoned: [CertificateIntent] = []
            for intent in intents {
                let changed = try await sql.raw("""
                    UPDATE certificate_intents SET abandoned_at = \(bind: now) WHERE issuer = \(bind: intent.issuer) \
                    AND serial = \(bind: intent.serial) AND abandoned_at IS NULL AND NOT EXISTS (SELECT 1 FROM certificates c \
                    WHERE c.issuer = certificate_intents.issuer AND c.serial = certificate_intents.serial) RETURNING serial
                    """).first()
                guard changed != nil else { continue }
                var done = intent
                done.abandonedAt = now
                abandoned.append(done)
            }
            try await audit.append(abandoned.map { intent in
                AuditEvent(
                    actor: actor, action: "certificate.abandon", entityType: "certificate", entityID: "\(intent.issuer)/\(intent.serial)",
                    detail: "\(intent.profile) for \(intent.idNat ?? "-"): \(detail)")
            }, after: head, on: sql)
            return abandoned
        }
    }

    /// Refuses to record certificates whose intent was abandoned meanwhile (a sweep took the
    /// card for dead): an abandoned serial is on the CRLs and must never become good. Run in the
    /// recording transaction, under the audit lock that the sweep also takes.
    /// - Throws: `certificate.intent-abandoned`.
    static func refuseAbandoned(_ certificates: [StoredCertificate], on sql: any SQLDatabase) async throws {
        for (issuer, ofIssuer) in Dictionary(grouping: certificates, by: \.issuer) {
            for chunk in ofIssuer.chunked(by: 500) {
                try await refuseAbandoned(issuer: issuer, serials: chunk.map(\.serial), on: sql)
            }
        }
    }

    /// ``refuseAbandoned(_:on:)`` on an SQLite file's writer (the issuance group commit).
    static func refuseAbandoned(_ certificates: [StoredCertificate], on session: SQLiteWriter.Session) throws {
        let statement = try session.statement(
            "SELECT serial FROM certificate_intents WHERE issuer = ? AND serial = ? AND abandoned_at IS NOT NULL")
        for certificate in certificates {
            try statement.bind(1, certificate.issuer)
            try statement.bind(2, certificate.serial)
            if try statement.firstRow() != nil { throw abandonedError(certificate.serial) }
        }
    }

    private static func abandonedError(_ serial: String) -> PersistenceError {
        PersistenceError(
            code: "certificate.intent-abandoned",
            reason: "certificate \(serial) was abandoned (taken for dead by a sweep) before it was recorded")
    }

    private static func refuseAbandoned(issuer: String, serials: [String], on sql: any SQLDatabase) async throws {
        let abandoned = try await sql.select().column("serial").from("certificate_intents").where("issuer", .equal, issuer)
            .where("serial", .in, serials).where("abandoned_at", .isNot, SQLLiteral.null)
            .all().map { try $0.decode(column: "serial", as: String.self) }
        if let serial = abandoned.first { throw abandonedError(serial) }
    }

    private static func revocation(_ intent: CertificateIntent) -> StoredRevocation? {
        guard let at = StoredTimestamp.date(intent.abandonedAt ?? intent.intendedAt) else { return nil }
        return StoredRevocation(serial: intent.serial, revokedAt: at, reason: CertificateIntent.revocationReason, releasedAt: nil)
    }
}
