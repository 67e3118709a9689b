import FluentKit
import SQLKit

/// Records every card certificate before the CA signs it (as Boulder records a
/// precertificate): a row per serial number, committed on its own before the signature, so
/// that a certificate signed by a process that dies before its card is recorded is still
/// known, answered revoked by OCSP, and put on the CRLs once abandoned.
///
/// A separate table rather than a state of `certificates`: an intent has no DER yet, and the
/// certificates table's readers (a holder's certificates, the API's certificate view) would
/// otherwise meet rows without a certificate. The partial index keeps only abandoned intents,
/// which the CRLs read.
public struct M0013_CertificateIntents: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Creates the table and its index of abandoned intents.
    public func prepare(on database: any Database) async throws {
        let sql = database.sql
        try await sql.raw("""
            CREATE TABLE certificate_intents (
                issuer TEXT NOT NULL,
                serial TEXT NOT NULL,
                profile TEXT NOT NULL,
                id_nat TEXT,
                card_serial TEXT,
                not_after TEXT NOT NULL,
                intended_at TEXT NOT NULL,
                abandoned_at TEXT,
                PRIMARY KEY (issuer, serial)
            )
            """).run()
        try await sql.raw("""
            CREATE INDEX certificate_intents_abandoned ON certificate_intents (issuer, abandoned_at) WHERE abandoned_at IS NOT NULL
            """).run()
        try await sql.raw("CREATE INDEX certificate_intents_card ON certificate_intents (card_serial)").run()
    }

    /// Drops the table.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP TABLE IF EXISTS certificate_intents").run()
    }
}
