import FluentKit
import Foundation
import SQLKit

/// The revocation version: raised in the transaction of every certificate status change, read
/// before an OCSP status is, and announced to every server on the same PostgreSQL database.
///
/// Raising the version takes the row's lock until commit, so versions are handed out in commit
/// order: a transaction that reads version `v` sees every change numbered `v` or lower. On
/// PostgreSQL the raise also sends a notification (``channel(schema:)``, payload
/// ``RevocationNotice``), which PostgreSQL delivers to every listener when, and only if, the
/// transaction commits.
public struct RevocationVersionRepository: Sendable {
    private let database: any Database

    /// Creates the repository over a database or a transaction.
    public init(database: any Database) {
        self.database = database
    }

    /// The notification channel of a schema: each schema has its own revocation version, so
    /// schemas sharing a database (tests) must not hear each other.
    public static func channel(schema: String) -> String { "opencps_revocations:\(schema)" }

    /// The current version.
    public func current() async throws -> UInt64 {
        guard let row = try await database.sql.raw("SELECT version FROM revocation_version WHERE id = 1").first() else {
            throw PersistenceError(code: "storage.corrupt-row", reason: "the revocation version row is missing")
        }
        return UInt64(try row.decode(column: "version", as: Int64.self))
    }

    /// Raises the version for a status change of `issuer`/`serial`, in the caller's transaction,
    /// and announces it on PostgreSQL (delivered at commit).
    /// - Returns: the new version.
    public func raise(issuer: String, serial: String) async throws -> UInt64 {
        let sql = database.sql
        guard let row = try await sql.raw("UPDATE revocation_version SET version = version + 1 WHERE id = 1 RETURNING version").first() else {
            throw PersistenceError(code: "storage.corrupt-row", reason: "the revocation version row is missing")
        }
        let version = UInt64(try row.decode(column: "version", as: Int64.self))
        if sql.dialect.name == "postgresql" {
            let payload = RevocationNotice(version: version, issuer: issuer, serial: serial).payload
            try await sql.raw("SELECT pg_notify('opencps_revocations:' || current_schema(), \(bind: payload))").run()
        }
        return version
    }
}

/// What a revocation notification says: the version a status change raised, and whose status.
public struct RevocationNotice: Sendable, Equatable {
    /// The version raised.
    public let version: UInt64
    /// The CA's slug.
    public let issuer: String
    /// The certificate's serial number in hexadecimal.
    public let serial: String

    /// Creates a notice.
    public init(version: UInt64, issuer: String, serial: String) {
        self.version = version
        self.issuer = issuer
        self.serial = serial
    }

    /// Reads a notification's payload (`version issuer serial`); nil when it is not one.
    public init?(payload: String) {
        let parts = payload.split(separator: " ")
        guard parts.count == 3, let version = UInt64(parts[0]) else { return nil }
        self.init(version: version, issuer: String(parts[1]), serial: String(parts[2]))
    }

    /// The notification's payload.
    public var payload: String { "\(version) \(issuer) \(serial)" }
}
