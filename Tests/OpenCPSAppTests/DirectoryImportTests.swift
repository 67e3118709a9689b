import FluentKit
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import SQLKit
import Testing

@Suite("Directory import")
struct DirectoryImportTests {
    /// A generated file with malformed rows put in at known lines.
    func fileWithBadRows() -> (bytes: [UInt8], badLines: [Int: String]) {
        var lines = String(decoding: ExtractionGenerator(seed: 99).bytes(rows: 400), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var bad: [Int: String] = [:]
        func fields(_ line: String) -> [String] { line.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        // Line numbers count the header as line 1, so lines[i] is line i + 1.
        var row = fields(lines[10]); row[1] = "10000000008"; row[2] = "810000000008"; lines[10] = row.joined(separator: "|")
        bad[11] = "check-digit"
        lines[50] = "8|truncated|row"
        bad[51] = "columns"
        row = fields(lines[120]); row[9] = "99"; lines[120] = row.joined(separator: "|")
        bad[121] = "profession"
        return (Array(lines.joined(separator: "\n").utf8), bad)
    }

    @Test("good rows are imported, bad rows are reported by line number and reason, and the import goes on")
    func importWithBadRows() async throws {
        try await withTestApp { app in
            let (bytes, badLines) = fileWithBadRows()
            let report = try await DirectoryImporter(database: app.db, clock: FixedWallClock(testNow), professionalsPerBatch: 40)
                .run(reader: ExtractionLineReader(bytes: bytes), source: "test.txt", actor: "test")
            #expect(report.rowsRead == 400)
            #expect(report.rejectedCount == 3)
            #expect(report.rowsImported == 397)
            #expect(report.rejected.map(\.lineNumber) == badLines.keys.sorted())
            for rejected in report.rejected {
                #expect(!rejected.reason.isEmpty)
            }
            #expect(report.rejected[0].reason.contains("Luhn") || report.rejected[0].code.contains("check-digit"), "\(report.rejected[0])")

            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            let counts = try await registry.counts()
            #expect(counts.professionals == report.professionals)
            #expect(counts.activities == 397)
            #expect(counts.structures == report.structures)
            // Every batch is one audit entry, and the chain holds.
            let verification = try await AuditLog(clock: FixedWallClock(testNow)).verify(on: app.db)
            guard case .intact(let entries) = verification else {
                Issue.record("the audit chain is broken: \(verification)")
                return
            }
            #expect(entries >= 2)
            // The registry was empty: its search indexes were dropped for the load and are back.
            let sql = try #require(app.db as? any SQLDatabase)
            let indexQuery: SQLQueryString = TestDatabase.isPostgres
                ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
                : "SELECT name FROM sqlite_master WHERE type = 'index'"
            let indexes = Set(try await sql.raw(indexQuery).all().map { try $0.decode(column: "name", as: String.self) })
            #expect(indexes.isSuperset(of: ["professionals_name_key", "activities_structure", "activities_department", "structures_name_key", "activities_id_nat"]))
            let name = try #require(try await sql.raw("SELECT last_name FROM professionals LIMIT 1").first()).decode(column: "last_name", as: String.self)
            #expect(!(try await registry.search(ProfessionalSearch(namePrefix: String(name.prefix(3))))).items.isEmpty)
        }
    }

    @Test("importing the same file twice leaves the same registry, not duplicates")
    func reimport() async throws {
        try await withTestApp { app in
            let bytes = ExtractionGenerator(seed: 5).bytes(rows: 120)
            let importer = DirectoryImporter(database: app.db, clock: FixedWallClock(testNow), professionalsPerBatch: 25)
            let first = try await importer.run(reader: ExtractionLineReader(bytes: bytes), source: "a", actor: "test")
            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            let before = try await registry.counts()
            let second = try await importer.run(reader: ExtractionLineReader(bytes: bytes), source: "a", actor: "test")
            let after = try await registry.counts()
            #expect(first.rowsImported == 120 && second.rowsImported == 120)
            #expect(before.professionals == after.professionals)
            #expect(before.activities == after.activities)
            #expect(before.structures == after.structures)
        }
    }

    @Test("a file without a usable header is refused whole")
    func badHeader() async throws {
        try await withTestApp { app in
            let importer = DirectoryImporter(database: app.db, clock: FixedWallClock(testNow))
            await #expect(throws: ExtractionError.self) {
                try await importer.run(reader: ExtractionLineReader(bytes: Array("a|b|c|\n1|2|3|\n".utf8)), source: "x", actor: "test")
            }
            await #expect(throws: ExtractionError.self) {
                try await importer.run(reader: ExtractionLineReader(bytes: []), source: "x", actor: "test")
            }
        }
    }
}
