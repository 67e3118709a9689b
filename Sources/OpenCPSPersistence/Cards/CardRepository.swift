import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// A card as stored: its order file, its state, and once made, its serial and certificates.
public struct CardRecord: Sendable, Equatable, Codable {
    /// The identifier of the file (a UUID), stable from the order to the card's end.
    public var id: String
    /// The holder's idNat.
    public var idNat: String
    /// CPS, CPF, CPE, CPA, CDE or CDA.
    public var kind: String
    /// The lifecycle state (``CardState`` raw value).
    public var state: String
    /// `automatic` or `manual`.
    public var orderMode: String
    /// `first`, `renewal`, `replacement`, `reissue` or `temporary`.
    public var orderReason: String
    /// The competent instance (``ValidatingInstance`` code).
    public var instance: String
    /// The profession the card is for.
    public var professionCode: String?
    /// The structure (idNatStruct) for staff and managers' cards, or the activity's.
    public var structureID: String?
    /// Whether the file is on the express path.
    public var express: Bool
    /// The emergency that justified it.
    public var expressJustification: String?
    /// The card this one replaces or renews.
    public var replacesCardID: String?
    /// Why the file was last rejected.
    public var rejectionReason: String?
    /// When the complete file was validated (`YYYY-MM-DD`).
    public var validatedOn: String?
    /// When the card is due (`YYYY-MM-DD`).
    public var dueOn: String?
    /// The card serial, once manufactured.
    public var serial: String?
    /// The last day of validity, once manufactured.
    public var expiresOn: String?
    /// The CA that issued its certificates.
    public var certificateIssuer: String?
    /// The authentication certificate's serial (hex).
    public var authenticationCertificate: String?
    /// The signature certificate's serial (hex).
    public var signatureCertificate: String?
    /// Where it is shipped (one line).
    public var shippingAddress: String?
    /// Whether it is a temporary card for internal use.
    public var temporary: Bool
    /// A digest of what the card carries (name, profession, structure), to tell when a
    /// registry change needs a new card.
    public var contentDigest: String?
    /// Created (ISO 8601).
    public var createdAt: String
    /// Last changed (ISO 8601).
    public var updatedAt: String
    /// Incremented by every change.
    public var version: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, state, instance, express, serial, temporary, version
        case idNat = "id_nat"
        case orderMode = "order_mode"
        case orderReason = "order_reason"
        case professionCode = "profession_code"
        case structureID = "structure_id"
        case expressJustification = "express_justification"
        case replacesCardID = "replaces_card_id"
        case rejectionReason = "rejection_reason"
        case validatedOn = "validated_on"
        case dueOn = "due_on"
        case expiresOn = "expires_on"
        case certificateIssuer = "certificate_issuer"
        case authenticationCertificate = "authentication_certificate"
        case signatureCertificate = "signature_certificate"
        case shippingAddress = "shipping_address"
        case contentDigest = "content_digest"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// A new file in the `ordered` state.
    public init(
        id: String, idNat: String, kind: String, orderMode: String, orderReason: String, instance: String,
        professionCode: String?, structureID: String?, replacesCardID: String? = nil, temporary: Bool = false, now: Date
    ) {
        self.id = id
        self.idNat = idNat
        self.kind = kind
        self.state = "ordered"
        self.orderMode = orderMode
        self.orderReason = orderReason
        self.instance = instance
        self.professionCode = professionCode
        self.structureID = structureID
        self.express = false
        self.replacesCardID = replacesCardID
        self.temporary = temporary
        self.createdAt = StoredTimestamp.string(now)
        self.updatedAt = self.createdAt
        self.version = 1
    }

    /// A digest of the record, for the audit log (the before and after of each change): every
    /// field but the bookkeeping ones (version, last change).
    public var digest: String {
        FieldDigest.sha256([
            id, idNat, kind, state, orderMode, orderReason, instance, professionCode, structureID, String(express),
            expressJustification, replacesCardID, rejectionReason, validatedOn, dueOn, serial, expiresOn, certificateIssuer,
            authenticationCertificate, signatureCertificate, shippingAddress, String(temporary), contentDigest, createdAt,
        ])
    }
}

