import FluentKit
import SQLKit

/// Creates cards (each one an order file first, then a card), their documents, shipments,
/// and the notifications outbox.
public struct M0004_CreateCards: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the tables.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE cards (
                id TEXT PRIMARY KEY,
                id_nat TEXT NOT NULL,
                kind TEXT NOT NULL,
                state TEXT NOT NULL,
                order_mode TEXT NOT NULL,
                order_reason TEXT NOT NULL,
                instance TEXT NOT NULL,
                profession_code TEXT,
                structure_id TEXT,
                express BOOLEAN NOT NULL,
                express_justification TEXT,
                replaces_card_id TEXT,
                rejection_reason TEXT,
                validated_on TEXT,
                due_on TEXT,
                serial TEXT UNIQUE,
                expires_on TEXT,
                certificate_issuer TEXT,
                authentication_certificate TEXT,
                signature_certificate TEXT,
                shipping_address TEXT,
                temporary BOOLEAN NOT NULL,
                content_digest TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                version INTEGER NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX cards_id_nat ON cards (id_nat)").run()
        try await sql.raw("CREATE INDEX cards_state ON cards (state, due_on)").run()
        try await sql.raw("CREATE INDEX cards_expiry ON cards (state, expires_on)").run()
        try await sql.raw("""
            CREATE TABLE card_documents (
                id TEXT PRIMARY KEY,
                card_id TEXT NOT NULL REFERENCES cards (id),
                kind TEXT NOT NULL,
                media_type TEXT NOT NULL,
                byte_count INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                content TEXT NOT NULL,
                uploaded_at TEXT NOT NULL,
                uploaded_by TEXT NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX card_documents_card ON card_documents (card_id)").run()
        try await sql.raw("""
            CREATE TABLE card_shipments (
                tracking_number TEXT PRIMARY KEY,
                card_id TEXT NOT NULL REFERENCES cards (id),
                kind TEXT NOT NULL,
                address TEXT NOT NULL,
                shipped_at TEXT NOT NULL
            )
            """).run()
        try await sql.raw("CREATE INDEX card_shipments_card ON card_shipments (card_id)").run()
        try await sql.raw("""
            CREATE TABLE notifications (
                id TEXT PRIMARY KEY,
                card_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                recipient TEXT NOT NULL,
                message TEXT NOT NULL,
                created_at TEXT NOT NULL,
                sent_at TEXT,
                UNIQUE (card_id, kind)
            )
            """).run()
        try await sql.raw("CREATE INDEX notifications_unsent ON notifications (sent_at)").run()
    }

    /// Drops the tables.
    public func revert(on database: any Database) async throws {
        for table in ["notifications", "card_shipments", "card_documents", "cards"] {
            try await database.sql.raw("DROP TABLE IF EXISTS \(unsafeRaw: table)").run()
        }
    }
}
