import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// A certificate as stored: what was issued, to whom, and its revocation state.
public struct StoredCertificate: Sendable, Equatable, Codable {
    /// The issuing CA's slug (`forte-personnes`).
    public var issuer: String
    /// The serial number, lower-case hex.
    public var serial: String
    /// The profile (`authentication`, `signature`).
    public var profile: String
    /// The subject, as text.
    public var subject: String
    /// The holder's idNat, for card certificates.
    public var idNat: String?
    /// The card's serial, for card certificates.
    public var cardSerial: String?
    /// Start of validity (ISO 8601).
    public var notBefore: String
    /// End of validity (ISO 8601).
    public var notAfter: String
    /// When it was issued (ISO 8601).
    public var issuedAt: String
    /// The DER encoding, base64.
    public var der: String
    /// When it was revoked or put on hold, if it was.
    public var revokedAt: String?
    /// The RFC 5280 reason code of the revocation or hold.
    public var reason: Int?
    /// When a hold was released.
    public var releasedAt: String?

    /// Creates a record to store.
    public init(
        issuer: String, serial: String, profile: String, subject: String, idNat: String?, cardSerial: String?,
        notBefore: Date, notAfter: Date, issuedAt: Date, der: [UInt8]
    ) {
        self.issuer = issuer
        self.serial = serial
        self.profile = profile
        self.subject = subject
        self.idNat = idNat
        self.cardSerial = cardSerial
        self.notBefore = StoredTimestamp.string(notBefore)
        self.notAfter = StoredTimestamp.string(notAfter)
        self.issuedAt = StoredTimestamp.string(issuedAt)
        self.der = Data(der).base64EncodedString()
    }

    enum CodingKeys: String, CodingKey {
        case issuer, serial, profile, subject, der, reason
        case idNat = "id_nat"
        case cardSerial = "card_serial"
        case notBefore = "not_before"
        case notAfter = "not_after"
        case issuedAt = "issued_at"
        case revokedAt = "revoked_at"
        case releasedAt = "released_at"
    }

    /// Start of validity as a date.
    public var notBeforeDate: Date { StoredTimestamp.date(notBefore) ?? Date(timeIntervalSince1970: 0) }
    /// End of validity as a date.
    public var notAfterDate: Date { StoredTimestamp.date(notAfter) ?? Date(timeIntervalSince1970: 0) }
    /// The revocation or hold time as a date.
    public var revokedDate: Date? { revokedAt.flatMap(StoredTimestamp.date) }
    /// The release time as a date.
    public var releasedDate: Date? { releasedAt.flatMap(StoredTimestamp.date) }
    /// The DER bytes.
    public var derBytes: [UInt8] { Array(Data(base64Encoded: der) ?? Data()) }
}

/// The revocation state of one serial number, as OCSP and the CRLs read it.
public struct StoredRevocation: Sendable, Equatable {
    /// The serial number, lower-case hex.
    public var serial: String
    /// When it was revoked or held.
    public var revokedAt: Date
    /// The RFC 5280 reason code.
    public var reason: Int
    /// When a hold was released, if it was.
    public var releasedAt: Date?
}

/// Reads and writes issued certificates and their revocations; every change is one
/// transaction with its audit entry.
public struct CertificateRepository: Sendable {
    /// The RFC 5280 reason code of a hold (`certificateHold`).
    public static let holdReason = 6

    private let database: any Database
    private let audit: AuditLog
    private let clock: any WallClock

