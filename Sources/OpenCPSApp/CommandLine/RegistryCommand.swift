import ArgumentParser
import Fluent
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// `opencps registry ...`: the directory's extraction files.
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "Import or generate directory extraction files.",
        subcommands: [RegistryImportCommand.self, RegistryGenerateCommand.self])
}

/// `opencps registry import FILE`.
struct RegistryImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a PS_LibreAcces_Personne_activite file (pipe-separated, one activity per row).",
        discussion: """
            Good rows are imported; each bad row is reported by line number and reason and the import goes on. \
            Exit status: 0 when every row was imported, 2 when some rows were refused, 1 when the file could not be read.
            """)

    @OptionGroup var options: DataOptions

    @Argument(help: "The extraction file.")
    var file: String

    @Option(name: .long, help: "Write every refused row to this file as well.")
    var errors: String?

    @Option(name: .long, help: "Professionals per transaction.")
    var batchSize = 10_000

    @Flag(name: .long, help: "No progress bar.")
    var quiet = false

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        let reader: ExtractionLineReader
        do {
            reader = try ExtractionLineReader(path: file)
        } catch {
            throw ValidationError(error.reason)
        }
        let started = ContinuousClock.now
        var bar = ProgressBar(enabled: !quiet)
        let report: ImportReport
        do {
            report = try await ApplicationRunner.withDatabase(configuration) { app in
                try await DirectoryImporter(database: app.db, clock: SystemWallClock(), professionalsPerBatch: batchSize)
                    .run(reader: reader, source: URL(fileURLWithPath: file).lastPathComponent, actor: "import:\(NSUserName())") {
                        bar.update($0)
                    }
            }
        } catch let error as ExtractionError {
            bar.finish()
            printError("opencps: \(file): \(error.reason)")
            throw ExitCode(1)
        }
        bar.finish()
        let seconds = (ContinuousClock.now - started).seconds
        for rejected in report.rejected.prefix(50) {
            printError("\(file): \(rejected.message)")
        }
        if report.rejectedCount > 50 {
            printError("\(file): … and \(report.rejectedCount - 50) more refused rows\(errors == nil ? " (use --errors FILE for the full list)" : "")")
        }
        for flagged in report.flagged.prefix(50) {
            printError("\(file): \(flagged.message)")
        }
        if report.flaggedCount > 50 {
            printError("\(file): … and \(report.flaggedCount - 50) more flagged fields\(errors == nil ? " (use --errors FILE for the full list)" : "")")
        }
        if let errors {
            var text = report.rejected.map(\.message).joined(separator: "\n")
            if report.rejectedCount > report.rejected.count {
                text += "\n… \(report.rejectedCount - report.rejected.count) more refused rows not listed"
            }
            if !report.flagged.isEmpty {
                text += (text.isEmpty ? "" : "\n") + report.flagged.map(\.message).joined(separator: "\n")
            }
            if report.flaggedCount > report.flagged.count {
                text += "\n… \(report.flaggedCount - report.flagged.count) more flagged fields not listed"
            }
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: errors))
        }
        let rate = seconds > 0 ? Int(Double(report.rowsRead) / seconds) : report.rowsRead
        print("""
            Imported \(report.rowsImported) of \(report.rowsRead) rows (\(report.professionals) professionals, \
            \(report.structures) structures) in \(String(format: "%.1f", seconds)) s, \(rate) rows/s; \
            \(report.rejectedCount) rows refused, \(report.flaggedCount) fields flagged (rows kept).
            """)
        if report.windows1252Lines > 0 {
            print("\(report.windows1252Lines) lines were not UTF-8 and were read as Windows-1252.")
        }
        if report.rejectedCount > 0 { throw ExitCode(2) }
    }
}

/// `opencps registry generate --count N`.
struct RegistryGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic extraction file (valid identifiers, realistic names) for tests and benchmarks.")

    @Option(name: .long, help: "The number of rows (activities), header excluded.")
    var count: Int

    @Option(name: .long, help: "The seed: the same seed gives the same file.")
    var seed: UInt64 = 1

    @Option(name: [.short, .long], help: "The file to write (default: standard output).")
    var output: String?

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be zero or more") }
    }

    func run() async throws {
        let generator = ExtractionGenerator(seed: seed)
        if let output {
            do {
                try generator.write(rows: count, toFile: output)
            } catch {
                throw ValidationError("cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            let out = FileHandle.standardOutput
            generator.generate(rows: count) { chunk in out.write(Data(chunk)) }
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