/// A document of an order file.
public struct CardDocument: Sendable, Equatable, Codable {
    /// Its identifier.
    public var id: String
    /// The file it belongs to.
    public var cardID: String
    /// Its kind (``DocumentKind`` raw value).
    public var kind: String
    /// Its media type.
    public var mediaType: String
    /// Its size.
    public var byteCount: Int
    /// Its SHA-256, hex.
    public var sha256: String
    /// When it was uploaded.
    public var uploadedAt: String
    /// Who uploaded it.
    public var uploadedBy: String

    /// Creates a document record.
    public init(id: String, cardID: String, kind: String, mediaType: String, byteCount: Int, sha256: String, uploadedAt: String, uploadedBy: String) {
        self.id = id
        self.cardID = cardID
        self.kind = kind
        self.mediaType = mediaType
        self.byteCount = byteCount
        self.sha256 = sha256
        self.uploadedAt = uploadedAt
        self.uploadedBy = uploadedBy
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, sha256
        case cardID = "card_id"
        case mediaType = "media_type"
        case byteCount = "byte_count"
        case uploadedAt = "uploaded_at"
        case uploadedBy = "uploaded_by"
    }
}

/// A shipment: the card, or its PIN letter, each with its own tracking number.
public struct CardShipment: Sendable, Equatable, Codable {
    /// The carrier's tracking number.
    public var trackingNumber: String
    /// The card.
    public var cardID: String
    /// `card` or `pin_letter`.
    public var kind: String
    /// The postal address.
    public var address: String
    /// When it left.
    public var shippedAt: String

    /// Creates a shipment.
    public init(trackingNumber: String, cardID: String, kind: String, address: String, shippedAt: Date) {
        self.trackingNumber = trackingNumber
        self.cardID = cardID
        self.kind = kind
        self.address = address
        self.shippedAt = StoredTimestamp.string(shippedAt)
    }

    enum CodingKeys: String, CodingKey {
        case kind, address
        case trackingNumber = "tracking_number"
        case cardID = "card_id"
        case shippedAt = "shipped_at"
    }
}

/// A notification in the outbox.
public struct CardNotification: Sendable, Equatable, Codable {
    /// Its identifier.
    public var id: String
    /// The card it is about.
    public var cardID: String
    /// Its kind (`renewal-m3`, `renewal-m1`, `renewal-w1`, `overdue`...): one per card and kind, ever.
    public var kind: String
    /// The idNat it is for.
    public var recipient: String
    /// The message, in French.
    public var message: String
    /// When it was put in the outbox.
    public var createdAt: String
    /// When it was handed to the sender.
    public var sentAt: String?

    /// Creates a notification.
    public init(id: String, cardID: String, kind: String, recipient: String, message: String, createdAt: String, sentAt: String?) {
        self.id = id
        self.cardID = cardID
        self.kind = kind
        self.recipient = recipient
        self.message = message
        self.createdAt = createdAt
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, recipient, message
        case cardID = "card_id"
        case createdAt = "created_at"
        case sentAt = "sent_at"
    }
}

/// Reads and writes cards; every change is one transaction with its audit entry.
public struct CardRepository: Sendable {
    private let database: any Database
    private let audit: AuditLog
    private let clock: any WallClock