    /// Creates the repository.
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
        self.audit = AuditLog(clock: clock)
    }

    /// Stores certificates issued for different actors, each audited under its own actor, in one transaction.
    public func insert(_ certificates: [(certificate: StoredCertificate, actor: String)]) async throws {
        guard !certificates.isEmpty else { return }
        try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            try await CertificateIntentRepository.refuseAbandoned(certificates.map(\.certificate), on: sql)
            try await Self.insertRows(certificates.map(\.certificate), on: sql)
            try await audit.append(certificates.map { Self.issuance($0.certificate, actor: $0.actor) }, after: head, on: sql)
        }
    }

    /// Stores and audits certificates in one transaction of an ``SQLiteWriter``'s job.
    static func insert(
        _ certificates: [(certificate: StoredCertificate, actor: String)], intents: [CertificateIntent] = [], recordedAt: String,
        on session: SQLiteWriter.Session
    ) throws {
        let rows = certificates.map { item -> [String?] in
            let row = item.certificate
            return [row.issuer, row.serial, row.profile, row.subject, row.idNat, row.cardSerial, row.notBefore, row.notAfter, row.issuedAt, row.der]
        }
        let intentRows = intents.map { [$0.issuer, $0.serial, $0.profile, $0.idNat, $0.cardSerial, $0.notAfter, $0.intendedAt] }
        let events = certificates.map { issuance($0.certificate, actor: $0.actor) }
        try session.transaction {
            if !intentRows.isEmpty { try session.insert(intentRows, sql: insertOneIntent) }
            guard !rows.isEmpty else { return }
            let head = try AuditLog.lock(session)
            try CertificateIntentRepository.refuseAbandoned(certificates.map(\.certificate), on: session)
            try session.insert(rows, sql: insertOneRow)
            try AuditLog.append(events, after: head, recordedAt: recordedAt, on: session)
        }
    }

    private static let insertOneIntent = """
        INSERT INTO certificate_intents (issuer, serial, profile, id_nat, card_serial, not_after, intended_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        """

    private static let insertOneRow = """
        INSERT INTO certificates (issuer, serial, profile, subject, id_nat, card_serial, not_before, not_after, issued_at, der) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Inserts certificate rows, without audit, inside a transaction that audits them.
    static func insertRows(_ certificates: [StoredCertificate], on sql: any SQLDatabase) async throws {
        for chunk in certificates.chunked(by: 500) {
            try await sql.insert(into: "certificates").models(Array(chunk), nilEncodingStrategy: .asNil).run()
        }
    }

    /// The audit event of an issuance.
    static func issuance(_ certificate: StoredCertificate, actor: String) -> AuditEvent {
        AuditEvent(
            actor: actor, action: "certificate.issue", entityType: "certificate",
            entityID: "\(certificate.issuer)/\(certificate.serial)", afterDigest: digest(certificate.derBytes),
            detail: "\(certificate.profile) for \(certificate.idNat ?? certificate.subject)")
    }

    /// Whether a serial number is already used by this CA.
    public func isSerialTaken(issuer: String, serial: String) async throws -> Bool {
        try await database.sql.select().column("serial").from("certificates")
            .where("issuer", .equal, issuer).where("serial", .equal, serial).first() != nil
    }

    /// The certificate with this serial number, if this CA issued it.
    public func certificate(issuer: String, serial: String) async throws -> StoredCertificate? {
        try await database.sql.select().columns("*").from("certificates")
            .where("issuer", .equal, issuer).where("serial", .equal, serial)
            .first(decoding: StoredCertificate.self)
    }

    /// The certificates of a holder, newest first.
    public func certificates(idNat: String) async throws -> [StoredCertificate] {
        try await database.sql.select().columns("*").from("certificates").where("id_nat", .equal, idNat)
            .orderBy("issued_at", .descending).all(decoding: StoredCertificate.self)
    }

    /// Revokes a certificate, or puts it on hold (reason 6).
    /// - Throws: ``PersistenceError`` `registry.not-found`, or `certificate.already-revoked`
    ///   when it is revoked for good already (a held certificate can still be revoked for good).
    @discardableResult
    public func revoke(issuer: String, serial: String, reason: Int, at date: Date, actor: String, detail: String? = nil) async throws -> StoredCertificate {
        try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            guard var certificate = try await Self.row(issuer: issuer, serial: serial, on: sql) else {
                throw PersistenceError.notFound("certificate \(issuer)/\(serial)")
            }
            let held = certificate.reason == Self.holdReason && certificate.releasedAt == nil
            if certificate.revokedAt != nil && certificate.releasedAt == nil && !(held && reason != Self.holdReason) {
                throw PersistenceError(code: "certificate.already-revoked", reason: "certificate \(issuer)/\(serial) is already \(held ? "on hold" : "revoked")")
            }
            let before = Self.stateDigest(certificate)
            certificate.revokedAt = StoredTimestamp.string(date)
            certificate.reason = reason
            certificate.releasedAt = nil
            try await sql.update("certificates")
                .set("revoked_at", to: certificate.revokedAt).set("reason", to: reason).set("released_at", to: SQLLiteral.null)
                .where("issuer", .equal, issuer).where("serial", .equal, serial).run()
            try await audit.append([AuditEvent(
                actor: actor, action: reason == Self.holdReason ? "certificate.hold" : "certificate.revoke",
                entityType: "certificate", entityID: "\(issuer)/\(serial)", beforeDigest: before,
                afterDigest: Self.stateDigest(certificate), detail: detail ?? "reason \(reason)")], after: head, on: sql)
            return certificate
        }
    }

    /// Releases a hold: the certificate is good again.
    /// - Throws: `certificate.not-on-hold` when it is not held.
    @discardableResult
    public func releaseHold(issuer: String, serial: String, at date: Date, actor: String, detail: String? = nil) async throws -> StoredCertificate {
        try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            guard var certificate = try await Self.row(issuer: issuer, serial: serial, on: sql) else {
                throw PersistenceError.notFound("certificate \(issuer)/\(serial)")
            }
            guard certificate.reason == Self.holdReason, certificate.revokedAt != nil, certificate.releasedAt == nil else {
                throw PersistenceError(code: "certificate.not-on-hold", reason: "certificate \(issuer)/\(serial) is not on hold")
            }
            let before = Self.stateDigest(certificate)
            certificate.releasedAt = StoredTimestamp.string(date)
            try await sql.update("certificates").set("released_at", to: certificate.releasedAt)
                .where("issuer", .equal, issuer).where("serial", .equal, serial).run()
            try await audit.append([AuditEvent(
                actor: actor, action: "certificate.release", entityType: "certificate", entityID: "\(issuer)/\(serial)",
                beforeDigest: before, afterDigest: Self.stateDigest(certificate), detail: detail)], after: head, on: sql)
            return certificate
        }
    }

    /// Whether a serial number was issued by this CA, and its revocation if any. A serial
    /// recorded only as an intent (signed, its card never recorded) was issued and is revoked.
    public func status(issuer: String, serial: String) async throws -> (issued: Bool, revocation: StoredRevocation?) {
        guard let row = try await database.sql.select().columns("serial", "revoked_at", "reason", "released_at")
            .from("certificates").where("issuer", .equal, issuer).where("serial", .equal, serial).first()
        else {
            let intent = try await CertificateIntentRepository(database: database, clock: clock).revocation(issuer: issuer, serial: serial)
            return (intent != nil, intent)
        }
        return (true, try Self.revocation(row))
    }

    /// Every revocation and hold of a CA (released holds included, for delta CRLs), and its
    /// abandoned certificate intents.
    public func revocations(issuer: String) async throws -> [StoredRevocation] {
        try await database.sql.select().columns("serial", "revoked_at", "reason", "released_at").from("certificates")
            .where("issuer", .equal, issuer).where("revoked_at", .isNot, SQLLiteral.null)
            .all().compactMap(Self.revocation)
            + CertificateIntentRepository(database: database, clock: clock).abandoned(issuer: issuer)
    }

    /// Takes the next CRL number of a CA (full and delta CRLs share the sequence).
    public func nextCRLNumber(issuer: String) async throws -> Int {
        try await database.transaction { db in
            let sql = db.sql
            if SQLEngine(sql) == .sqlite {
                // Wait for another writer (a production run, the start-up sweep) asleep rather
                // than fail at once: the crash harness saw CRLs answer 500 "database is locked".
                try await sql.raw("PRAGMA busy_timeout = 30000").run()
            }
            // The write comes first, so the transaction takes the write lock before it reads:
            // on SQLite a read-first transaction cannot be upgraded once another connection wrote.
            if let row = try await sql.raw(
                "UPDATE crl_numbers SET last_number = last_number + 1 WHERE issuer = \(bind: issuer) RETURNING last_number"
            ).first() {
                return try row.decode(column: "last_number", as: Int.self)
            }
            try await sql.insert(into: "crl_numbers").columns("issuer", "last_number").values(SQLBind(issuer), SQLBind(1)).run()
            return 1
        }
    }

    private static func row(issuer: String, serial: String, on sql: any SQLDatabase) async throws -> StoredCertificate? {
        try await sql.select().columns("*").from("certificates")
            .where("issuer", .equal, issuer).where("serial", .equal, serial).first(decoding: StoredCertificate.self)
    }

    private static func revocation(_ row: any SQLRow) throws -> StoredRevocation? {
        guard let revokedText = try row.decodeNil(column: "revoked_at") ? nil : row.decode(column: "revoked_at", as: String.self),
              let revokedAt = StoredTimestamp.date(revokedText) else { return nil }
        let released = try row.decodeNil(column: "released_at") ? nil : row.decode(column: "released_at", as: String.self)
        return StoredRevocation(
            serial: try row.decode(column: "serial", as: String.self), revokedAt: revokedAt,
            reason: try row.decode(column: "reason", as: Int.self), releasedAt: released.flatMap(StoredTimestamp.date))
    }

    private static func digest(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).hexString
    }

    private static func stateDigest(_ certificate: StoredCertificate) -> String {
        digest(Array("\(certificate.serial)|\(certificate.revokedAt ?? "-")|\(certificate.reason.map(String.init) ?? "-")|\(certificate.releasedAt ?? "-")".utf8))
    }
}
