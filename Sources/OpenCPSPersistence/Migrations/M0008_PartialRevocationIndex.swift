import FluentKit
import SQLKit

/// Keeps only revoked (or held) certificates in the index the CRLs are read from. M0003's
/// index on (issuer, revoked_at) took an entry for every certificate issued, nearly all of
/// them with no revocation: a page written by every issuance transaction for entries no
/// query reads. The CRL query (`issuer = ? AND revoked_at IS NOT NULL`) names the index's
/// condition, so SQLite and PostgreSQL both use the partial index for it.
public struct M0008_PartialRevocationIndex: AsyncMigration {
    /// Creates the migration.
    public init() {}

    /// Replaces the index with its partial form.
    public func prepare(on database: any Database) async throws {
        try await database.sql.raw("DROP INDEX IF EXISTS certificates_revoked").run()
        try await database.sql.raw("""
            CREATE INDEX certificates_revoked ON certificates (issuer, revoked_at) WHERE revoked_at IS NOT NULL
            """).run()
    }

    /// Restores M0003's index.
    public func revert(on database: any Database) async throws {
        try await database.sql.raw("DROP INDEX IF EXISTS certificates_revoked").run()
        try await database.sql.raw("CREATE INDEX certificates_revoked ON certificates (issuer, revoked_at)").run()
    }
}
