import FluentKit
import Foundation
import OpenCPSDomain

/// The two write transactions of a login on an SQLite file, each one job of an
/// ``SQLiteWriter`` with its statements prepared once: the session with its code (and the
/// spent challenge), then the code's spending with the tokens.
///
/// Through SQLiteNIO each statement of a transaction is a round trip between threads, and the
/// write lock is held across all of them: under load, a login's two transactions held it for
/// about 4.5 ms, which capped logins at about 220/s on two cores however many were in flight
/// (docs/benchmarks.md, issue 23). Here a transaction is one job that holds the lock for its
/// statements alone. The SQL path (``OIDCRepository``) stays for PostgreSQL, whose
/// transactions run side by side.
public final class OIDCLoginWriter: Sendable {
    private let writer: SQLiteWriter

    /// The writer of the SQLite file behind `database`; nil when it is not an SQLite file.
    public static func open(for database: any Database) async throws -> OIDCLoginWriter? {
        try await SQLiteWriter.open(for: database).map(OIDCLoginWriter.init)
    }

    private init(writer: SQLiteWriter) {
        self.writer = writer
    }

    /// Opens a login's session: spends its challenge, if any, records `audit`, stores the
    /// session and its first code, in one transaction.
    /// - Returns: false, with nothing written, when the challenge was answered already.
    public func openSession(
        _ session: OIDCSession, code: OIDCAuthorizationCode, spending challenge: OIDCLoginChallenge?, audit: [AuditEvent], at now: Date
    ) async throws -> Bool {
        try await writer.run { connection in
            try connection.transaction {
                if let challenge {
                    let row = OIDCRow.spentChallenge(challenge, at: now)
                    // Nothing is written yet when it was spent: the empty transaction commits.
                    guard try Self.insertReturning(row, on: connection, suffix: " ON CONFLICT (id) DO NOTHING RETURNING id") else { return false }
                }
                try Self.record(audit, at: now, on: connection)
                try Self.insert(.session(session), on: connection)
                try Self.insert(.code(code), on: connection)
                return true
            }
        }
    }

    /// What became of a code's redemption.
    public enum Redemption: Sendable, Equatable {
        /// The tokens are stored.
        case recorded
        /// The code was redeemed already: nothing was written.
        case codeSpent
        /// The session has ended (logout, expiry, idle, or its card or device blocked): nothing
        /// was written.
        case sessionEnded
    }

    /// Redeems a code: spends it, checks under the write lock that its session is still
    /// active, records `audit`, stores the tokens and the session's last use, in one transaction.
    public func redeem(
        codeDigest: String, access: OIDCAccessTokenRecord, refresh: OIDCRefreshToken, audit: [AuditEvent], idleTimeout: TimeInterval, at now: Date
    ) async throws -> Redemption {
        try await writer.run { connection in
            do {
                return try Self.redeem(codeDigest: codeDigest, access: access, refresh: refresh, audit: audit, idleTimeout: idleTimeout, at: now, on: connection)
            } catch is SessionEnded {
                return .sessionEnded
            }
        }
    }

    /// Thrown to roll back a redemption whose session has ended.
    private struct SessionEnded: Error {}

    private static func redeem(
        codeDigest: String, access: OIDCAccessTokenRecord, refresh: OIDCRefreshToken, audit: [AuditEvent], idleTimeout: TimeInterval, at now: Date,
        on connection: SQLiteWriter.Session
    ) throws -> Redemption {
        try connection.transaction {
            let spend = try connection.statement("UPDATE oidc_codes SET used_at = ? WHERE code_digest = ? AND used_at IS NULL RETURNING code_digest")
            try spend.bind(1, StoredTimestamp.string(now))
            try spend.bind(2, codeDigest)
            // Nothing is written yet when it was spent: the empty transaction commits.
            guard try spend.firstRow() != nil else { return .codeSpent }
            let read = try connection.statement("SELECT ended_at, expires_at, last_used_at FROM oidc_sessions WHERE id = ?")
            try read.bind(1, access.sessionID)
            guard let row = try read.firstRow(), row.count == 3,
                  let expiresAt = row[1].flatMap(StoredTimestamp.date), let lastUsedAt = row[2].flatMap(StoredTimestamp.date),
                  OIDCSession.isActive(
                    endedAt: row[0].flatMap(StoredTimestamp.date), expiresAt: expiresAt, lastUsedAt: lastUsedAt, at: now, idleTimeout: idleTimeout)
            else { throw SessionEnded() }
            try Self.record(audit, at: now, on: connection)
            try Self.insert(.accessToken(access), on: connection)
            try Self.insert(.refreshToken(refresh), on: connection)
            let touch = try connection.statement("UPDATE oidc_sessions SET last_used_at = ? WHERE id = ? AND ended_at IS NULL")
            try touch.bind(1, StoredTimestamp.string(now))
            try touch.bind(2, access.sessionID)
            try touch.runToEnd()
            return .recorded
        }
    }

    private static func record(_ events: [AuditEvent], at now: Date, on connection: SQLiteWriter.Session) throws {
        guard !events.isEmpty else { return }
        let head = try AuditLog.lock(connection)
        try AuditLog.append(events, after: head, recordedAt: StoredTimestamp.string(now), on: connection)
    }

    private static func insert(_ row: OIDCRow, on connection: SQLiteWriter.Session) throws {
        try connection.insert([row.values], sql: row.insertSQL)
    }

    private static func insertReturning(_ row: OIDCRow, on connection: SQLiteWriter.Session, suffix: String) throws -> Bool {
        let statement = try connection.statement(row.insertSQL + suffix)
        for (index, value) in row.values.enumerated() { try statement.bind(index + 1, value) }
        return try statement.firstRow() != nil
    }
}
