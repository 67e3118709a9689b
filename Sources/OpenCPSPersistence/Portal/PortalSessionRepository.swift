import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// Reads and writes the portal's sessions (`portal_sessions`).
public struct PortalSessionRepository: Sendable {
    private let database: any Database
    private let audit: AuditLog

    /// Creates the repository on a database (the service's open transaction, if any).
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.audit = AuditLog(clock: clock)
    }

    private var sql: any SQLDatabase { database.sql }

    /// Appends audit events in the running transaction.
    public func record(_ events: [AuditEvent]) async throws {
        let head = try await AuditLog.lock(sql)
        try await audit.append(events, after: head, on: sql)
    }

    /// Stores a new session.
    public func insert(_ session: PortalSession) async throws {
        try await sql.raw("""
            INSERT INTO portal_sessions (id_digest, id_nat, csrf_token, id_token, created_at, last_used_at, expires_at)
            VALUES (\(bind: session.idDigest), \(bind: session.idNat.value), \(bind: session.csrfToken), \(bind: session.idToken),
            \(bind: StoredTimestamp.string(session.createdAt)), \(bind: StoredTimestamp.string(session.lastUsedAt)), \(bind: StoredTimestamp.string(session.expiresAt)))
            """).run()
    }

    /// The session whose identifier has this digest.
    public func session(digest: String) async throws -> PortalSession? {
        guard let row = try await sql.raw("SELECT * FROM portal_sessions WHERE id_digest = \(bind: digest)").first() else { return nil }
        let idNatText = try row.decode(column: "id_nat", as: String.self)
        guard let idNat = try? IdNat(idNatText) else { throw PersistenceError.corrupt("portal session", "id_nat \(idNatText)") }
        return PortalSession(
            idDigest: digest, idNat: idNat, csrfToken: try row.decode(column: "csrf_token", as: String.self),
            idToken: try row.decode(column: "id_token", as: String.self), createdAt: try Self.date(row, "created_at"),
            lastUsedAt: try Self.date(row, "last_used_at"), expiresAt: try Self.date(row, "expires_at"),
            endedAt: try row.decodeNil(column: "ended_at") ? nil : try Self.date(row, "ended_at"))
    }

    /// Records a use (the idle timeout restarts).
    public func touch(digest: String, at now: Date) async throws {
        try await sql.raw("UPDATE portal_sessions SET last_used_at = \(bind: StoredTimestamp.string(now)) WHERE id_digest = \(bind: digest) AND ended_at IS NULL").run()
    }

    /// Ends a session.
    public func end(digest: String, at now: Date) async throws {
        try await sql.raw("UPDATE portal_sessions SET ended_at = \(bind: StoredTimestamp.string(now)) WHERE id_digest = \(bind: digest) AND ended_at IS NULL").run()
    }

    private static func date(_ row: any SQLRow, _ column: String) throws -> Date {
        let value = try row.decode(column: column, as: String.self)
        guard let date = StoredTimestamp.date(value) else { throw PersistenceError.corrupt("portal session \(column)", value) }
        return date
    }
}
