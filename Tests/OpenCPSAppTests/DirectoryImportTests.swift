import FluentKit
import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSPersistence
import SQLKit
import Testing

@Suite("Directory import")
struct DirectoryImportTests {
    /// A generated file with malformed rows put in at known lines (an unknown profession
    /// code is not one: such a row is kept and flagged, see DirectoryFidelityTests).
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
        return (Array(lines.joined(separator: "\n").utf8), bad)
    }

    @Test("good rows are imported, bad rows are reported by line number and reason, and the import goes on")
    func importWithBadRows() async throws {
        try await withTestApp { app in
            let (bytes, badLines) = fileWithBadRows()
            let report = try await DirectoryImporter(database: app.db, clock: FixedWallClock(testNow), professionalsPerBatch: 40)
                .run(reader: ExtractionLineReader(bytes: bytes), source: "test.txt", actor: "test")
            #expect(report.rowsRead == 400)
            #expect(report.rejectedCount == 2)
            #expect(report.rowsImported == 398)
            #expect(report.rejected.map(\.lineNumber) == badLines.keys.sorted())
            for rejected in report.rejected {
                #expect(!rejected.reason.isEmpty)
            }
            #expect(report.rejected[0].reason.contains("Luhn") || report.rejected[0].code.contains("check-digit"), "\(report.rejected[0])")

            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            let counts = try await registry.counts()
            #expect(counts.professionals == report.professionals)
            #expect(counts.activities == 398)
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
            // The foreign keys PostgreSQL's first import dropped are back, and SQLite checks them again.
            if TestDatabase.isPostgres {
                let keys = Set(try await sql.raw("""
                    SELECT c.conname AS name FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                    WHERE n.nspname = current_schema() AND c.contype = 'f'
                    """).all().map { try $0.decode(column: "name", as: String.self) })
                #expect(keys.isSuperset(of: ["exercises_id_nat_fkey", "activities_id_nat_fkey"]))
            } else {
                let enabled = try #require(try await sql.raw("PRAGMA foreign_keys").first()).decode(column: "foreign_keys", as: Int.self)
                #expect(enabled == 1)
            }
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

    /// The digest a batch's audit entry records: SHA-256 of a line per professional (idNat, name
    /// key), activity (id, structure) and structure (id, name key). Computed by the implementation
    /// of commit 4e25a4b, which hashed each string on its own: the batch's rows, over several
    /// 64 KiB chunks of lines, must still give it. Since issue 26 the batch also holds the 402
    /// legal entities its sites name (2,370 sites + 402): the digest and count were taken
    /// again then, from the same chunked implementation.
    @Test("a batch's audit entry keeps its known digest")
    func batchDigestKnownAnswer() async throws {
        try await withTestApp { app in
            let bytes = ExtractionGenerator(seed: 7).bytes(rows: 5_000)
            let importer = DirectoryImporter(database: app.db, clock: FixedWallClock(testNow))
            let report = try await importer.run(reader: ExtractionLineReader(bytes: bytes), source: "g.txt", actor: "test")
            #expect(report.rowsImported == 5_000)
            let sql = try #require(app.db as? any SQLDatabase)
            let rows = try await sql.raw("SELECT entity_id, after_digest, detail FROM audit_log WHERE action = 'registry.import'").all()
            #expect(rows.count == 1)
            let entry = try #require(rows.first)
            #expect(try entry.decode(column: "entity_id", as: String.self) == "g.txt:2-5001")
            let detail = try entry.decode(column: "detail", as: String.self)
            let digest = try entry.decode(column: "after_digest", as: String.self)
            #expect(detail == "3621 professionals, 5000 activities, 2772 structures")
            #expect(digest == "befa251857a26e663cb0b800a73239bbd9b60cbf2d993772bc9be33354faf6d7")
        }
    }

    /// Small batches write each row with a statement of its own; a batch of the whole file
    /// writes most rows with the writer's statements of many rows.
    @Test("what is stored reads back as the file gives it: accents, tabs and backslashes, empty and absent values",
          arguments: [7, 1_000])
    func storedAsTheFileGivesIt(professionalsPerBatch: Int) async throws {
        try await withTestApp { app in
            var lines = String(decoding: ExtractionGenerator(seed: 5).bytes(rows: 150), as: UTF8.self)
                .split(separator: "\n").map(String.init)
            let header = lines[0].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            struct NoSuchColumn: Error { let name: String }
            func column(_ name: String) throws -> Int {
                guard let index = header.firstIndex(of: name) else { throw NoSuchColumn(name: name) }
                return index
            }
            func edit(_ line: Int, _ column: Int, _ value: String) {
                var fields = lines[line].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                fields[column] = value
                lines[line] = fields.joined(separator: "|")
            }
            // Text that COPY's format escapes, text SQLite must keep apart from NULL, and accents.
            edit(3, try column("Prénom d'exercice"), "")
            edit(7, try column("Nom d'exercice"), "LÉVÊQUE-D'ARC")
            edit(12, try column("Libellé Voie (coord. structure)"), "DES\tTABS ET \\ BARRES")
            edit(20, try column("Libellé savoir-faire"), "")
            let bytes = Array(lines.joined(separator: "\n").utf8)

            // What the file says, folded by the domain alone.
            let reader = ExtractionLineReader(bytes: bytes)
            let parser = ExtractionRow(header: try ExtractionHeader(bytes: try #require(try reader.nextLine()).bytes))
            var folder = DirectoryRecordFolder()
            var expected: [Professional] = []
            while let line = try reader.nextLine() {
                if let finished = folder.add(try parser.record(from: line)) { expected.append(finished) }
            }
            let last = folder.finish()
            expected.append(try #require(last))
            let expectedStructures = folder.takeStructures()

            let report = try await DirectoryImporter(
                database: app.db, clock: FixedWallClock(testNow), professionalsPerBatch: professionalsPerBatch
            ).run(reader: ExtractionLineReader(bytes: bytes), source: "edited", actor: "test")
            #expect(report.rejectedCount == 0)
            #expect(report.structures == expectedStructures.count)
            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            /// A professional with its exercises and activities in no particular order.
            func unordered(_ professional: Professional) -> [AnyHashable] {
                let exercises = Set(professional.exercises.map { exercise in
                    var bare = exercise
                    bare.activities = []
                    return bare
                })
                return [professional.idNat, professional.civilite, professional.lastName, professional.firstName,
                        exercises, Set(professional.exercises.flatMap(\.activities))]
            }
            var byIdNat: [IdNat: Professional] = [:]
            for professional in expected {
                // A person whose rows are apart in the file keeps the later rows' exercises.
                byIdNat[professional.idNat] = professional
            }
            for professional in byIdNat.values {
                let stored = try #require(try await registry.professional(professional.idNat))
                #expect(unordered(stored.professional) == unordered(professional))
            }
            #expect(byIdNat.values.contains { $0.firstName.isEmpty })
            #expect(byIdNat.values.contains { $0.lastName == "LÉVÊQUE-D'ARC" })
            for structure in expectedStructures {
                #expect(try await registry.structure(id: structure.identifier.idNatStruct) == structure)
            }
            #expect(expectedStructures.contains { $0.address?.line?.contains("DES\tTABS ET \\ BARRES") == true })
        }
    }

    @Test("in a first import, a person whose rows are apart keeps the rows of the later batch, once")
    func personSplitAcrossBatches() async throws {
        try await withTestApp { app in
            var lines = String(decoding: ExtractionGenerator(seed: 11).bytes(rows: 60), as: UTF8.self)
                .split(separator: "\n").map(String.init)
            // The person of the first row appears again at the end of the file, with another profession.
            var fields = lines[1].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let idNat = fields[2]
            fields[9] = fields[9] == "10" ? "60" : "10"
            lines.append(fields.joined(separator: "|"))
            let report = try await DirectoryImporter(database: app.db, clock: FixedWallClock(testNow), professionalsPerBatch: 5)
                .run(reader: ExtractionLineReader(bytes: Array(lines.joined(separator: "\n").utf8)), source: "split", actor: "test")
            #expect(report.rejectedCount == 0)
            let registry = RegistryRepository(database: app.db, clock: FixedWallClock(testNow))
            let stored = try #require(try await registry.professional(try IdNat(idNat)))
            // The later batch replaced the earlier one's exercises: one exercise, the new profession.
            #expect(stored.professional.exercises.map(\.profession.code) == [fields[9]])
            #expect(stored.version == 2)
            let sql = try #require(app.db as? any SQLDatabase)
            let rows = try await sql.raw("SELECT COUNT(*) AS n FROM professionals WHERE id_nat = \(bind: idNat)").first()?.decode(column: "n", as: Int.self)
            #expect(rows == 1)
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
