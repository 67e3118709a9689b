import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import SQLKit
import Testing
import Vapor

/// Issue 21: the role the server runs as cannot rewrite the audit log. The schema's owner
/// migrates and grants (`opencps migrate --grant-to`); the application role, connected with
/// psql as an attacker holding its password would be, is refused every way of changing the log,
/// while the server's own work (migration check, appending, checkpoints) goes on under it.
@Suite("PostgreSQL application role", TestTools.needs("psql"))
struct ApplicationRoleTests {
    /// The application role `.ci/run` creates (LOGIN, password = name).
    static let role = "opencps_app"

    @Test("the application role reads and appends to the audit log but cannot update, delete, truncate it or touch its triggers")
    func applicationRoleCannotRewriteTheLog() async throws {
        guard TestDatabase.isPostgres, let url = TestDatabase.url else {
            // SQLite has no roles: the command says so instead of pretending.
            try await withConfiguredTestApp(clock: FixedWallClock(Date())) { app, _ in
                await #expect(throws: PersistenceError.self) { try await ApplicationRole.grant(to: Self.role, on: app.db) }
            }
            return
        }
        let clock = FixedWallClock(Date())
        try await withConfiguredTestApp(clock: clock) { app, _ in
            let sql = app.db as! any SQLDatabase
            guard try await sql.raw("SELECT 1 AS one FROM pg_roles WHERE rolname = \(bind: Self.role)").first() != nil else {
                if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("the role \(Self.role) is missing: .ci/run creates it") }
                return
            }
            _ = try await DemoData(clock: clock).load(into: app.db)
            let schema = try #require(try await sql.raw("SELECT current_schema() AS name").first()?.decode(column: "name", as: String.self))
            await #expect(throws: PersistenceError.self) { try await ApplicationRole.grant(to: "x; DROP TABLE audit_log", on: app.db) }
            try await ApplicationRole.grant(to: Self.role, on: app.db)
            let entries = try await sql.raw("SELECT count(*) AS n FROM audit_log").first()?.decode(column: "n", as: Int.self) ?? 0
            #expect(entries > 0)

            let components = try #require(URLComponents(string: url))
            func psql(_ statement: String) throws -> ExternalTool.Result {
                var environment = ProcessInfo.processInfo.environment
                environment["PGPASSWORD"] = Self.role
                environment["PGOPTIONS"] = "-c search_path=\(schema)"
                return try ExternalTool.run("psql", [
                    "-h", components.host ?? "127.0.0.1", "-p", "\(components.port ?? 5432)", "-U", Self.role,
                    "-d", String(components.path.dropFirst()), "-v", "ON_ERROR_STOP=1", "-tAc", statement,
                ], environment: environment)
            }
            #expect(try psql("SELECT count(*) FROM audit_log").output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(entries)")
            let refused = [
                "TRUNCATE audit_log", "TRUNCATE audit_checkpoints", "UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log",
                "DELETE FROM audit_checkpoints", "ALTER TABLE audit_log DISABLE TRIGGER ALL", "DROP TRIGGER audit_log_append_only ON audit_log",
                "DROP TABLE audit_log", "UPDATE audit_head SET hash = 'x'; DELETE FROM audit_log", "DELETE FROM _fluent_migrations",
                "CREATE TABLE evil (a int)",
            ]
            for statement in refused {
                let result = try psql(statement)
                #expect(result.status != 0, "\(statement) was allowed")
                #expect(result.output.contains("permission denied") || result.output.contains("must be owner"), "\(statement): \(result.output)")
            }
            #expect(try await sql.raw("SELECT count(*) AS n FROM audit_log").first()?.decode(column: "n", as: Int.self) == entries)

            // The server's own work under the role: the migration check, a checkpoint, a verification.
            var appURL = components
            appURL.user = Self.role
            appURL.password = Self.role
            appURL.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "search_path", value: schema)]
            let data = try ExternalTool.temporaryFolder("app-role")
            defer { try? FileManager.default.removeItem(at: data) }
            let common = ["--data", data.path, "--database", try #require(appURL.string)]
            let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OPENCPS_") }
            let migrated = try ExternalTool.run(ExecutableTests.executable.path, ["migrate"] + common, environment: environment)
            #expect(migrated.status == 0, "\(migrated.output)")
            let checkpoint = try ExternalTool.run(ExecutableTests.executable.path, ["audit", "checkpoint"] + common, environment: environment)
            #expect(checkpoint.status == 0, "\(checkpoint.output)")
            let verified = try ExternalTool.run(ExecutableTests.executable.path, ["audit", "verify"] + common, environment: environment)
            #expect(verified.status == 0, "\(verified.output)")
        }
    }
}