    /// Creates the repository.
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
        self.audit = AuditLog(clock: clock)
    }

    /// The card with this identifier.
    public func card(id: String) async throws -> CardRecord? {
        try await database.sql.select().columns("*").from("cards").where("id", .equal, id).first(decoding: CardRecord.self)
    }

    /// The card with this serial.
    public func card(serial: String) async throws -> CardRecord? {
        try await database.sql.select().columns("*").from("cards").where("serial", .equal, serial).first(decoding: CardRecord.self)
    }

    /// A holder's cards, newest first.
    public func cards(idNat: String) async throws -> [CardRecord] {
        try await database.sql.select().columns("*").from("cards").where("id_nat", .equal, idNat)
            .orderBy("created_at", .descending).orderBy("id").all(decoding: CardRecord.self)
    }

    /// Cards in some states, oldest first, at most `limit`.
    public func cards(states: [String], limit: Int = 1_000, after: String? = nil) async throws -> [CardRecord] {
        let query = database.sql.select().columns("*").from("cards").where("state", .in, states)
        if let after { query.where("id", .greaterThan, after) }
        return try await query.orderBy("id").limit(limit).all(decoding: CardRecord.self)
    }

    /// Cards in service whose validity ends on or before a day, in order of expiry, then id.
    /// - Parameter after: the last card of the previous page.
    public func cardsExpiring(onOrBefore day: String, limit: Int = 1_000, after: CardRecord? = nil) async throws -> [CardRecord] {
        let sql = database.sql
        // Pages walk the (expires_on, id) index, so that each page costs its own rows; left to
        // itself, SQLite's planner takes the state index and sorts every remaining card per page.
        let hint: SQLQueryString = SQLEngine(sql) == .sqlite ? " INDEXED BY cards_expiry_order" : ""
        var query: SQLQueryString = "SELECT * FROM cards"
        query += hint
        query += " WHERE state IN (\(binds: ["shipped", "delivered", "active", "suspended"])) AND expires_on <= \(bind: day)"
        if let after, let expiresOn = after.expiresOn {
            query += " AND (expires_on, id) > (\(bind: expiresOn), \(bind: after.id))"
        }
        query += " ORDER BY expires_on, id LIMIT \(literal: limit)"
        return try await sql.raw(query).all(decoding: CardRecord.self)
    }

    /// The cards with these identifiers, in no particular order (unknown ones are left out).
    public func cards(ids: [String]) async throws -> [CardRecord] {
        var found: [CardRecord] = []
        for chunk in ids.chunked(by: 500) {
            found += try await database.sql.select().columns("*").from("cards").where("id", .in, Array(chunk))
                .all(decoding: CardRecord.self)
        }
        return found
    }

    /// Which of these card serials are taken.
    public func takenSerials(_ serials: [String]) async throws -> Set<String> {
        try await values(of: "serial", in: "cards", among: serials)
    }

    /// Which of these tracking numbers are taken.
    public func takenTrackingNumbers(_ numbers: [String]) async throws -> Set<String> {
        try await values(of: "tracking_number", in: "card_shipments", among: numbers)
    }

    /// The cards, among these, that a file already renews, replaces or reissues.
    public func cardsWithSuccessor(among ids: [String]) async throws -> Set<String> {
        try await values(of: "replaces_card_id", in: "cards", among: ids)
    }

    private func values(of column: String, in table: String, among candidates: [String]) async throws -> Set<String> {
        var found: Set<String> = []
        for chunk in candidates.chunked(by: 500) {
            for row in try await database.sql.select().column(SQLIdentifier(column)).from(table)
                .where(SQLIdentifier(column), .in, Array(chunk)).all() {
                found.insert(try row.decode(column: column, as: String.self))
            }
        }
        return found
    }

    /// Stores new files in one transaction, each with its audit events: its order, then the
    /// transitions it went through when it was created (a renewal validated at once).
    /// Either every file is stored or none is.
    public func insert(_ files: [(card: CardRecord, events: [AuditEvent])]) async throws {
        guard !files.isEmpty else { return }
        try await database.transaction { db in
            let sql = db.sql
            try await SQLEngine.enlargeSQLiteCache(sql)
            let head = try await AuditLog.lock(sql)
            for chunk in files.chunked(by: 200) {
                try await sql.insert(into: "cards").models(chunk.map(\.card), nilEncodingStrategy: .asNil).run()
            }
            try await audit.append(files.flatMap(\.events), after: head, on: sql)
        }
    }

    /// A manufactured card, as recorded: the new record and what goes with it.
    public struct Manufactured: Sendable {
        /// The record after manufacture (shipped, with its serial and certificates).
        public var card: CardRecord
        /// The version the record had when manufacture began: it is recorded only if unchanged.
        public var expectedVersion: Int
        /// Its authentication and signature certificates.
        public var certificates: [StoredCertificate]
        /// The card and its PIN letter.
        public var shipments: [CardShipment]
        /// Who manufactured it.
        public var actor: String
        /// The audit detail of the manufacture.
        public var detail: String

        /// Creates the record of a manufactured card.
        public init(card: CardRecord, expectedVersion: Int, certificates: [StoredCertificate], shipments: [CardShipment], actor: String, detail: String) {
            self.card = card
            self.expectedVersion = expectedVersion
            self.certificates = certificates
            self.shipments = shipments
            self.actor = actor
            self.detail = detail
        }
    }

    /// Records manufactured cards in one transaction: certificates, shipments, the cards'
    /// new state, and the audit entries (each issuance, each manufacture). `beforeCommit` runs
    /// inside the transaction once everything is written, to put the cards' files in place;
    /// if anything throws, nothing is recorded.
    /// - Throws: `registry.not-found`, `registry.version-conflict` when a card changed since
    ///   manufacture began, or what `beforeCommit` throws.
    public func recordManufactured(_ items: [Manufactured], beforeCommit: @escaping @Sendable () throws -> Void) async throws {
        guard !items.isEmpty else { return }
        try await database.transaction { db in
            let sql = db.sql
            try await SQLEngine.enlargeSQLiteCache(sql)
            let head = try await AuditLog.lock(sql)
            let existing = Dictionary(uniqueKeysWithValues: try await CardRepository(database: db, clock: clock)
                .cards(ids: items.map(\.card.id)).map { ($0.id, $0) })
            let now = StoredTimestamp.string(clock.now())
            var events: [AuditEvent] = []
            events.reserveCapacity(items.count * 3)
            try await CertificateRepository.insertRows(items.flatMap(\.certificates), on: sql)
            let shipments = items.flatMap(\.shipments)
            for chunk in shipments.chunked(by: 500) {
                try await sql.insert(into: "card_shipments").models(Array(chunk)).run()
            }
            var updatedCards: [CardRecord] = []
            for item in items {
                guard let before = existing[item.card.id] else { throw PersistenceError.notFound("card \(item.card.id)") }
                guard before.version == item.expectedVersion else {
                    throw PersistenceError.versionConflict("card \(item.card.id)", expected: item.expectedVersion, actual: before.version)
                }
                var updated = item.card
                updated.version = before.version + 1
                updated.updatedAt = now
                updatedCards.append(updated)
                events += item.certificates.map { CertificateRepository.issuance($0, actor: item.actor) }
                events.append(AuditEvent(
                    actor: item.actor, action: "card.manufacture", entityType: "card", entityID: updated.id,
                    beforeDigest: before.digest, afterDigest: updated.digest, detail: item.detail))
            }
            // Every row exists (checked above under the lock): the upsert rewrites them, many per statement.
            for chunk in updatedCards.chunked(by: 200) {
                try await sql.insert(into: "cards").models(Array(chunk), nilEncodingStrategy: .asNil)
                    .onConflict(with: ["id"]) { update in
                        CardRecord.CodingKeys.allCases.filter { $0 != .id }.reduce(update) { $0.set(excludedValueOf: $1.rawValue) }
                    }
                    .run()
            }
            try await audit.append(events, after: head, on: sql)
            try beforeCommit()
        }
    }

    /// Stores a new file.
    public func insert(_ card: CardRecord, actor: String, detail: String? = nil) async throws {
        try await insert([(card, [AuditEvent(
            actor: actor, action: "card.order", entityType: "card", entityID: card.id, afterDigest: card.digest,
            detail: detail ?? "\(card.kind) \(card.orderReason) order for \(card.idNat)")])])
    }

    /// Changes a card in one transaction with its audit entry: `change` gets the stored record
    /// (and the transaction, to write what goes with the change: certificates, shipments) and
    /// returns the new record.
    /// - Parameter expectedVersion: when given, the change is refused unless the stored version is this one.
    /// - Throws: `registry.not-found`, `registry.version-conflict`, or what `change` throws (nothing is written then).
    @discardableResult
    public func update(
        id: String, expectedVersion: Int? = nil, actor: String, action: String, detail: String?,
        change: @escaping @Sendable (CardRecord, any Database) async throws -> CardRecord
    ) async throws -> CardRecord {
        try await database.transaction { db in
            let sql = db.sql
            // Taken first so that concurrent changes of the platform are serialised.
            _ = try await AuditLog.lock(sql)
            guard let existing = try await sql.select().columns("*").from("cards").where("id", .equal, id)
                .first(decoding: CardRecord.self) else {
                throw PersistenceError.notFound("card \(id)")
            }
            if let expectedVersion, existing.version != expectedVersion {
                throw PersistenceError.versionConflict("card \(id)", expected: expectedVersion, actual: existing.version)
            }
            var updated = try await change(existing, db)
            updated.id = existing.id
            updated.version = existing.version + 1
            updated.updatedAt = StoredTimestamp.string(clock.now())
            try await sql.update("cards").set(model: updated, nilEncodingStrategy: .asNil).where("id", .equal, id).run()
            // Read again: `change` may have appended entries of its own (certificates).
            let head = try await AuditLog.lock(sql)
            try await audit.append([AuditEvent(
                actor: actor, action: action, entityType: "card", entityID: id, beforeDigest: existing.digest,
                afterDigest: updated.digest, detail: detail)], after: head, on: sql)
            return updated
        }
    }

    /// Records a use of the card (PIN presented, signature...) in the audit log.
    public func recordUse(cardID: String, actor: String, action: String, detail: String?) async throws {
        try await audit.record([AuditEvent(actor: actor, action: action, entityType: "card", entityID: cardID, detail: detail)], on: database)
    }

    /// The audit entries about a card, oldest first.
    public func history(cardID: String) async throws -> [AuditEntry] {
        try await audit.history(entityType: "card", entityID: cardID, on: database)
    }

    // MARK: Documents

    /// Stores a document of a file, with its audit entry.
    public func addDocument(_ document: CardDocument, content: [UInt8], actor: String) async throws {
        try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            try await sql.insert(into: "card_documents")
                .columns("id", "card_id", "kind", "media_type", "byte_count", "sha256", "content", "uploaded_at", "uploaded_by")
                .values(
                    SQLBind(document.id), SQLBind(document.cardID), SQLBind(document.kind), SQLBind(document.mediaType),
                    SQLBind(document.byteCount), SQLBind(document.sha256), SQLBind(Data(content).base64EncodedString()),
                    SQLBind(document.uploadedAt), SQLBind(document.uploadedBy))
                .run()
            try await audit.append([AuditEvent(
                actor: actor, action: "card.document", entityType: "card", entityID: document.cardID,
                afterDigest: document.sha256, detail: "\(document.kind) (\(document.mediaType), \(document.byteCount) bytes)")],
                after: head, on: sql)
        }
    }

    /// The documents of a file (without their content).
    public func documents(cardID: String) async throws -> [CardDocument] {
        try await database.sql.select()
            .columns("id", "card_id", "kind", "media_type", "byte_count", "sha256", "uploaded_at", "uploaded_by")
            .from("card_documents").where("card_id", .equal, cardID).orderBy("uploaded_at").orderBy("id")
            .all(decoding: CardDocument.self)
    }

    /// A document's content.
    public func documentContent(id: String) async throws -> [UInt8]? {
        guard let row = try await database.sql.select().column("content").from("card_documents").where("id", .equal, id).first() else {
            return nil
        }
        return Array(Data(base64Encoded: try row.decode(column: "content", as: String.self)) ?? Data())
    }

    // MARK: Shipments

    /// Stores shipments (inside a card update's transaction).
    public static func insertShipments(_ shipments: [CardShipment], on database: any Database) async throws {
        guard !shipments.isEmpty else { return }
        try await database.sql.insert(into: "card_shipments").models(shipments).run()
    }

    /// The shipments of a card.
    public func shipments(cardID: String) async throws -> [CardShipment] {
        try await database.sql.select().columns("*").from("card_shipments").where("card_id", .equal, cardID)
            .orderBy("kind").all(decoding: CardShipment.self)
    }

    // MARK: Notifications

    /// Puts a notification in the outbox unless one of that kind exists for the card.
    /// - Returns: whether it was added.
    @discardableResult
    public func enqueue(_ notification: CardNotification) async throws -> Bool {
        try await database.transaction { db in
            let sql = db.sql
            let exists = try await sql.select().column("id").from("notifications")
                .where("card_id", .equal, notification.cardID).where("kind", .equal, notification.kind).first() != nil
            guard !exists else { return false }
            try await sql.insert(into: "notifications").model(notification, nilEncodingStrategy: .asNil).run()
            return true
        }
    }

    /// Notifications not sent yet, oldest first.
    public func unsentNotifications(limit: Int = 1_000) async throws -> [CardNotification] {
        try await database.sql.select().columns("*").from("notifications").where("sent_at", .is, SQLLiteral.null)
            .orderBy("created_at").orderBy("id").limit(limit).all(decoding: CardNotification.self)
    }

    /// The notifications about a card.
    public func notifications(cardID: String) async throws -> [CardNotification] {
        try await database.sql.select().columns("*").from("notifications").where("card_id", .equal, cardID)
            .orderBy("created_at").orderBy("kind").all(decoding: CardNotification.self)
    }

    /// Marks a notification sent.
    public func markSent(id: String, at date: Date) async throws {
        try await database.sql.update("notifications").set("sent_at", to: StoredTimestamp.string(date))
            .where("id", .equal, id).run()
    }
}
