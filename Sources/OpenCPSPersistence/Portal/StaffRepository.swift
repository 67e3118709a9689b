import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// One row of `portal_staff`: a person and the role they hold.
public struct StaffAssignment: Sendable, Equatable {
    /// The person.
    public var idNat: IdNat
    /// The role, as the audit log names the actor (`ordre:CNOM`, `ars:84`, `helpdesk`).
    public var role: String
    /// When the role was given (ISO 8601, UTC).
    public var addedAt: String

    /// Creates a row.
    public init(idNat: IdNat, role: String, addedAt: String) {
        self.idNat = idNat
        self.role = role
        self.addedAt = addedAt
    }
}

/// Reads and writes the portal's staff (`portal_staff`), with the audit log in the same
/// transaction.
public struct StaffRepository: Sendable {
    private let database: any Database
    private let clock: any WallClock

    /// Creates the repository on a database (the service's open transaction, if any).
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    private var sql: any SQLDatabase { database.sql }

    /// Gives a person a role; giving it again changes nothing.
    /// - Returns: whether the row is new.
    public func add(idNat: IdNat, role: String, event: AuditEvent) async throws -> Bool {
        try await database.transaction { database in
            let sql = database.sql
            let existing = try await sql.raw("SELECT role FROM portal_staff WHERE id_nat = \(bind: idNat.value) AND role = \(bind: role)").first()
            guard existing == nil else { return false }
            try await sql.raw("""
                INSERT INTO portal_staff (id_nat, role, added_at)
                VALUES (\(bind: idNat.value), \(bind: role), \(bind: StoredTimestamp.string(clock.now())))
                """).run()
            try await AuditLog(clock: clock).record([event], on: database)
            return true
        }
    }

    /// Takes a role from a person.
    /// - Returns: whether there was such a row.
    public func remove(idNat: IdNat, role: String, event: AuditEvent) async throws -> Bool {
        try await database.transaction { database in
            let sql = database.sql
            let existing = try await sql.raw("SELECT role FROM portal_staff WHERE id_nat = \(bind: idNat.value) AND role = \(bind: role)").first()
            guard existing != nil else { return false }
            try await sql.raw("DELETE FROM portal_staff WHERE id_nat = \(bind: idNat.value) AND role = \(bind: role)").run()
            try await AuditLog(clock: clock).record([event], on: database)
            return true
        }
    }

    /// The roles of one person, in the order they were given.
    public func roles(of idNat: IdNat) async throws -> [String] {
        try await sql.raw("SELECT role FROM portal_staff WHERE id_nat = \(bind: idNat.value) ORDER BY added_at, role").all()
            .map { try $0.decode(column: "role", as: String.self) }
    }

    /// Every row, by person then role.
    public func all() async throws -> [StaffAssignment] {
        try await sql.raw("SELECT id_nat, role, added_at FROM portal_staff ORDER BY id_nat, role").all().map { row in
            let text = try row.decode(column: "id_nat", as: String.self)
            guard let idNat = try? IdNat(text) else { throw PersistenceError.corrupt("portal staff", "id_nat \(text)") }
            return StaffAssignment(
                idNat: idNat, role: try row.decode(column: "role", as: String.self), addedAt: try row.decode(column: "added_at", as: String.self))
        }
    }
}
