import ArgumentParser
import FluentKit
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import SQLKit
import Testing
import Vapor

/// Signed checkpoints anchor the audit log outside the database: an attacker with database write
/// access (triggers dropped) who rewrites or truncates the log, hashes and head kept consistent,
/// passes the chain check but not the checkpoints.
@Suite("Audit checkpoints")
struct AuditCheckpointTests {
    /// A log of `count` entries, with a checkpoint after `checkpointAfter` of them and one at the end.
    func fill(_ app: Application, count: Int, checkpointAfter: Int, folder: AuditKeyFolder) async throws -> AuditCheckpoints {
        let log = AuditLog(clock: FixedWallClock(testNow))
        let checkpoints = AuditCheckpoints(folder: folder, clock: FixedWallClock(testNow))
        for index in 1...count {
            try await log.record(
                [AuditEvent(actor: "tester", action: "professional.update", entityType: "professional", entityID: "81000000\(index)")],
                on: app.db)
            if index == checkpointAfter || index == count { try await checkpoints.write(on: app.db) }
        }
        return checkpoints
    }

    /// Drops the append-only triggers, as the database's owner could.
    func dropTriggers(_ app: Application) async throws {
        let sql = app.db as! any SQLDatabase
        if SQLEngine(sql) == .postgres {
            for (trigger, table) in [
                ("audit_log_append_only", "audit_log"), ("audit_log_no_truncate", "audit_log"),
                ("audit_checkpoints_append_only", "audit_checkpoints"), ("audit_checkpoints_no_truncate", "audit_checkpoints"),
            ] {
                try await sql.raw("DROP TRIGGER \(unsafeRaw: trigger) ON \(unsafeRaw: table)").run()
            }
        } else {
            for trigger in ["audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"] {
                try await sql.raw("DROP TRIGGER \(unsafeRaw: trigger)").run()
            }
        }
        // The attacker also removes the checkpoints the database holds.
        try await sql.raw("DELETE FROM audit_checkpoints").run()
    }

    func folder() throws -> AuditKeyFolder {
        AuditKeyFolder(directory: try ExternalTool.temporaryFolder("audit-key").appendingPathComponent("audit"))
    }

