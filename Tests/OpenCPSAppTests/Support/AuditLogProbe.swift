import OpenCPSDomain
import FluentKit
import Foundation
import OpenCPSPersistence
import SQLKit

typealias FixedWallClockAlias = FixedWallClock

/// Tampers with the audit log the way someone with database access could, for the tests.
enum AuditLogProbe {
    static func verify(_ database: any Database) async throws -> AuditVerification {
        try await AuditLog(clock: SystemWallClock()).verify(on: database)
    }

    static func tamper(_ database: any Database, seq: Int) async throws {
        let sql = database as! any SQLDatabase
        if SQLEngine(sql) == .postgres {
            try await sql.raw("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").run()
        } else {
            try await sql.raw("DROP TRIGGER audit_log_no_update").run()
        }
        try await sql.raw("UPDATE audit_log SET actor = 'someone-else' WHERE seq = \(bind: seq)").run()
    }

    static func rawUpdate(_ database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run()
    }

    static func rawDelete(_ database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DELETE FROM audit_log WHERE seq = 1").run()
    }
}
