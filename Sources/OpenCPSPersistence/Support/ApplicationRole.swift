import FluentKit
import Foundation
import SQLKit

/// The PostgreSQL role a server runs as, kept apart from the role that owns the schema (issue 21).
///
/// The owner runs the migrations (`opencps migrate --grant-to <role>`) and keeps the tables,
/// their triggers and their rights: only an owner may drop or disable a trigger, alter a table or
/// grant. The application role gets what serving needs and no more: it reads and writes the
/// tables, but on the audit log and its checkpoints it may only read and append — no `UPDATE`,
/// `DELETE` or `TRUNCATE` privilege, so even without the append-only triggers it cannot rewrite
/// them — and it reads the migration ledger without changing it.
public enum ApplicationRole {
    /// Tables the application appends to and reads, never changes.
    public static let appendOnlyTables = ["audit_log", "audit_checkpoints"]

    /// Grants `role` the application's rights on the current schema's tables and sequences
    /// (run as the owner, after the migrations; run again after each upgrade, since rights on
    /// tables a migration adds are not inherited).
    /// - Throws: ``PersistenceError`` `storage.roles-unsupported` on SQLite,
    ///   `storage.invalid-role` for a name that is not a plain identifier.
    public static func grant(to role: String, on database: any Database) async throws {
        let sql = database.sql
        guard SQLEngine(sql) == .postgres else {
            throw PersistenceError(code: "storage.roles-unsupported", reason: "roles are PostgreSQL's; an SQLite file is protected by its file permissions")
        }
        guard !role.isEmpty, role.count <= 63, role.first.map({ $0.isLetter || $0 == "_" }) == true,
              role.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw PersistenceError(code: "storage.invalid-role", reason: "'\(role)' is not a role name (letters, digits and _, up to 63)")
        }
        guard let schemaRow = try await sql.raw("SELECT current_schema() AS name").first(),
              let schema = try schemaRow.decodeNil(column: "name") ? nil : schemaRow.decode(column: "name", as: String.self)
        else {
            throw PersistenceError(code: "storage.invalid-role", reason: "the connection has no current schema")
        }
        try await database.transaction { database in
            let sql = database.sql
            try await sql.raw("GRANT USAGE ON SCHEMA \(ident: schema) TO \(ident: role)").run()
            try await sql.raw("REVOKE ALL ON ALL TABLES IN SCHEMA \(ident: schema) FROM \(ident: role)").run()
            try await sql.raw("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(ident: schema) TO \(ident: role)").run()
            for table in appendOnlyTables {
                try await sql.raw("REVOKE UPDATE, DELETE ON \(ident: schema).\(ident: table) FROM \(ident: role)").run()
            }
            try await sql.raw("REVOKE INSERT, UPDATE, DELETE ON \(ident: schema).\(ident: "_fluent_migrations") FROM \(ident: role)").run()
            try await sql.raw("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA \(ident: schema) TO \(ident: role)").run()
        }
    }
}