    @Test("an intact log passes: every checkpoint signed and its head still in the log; the key file is private")
    func intact() async throws {
        try await withTestApp { app in
            let folder = try folder()
            let checkpoints = try await fill(app, count: 12, checkpointAfter: 5, folder: folder)
            #expect(try await checkpoints.write(on: app.db) == nil, "the head is already checkpointed")
            #expect(try await AuditLogProbe.verify(app.db) == .intact(entries: 12))
            #expect(try await checkpoints.verify(on: app.db) == .intact(checkpoints: 2, lastSeq: 12))
            #expect(try folder.journal().map(\.seq) == [5, 12])
            let mode = try FileManager.default.attributesOfItem(atPath: folder.privateKeyFile.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }

    @Test("an entry rewritten with its successors' hashes and the head recomputed passes the chain, not the checkpoints")
    func rewritten() async throws {
        try await withTestApp { app in
            let checkpoints = try await fill(app, count: 12, checkpointAfter: 5, folder: try folder())
            try await dropTriggers(app)
            let sql = app.db as! any SQLDatabase
            var entries = try await sql.raw("SELECT * FROM audit_log ORDER BY seq").all(decoding: AuditEntry.self)
            var previous = entries[2].previousHash
            for index in 2..<entries.count {
                if index == 2 { entries[index].actor = "someone-else" }
                entries[index].previousHash = previous
                entries[index].hash = AuditChain.hash(of: entries[index])
                previous = entries[index].hash
                try await sql.raw("""
                    UPDATE audit_log SET actor = \(bind: entries[index].actor), previous_hash = \(bind: entries[index].previousHash),
                    hash = \(bind: entries[index].hash) WHERE seq = \(bind: entries[index].seq)
                    """).run()
            }
            try await sql.raw("UPDATE audit_head SET hash = \(bind: previous) WHERE id = 1").run()
            #expect(try await AuditLogProbe.verify(app.db) == .intact(entries: 12), "the unkeyed chain alone cannot tell")
            let result = try await checkpoints.verify(on: app.db)
            #expect(result == .broken(seq: 5, reason: "checkpoint 5 (\(StoredTimestamp.string(testNow))) does not match entry 5: the log was rewritten up to it"))
        }
    }

    @Test("a truncated log with its head moved back fails on the first checkpoint past the cut")
    func truncated() async throws {
        try await withTestApp { app in
            let checkpoints = try await fill(app, count: 12, checkpointAfter: 5, folder: try folder())
            try await dropTriggers(app)
            let sql = app.db as! any SQLDatabase
            try await sql.raw("DELETE FROM audit_log WHERE seq > 8").run()
            try await sql.raw("UPDATE audit_head SET seq = 8, hash = (SELECT hash FROM audit_log WHERE seq = 8) WHERE id = 1").run()
            #expect(try await AuditLogProbe.verify(app.db) == .intact(entries: 8))
            let result = try await checkpoints.verify(on: app.db)
            guard case .broken(let seq, let reason) = result else {
                Issue.record("the truncation went unseen: \(result)")
                return
            }
            #expect(seq == 12)
            #expect(reason.contains("names entry 12, which the log no longer holds"), "\(reason)")
        }
    }

    @Test("emptying the log or its checkpoints is refused (TRUNCATE on PostgreSQL, DELETE on SQLite)")
    func noTruncate() async throws {
        try await withTestApp { app in
            _ = try await fill(app, count: 2, checkpointAfter: 2, folder: try folder())
            let sql = app.db as! any SQLDatabase
            let empty = SQLEngine(sql) == .postgres ? "TRUNCATE" : "DELETE FROM"
            for table in ["audit_log", "audit_checkpoints"] {
                await #expect(throws: (any Error).self) { try await sql.raw("\(unsafeRaw: empty) \(unsafeRaw: table)").run() }
            }
            #expect(try await AuditLogProbe.verify(app.db) == .intact(entries: 2))
        }
    }

    @Test("a checkpoint signed by another key is refused")
    func foreignKey() async throws {
        try await withTestApp { app in
            let checkpoints = try await fill(app, count: 4, checkpointAfter: 2, folder: try folder())
            try await AuditLog(clock: FixedWallClock(testNow)).record(
                [AuditEvent(actor: "intruder", action: "professional.update", entityType: "professional", entityID: "810000000099")], on: app.db)
            try await AuditCheckpoints(folder: try folder(), clock: FixedWallClock(testNow)).write(on: app.db)
            let result = try await checkpoints.verify(on: app.db)
            #expect(result == .broken(seq: 5, reason: "checkpoint 5 (\(StoredTimestamp.string(testNow))) is not signed by the audit key"))
        }
    }

    @Test("openssl checks a checkpoint's signature with the exported public key", TestTools.needs("openssl"))
    func opensslVerifies() async throws {
        try await withTestApp { app in
            let folder = try folder()
            _ = try await fill(app, count: 3, checkpointAfter: 3, folder: folder)
            let checkpoint = try #require(try folder.journal().last)
            let work = try ExternalTool.temporaryFolder("audit-openssl")
            let key = work.appendingPathComponent("audit.pub.pem")
            try folder.publicKeyPEM().write(to: key, atomically: true, encoding: .utf8)
            try checkpoint.signedBytes.write(to: work.appendingPathComponent("checkpoint.txt"))
            try #require(Data(base64Encoded: checkpoint.signature)).write(to: work.appendingPathComponent("checkpoint.sig"))
            let result = try ExternalTool.run("openssl", [
                "dgst", "-sha256", "-verify", key.path, "-signature", work.appendingPathComponent("checkpoint.sig").path,
                work.appendingPathComponent("checkpoint.txt").path,
            ])
            #expect(result.status == 0 && result.output.contains("Verified OK"), "\(result.output)")
        }
    }
}

/// `opencps audit checkpoint`, `key` and `verify` on an SQLite file, as an operator runs them.
@Suite("Audit checkpoint commands", .serialized)
struct AuditCheckpointCommandTests {
    @Test("audit verify passes with its checkpoint, exits 3 with a key that did not sign it, and once the log is emptied behind it")
    func commands() async throws {
        let folder = try ExternalTool.temporaryFolder("audit-cli")
        let data = folder.appendingPathComponent("data").path
        let database = "sqlite:" + folder.appendingPathComponent("cli.sqlite").path
        let file = folder.appendingPathComponent("extraction.txt").path
        try await OpenCPSCommand.run(["registry", "generate", "--count", "20", "--seed", "4", "--output", file])
        try await OpenCPSCommand.run(["registry", "import", file, "--database", database, "--quiet"])
        try await OpenCPSCommand.run(["audit", "checkpoint", "--data", data, "--database", database])
        try await OpenCPSCommand.run(["audit", "key", "--data", data])
        try await OpenCPSCommand.run(["audit", "verify", "--data", data, "--database", database])
        let journal = try AuditKeyFolder(directory: URL(fileURLWithPath: data).appendingPathComponent("audit")).journal()
        #expect(journal.count == 1 && journal[0].seq > 0)

        // Someone else's key does not check the checkpoint.
        let other = AuditKeyFolder(directory: folder.appendingPathComponent("other"))
        try other.publicKeyPEM().write(to: folder.appendingPathComponent("other.pem"), atomically: true, encoding: .utf8)
        await #expect(throws: ExitCode(3)) {
            try await OpenCPSCommand.run([
                "audit", "verify", "--data", data, "--database", database, "--public-key", folder.appendingPathComponent("other.pem").path,
            ])
        }

        // Empty the log behind the triggers' back, reset its head and remove the stored checkpoints.
        let cut = try ExternalTool.run("python3", ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for trigger in ("audit_log_no_delete", "audit_checkpoints_no_delete"):
                db.execute("DROP TRIGGER " + trigger)
            db.execute("DELETE FROM audit_log")
            db.execute("UPDATE audit_head SET seq = 0, hash = ?", ("0" * 64,))
            db.execute("DELETE FROM audit_checkpoints")
            db.commit()
            """, folder.appendingPathComponent("cli.sqlite").path])
        #expect(cut.status == 0, "\(cut.output)")
        await #expect(throws: ExitCode(3)) {
            try await OpenCPSCommand.run(["audit", "verify", "--data", data, "--database", database])
        }
    }
}
