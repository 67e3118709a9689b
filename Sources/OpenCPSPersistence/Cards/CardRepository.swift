import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

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
    public func card(id: String) async throws -> Card? {
        try await database.sql.select().columns("*").from("cards").where("id", .equal, id)
            .first(decoding: CardRecord.self)?.card()
    }

    /// The card with this serial.
    public func card(serial: CardSerial) async throws -> Card? {
        try await database.sql.select().columns("*").from("cards").where("serial", .equal, serial.value)
            .first(decoding: CardRecord.self)?.card()
    }

    /// A holder's cards, newest first.
    public func cards(holder: IdNat) async throws -> [Card] {
        try await database.sql.select().columns("*").from("cards").where("id_nat", .equal, holder.value)
            .orderBy("created_at", .descending).orderBy("id").all(decoding: CardRecord.self).map { try $0.card() }
    }

    /// Cards in some states, oldest first, at most `limit`.
    public func cards(states: [CardState], limit: Int = 1_000, after: String? = nil) async throws -> [Card] {
        let query = database.sql.select().columns("*").from("cards").where("state", .in, states.map(\.rawValue))
        if let after { query.where("id", .greaterThan, after) }
        return try await query.orderBy("id").limit(limit).all(decoding: CardRecord.self).map { try $0.card() }
    }

    /// Cards made and not ended (shipped, delivered, active, suspended) whose validity ends on
    /// or before a day, in order of expiry, then id.
    /// - Parameter after: the last card of the previous page.
    public func cardsExpiring(onOrBefore day: CivilDate, limit: Int = 1_000, after: Card? = nil) async throws -> [Card] {
        let sql = database.sql
        // Pages walk the (expires_on, id) index, so that each page costs its own rows; left to
        // itself, SQLite's planner takes the state index and sorts every remaining card per page.
        let hint: SQLQueryString = SQLEngine(sql) == .sqlite ? " INDEXED BY cards_expiry_order" : ""
        let issued = CardState.allCases.filter(\.isIssued).map(\.rawValue)
        var query: SQLQueryString = "SELECT * FROM cards"
        query += hint
        query += " WHERE state IN (\(binds: issued)) AND expires_on <= \(bind: day.description)"
        if let after, let expiresOn = after.manufacture?.expiresOn {
            query += " AND (expires_on, id) > (\(bind: expiresOn.description), \(bind: after.id))"
        }
        query += " ORDER BY expires_on, id LIMIT \(literal: limit)"
        return try await sql.raw(query).all(decoding: CardRecord.self).map { try $0.card() }
    }

    /// The cards with these identifiers, in no particular order (unknown ones are left out).
    public func cards(ids: [String]) async throws -> [Card] {
        try await records(ids: ids).map { try $0.card() }
    }

    private func records(ids: [String], on sql: (any SQLDatabase)? = nil) async throws -> [CardRecord] {
        var found: [CardRecord] = []
        for chunk in ids.chunked(by: 500) {
            found += try await (sql ?? database.sql).select().columns("*").from("cards").where("id", .in, Array(chunk))
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

    /// The digest of a card as the audit log records it (before and after each change).
    public static func digest(of card: Card) -> String {
        CardRecord(card).digest
    }

    /// Stores new files in one transaction, each with its audit events: its order, then the
    /// transitions it went through when it was created (a renewal validated at once).
    /// Either every file is stored or none is.
    public func insert(_ files: [(card: Card, events: [AuditEvent])]) async throws {
        guard !files.isEmpty else { return }
        try await database.transaction { db in
            let sql = db.sql
            try await SQLEngine.enlargeSQLiteCache(sql)
            let head = try await AuditLog.lock(sql)
            for chunk in files.chunked(by: 200) {
                try await sql.insert(into: "cards").models(chunk.map { CardRecord($0.card) }, nilEncodingStrategy: .asNil).run()
            }
            try await audit.append(files.flatMap(\.events), after: head, on: sql)
        }
    }

    /// A manufactured card, as recorded: the new record and what goes with it.
    public struct Manufactured: Sendable {
        /// The card after manufacture (shipped, with its serial and certificates).
        public var card: Card
        /// The version the card had when manufacture began: it is recorded only if unchanged.
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
        public init(card: Card, expectedVersion: Int, certificates: [StoredCertificate], shipments: [CardShipment], actor: String, detail: String) {
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
    /// - Returns: the cards as stored.
    /// - Throws: `registry.not-found`, `registry.version-conflict` when a card changed since
    ///   manufacture began, or what `beforeCommit` throws.
    @discardableResult
    public func recordManufactured(_ items: [Manufactured], beforeCommit: @escaping @Sendable () throws -> Void) async throws -> [Card] {
        guard !items.isEmpty else { return [] }
        return try await database.transaction { db in
            let sql = db.sql
            try await SQLEngine.enlargeSQLiteCache(sql)
            let head = try await AuditLog.lock(sql)
            let existing = Dictionary(uniqueKeysWithValues: try await records(ids: items.map(\.card.id), on: sql).map { ($0.id, $0) })
            let now = StoredTimestamp.string(clock.now())
            var events: [AuditEvent] = []
            events.reserveCapacity(items.count * 3)
            try await CertificateIntentRepository.refuseAbandoned(items.flatMap(\.certificates), on: sql)
            try await CertificateRepository.insertRows(items.flatMap(\.certificates), on: sql)
            let shipments = items.flatMap(\.shipments)
            for chunk in shipments.chunked(by: 500) {
                try await sql.insert(into: "card_shipments").models(Array(chunk)).run()
            }
            var updatedRows: [CardRecord] = []
            for item in items {
                guard let before = existing[item.card.id] else { throw PersistenceError.notFound("card \(item.card.id)") }
                guard before.version == item.expectedVersion else {
                    throw PersistenceError.versionConflict("card \(item.card.id)", expected: item.expectedVersion, actual: before.version)
                }
                var updated = before.rewriting(item.card)
                updated.version = before.version + 1
                updated.updatedAt = now
                updatedRows.append(updated)
                events += item.certificates.map { CertificateRepository.issuance($0, actor: item.actor) }
                events.append(AuditEvent(
                    actor: item.actor, action: "card.manufacture", entityType: "card", entityID: updated.id,
                    beforeDigest: before.digest, afterDigest: updated.digest, detail: item.detail))
            }
            // Every row exists (checked above under the lock): the upsert rewrites them, many per statement.
            for chunk in updatedRows.chunked(by: 200) {
                try await sql.insert(into: "cards").models(Array(chunk), nilEncodingStrategy: .asNil)
                    .onConflict(with: ["id"]) { update in
                        CardRecord.CodingKeys.allCases.filter { $0 != .id }.reduce(update) { $0.set(excludedValueOf: $1.rawValue) }
                    }
                    .run()
            }
            try await audit.append(events, after: head, on: sql)
            try beforeCommit()
            return try updatedRows.map { try $0.card() }
        }
    }

    /// Stores a new file.
    public func insert(_ card: Card, actor: String, detail: String? = nil) async throws {
        try await insert([(card, [AuditEvent(
            actor: actor, action: "card.order", entityType: "card", entityID: card.id, afterDigest: Self.digest(of: card),
            detail: detail ?? "\(card.kind.code) \(card.order.reason.rawValue) order for \(card.holder.value)")])])
    }

    /// Changes a card in one transaction with its audit entry: `change` gets the stored card
    /// (and the transaction, to write what goes with the change: certificates, shipments) and
    /// returns the new card.
    /// - Parameter expectedVersion: when given, the change is refused unless the stored version is this one.
    /// - Throws: `registry.not-found`, `registry.version-conflict`, or what `change` throws (nothing is written then).
    @discardableResult
    public func update(
        id: String, expectedVersion: Int? = nil, actor: String, action: String, detail: String?,
        change: @escaping @Sendable (Card, any Database) async throws -> Card
    ) async throws -> Card {
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
            var updated = existing.rewriting(try await change(try existing.card(), db))
            updated.version = existing.version + 1
            updated.updatedAt = StoredTimestamp.string(clock.now())
            try await sql.update("cards").set(model: updated, nilEncodingStrategy: .asNil).where("id", .equal, id).run()
            // Read again: `change` may have appended entries of its own (certificates).
            let head = try await AuditLog.lock(sql)
            try await audit.append([AuditEvent(
                actor: actor, action: action, entityType: "card", entityID: id, beforeDigest: existing.digest,
                afterDigest: updated.digest, detail: detail)], after: head, on: sql)
            return try updated.card()
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
