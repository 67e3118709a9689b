import ArgumentParser
import Fluent
import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import SQLKit

/// `opencps bench ...`: the benchmarks recorded in docs/benchmarks.md.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the platform's speed.",
        subcommands: [BenchRegistryCommand.self, BenchPKIFixturesCommand.self, BenchCardsCommand.self, BenchSignaturesCommand.self,
                      BenchPKCS11Command.self, BenchOIDCCommand.self, BenchFuzzCommand.self, BenchCrashCommand.self,
                      BenchNodesCommand.self])
}

/// `opencps bench registry`: imports N generated rows into a fresh database, then times
/// name-prefix searches over them.
struct BenchRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Import N generated rows into a fresh database (rows/s, peak memory), then time name-prefix searches (p50/p99).",
        discussion: """
            Without --database the run uses a new SQLite file in a temporary folder. With a PostgreSQL URL it \
            creates a schema of its own (bench_<random>) and drops it afterwards.
            """)

    @Option(name: .long, help: "Rows to generate and import.")
    var rows = 1_000_000

    @Option(name: .long, help: "Searches to time.")
    var searches = 2_000

    @Option(name: .long, help: "sqlite:PATH or postgres://... (default: a new SQLite file in a temporary folder).")
    var database: String?

    @Option(name: .long, help: "Professionals per transaction.")
    var batchSize = 10_000

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let databaseURL = database ?? "sqlite:" + folder.appendingPathComponent("bench.sqlite").path
        let location: DatabaseLocation
        do { location = try DatabaseLocation(url: databaseURL) } catch { throw ValidationError(error.description) }
        let configuration = OpenCPSConfiguration(dataDirectory: folder, database: location, logLevel: .warning)

        let file = folder.appendingPathComponent("extraction.txt").path
        try ExtractionGenerator(seed: 42).write(rows: rows, toFile: file)
        let fileSize = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        printError("generated \(rows) rows (\(fileSize / 1_048_576) MiB) in \(file)")

        let schema = location.isPostgres ? "bench_\(UInt32.random(in: 0...UInt32.max))" : nil
        let result = try await ApplicationRunner.withDatabase(configuration, freshPostgresSchema: schema) { app in
            let importer = DirectoryImporter(database: app.db, clock: SystemWallClock(), professionalsPerBatch: batchSize)
            let started = ContinuousClock.now
            let report = try await importer.run(
                reader: try ExtractionLineReader(path: file), source: "bench", actor: "bench")
            let importSeconds = (ContinuousClock.now - started).seconds
            let peak = Self.peakResidentBytes()

            let sql = app.db as! any SQLDatabase
            let keys = try await sql.raw("SELECT name_key FROM professionals ORDER BY id_nat LIMIT 100000")
                .all().map { try $0.decode(column: "name_key", as: String.self) }
            var generator = SplitMix64(seed: 7)
            let registry = RegistryRepository(database: app.db, clock: SystemWallClock())
            var latencies: [Double] = []
            latencies.reserveCapacity(searches)
            for _ in 0..<searches {
                let key = keys[Int(generator.next() % UInt64(keys.count))]
                let prefix = String(key.prefix(Int(generator.next() % 3) + 3))
                let searchStart = ContinuousClock.now
                _ = try await registry.search(ProfessionalSearch(namePrefix: prefix, limit: 20))
                latencies.append((ContinuousClock.now - searchStart).seconds * 1000)
            }
            if let schema {
                try await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
            }
            return (report, importSeconds, peak, latencies.sorted())
        }
        let (report, seconds, peak, sorted) = result
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        print("""
            engine: \(location.isPostgres ? "PostgreSQL" : "SQLite")
            rows: \(report.rowsRead) read, \(report.rowsImported) imported, \(report.rejectedCount) refused; \(report.professionals) professionals, \(report.structures) structures
            import: \(String(format: "%.1f", seconds)) s, \(Int(Double(report.rowsRead) / seconds)) rows/s
            peak memory (RSS): \(peak / 1_048_576) MiB
            name-prefix search (\(sorted.count) searches, limit 20): p50 \(String(format: "%.2f", percentile(0.5))) ms, p90 \(String(format: "%.2f", percentile(0.9))) ms, p99 \(String(format: "%.2f", percentile(0.99))) ms, max \(String(format: "%.2f", sorted.last ?? 0)) ms
            """)
    }

    /// The process's peak resident set size.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
    }
}
