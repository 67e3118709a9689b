import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// A row of the file that was not imported, and why.
public struct RejectedRow: Sendable, Equatable {
    /// The line number in the file (the header is line 1).
    public var lineNumber: Int
    /// The column at fault, when one is.
    public var column: String?
    /// The stable code of the refusal.
    public var code: String
    /// Why the row was refused.
    public var reason: String

    /// `line N: column: reason (code)`.
    public var message: String {
        "line \(lineNumber)\(column.map { " (\($0))" } ?? ""): \(reason) [\(code)]"
    }
}

/// A field of an imported row that was kept with a flag (see ``FlaggedField``).
public struct FlaggedRow: Sendable, Equatable {
    /// The line number in the file (the header is line 1).
    public var lineNumber: Int
    /// The field, its value and why it was flagged.
    public var field: FlaggedField

    /// `line N (column): reason [code] — kept as "value"`.
    public var message: String {
        "line \(lineNumber) (\(field.column)): \(field.reason) [\(field.code)]; row imported, field kept as \"\(field.value)\""
    }
}

/// Where an import stands, for a progress display.
public struct ImportProgress: Sendable {
    /// Rows read so far (header excluded).
    public var rowsRead: Int
    /// Rows refused so far.
    public var rowsRejected: Int
    /// Bytes read so far.
    public var bytesRead: Int
    /// The file's size, when known.
    public var totalBytes: Int?
}

/// What an import did.
public struct ImportReport: Sendable {
    /// Rows read (header excluded).
    public var rowsRead = 0
    /// Rows imported.
    public var rowsImported = 0
    /// Professionals written.
    public var professionals = 0
    /// Distinct structures the file names (those already stored are kept as they are).
    public var structures = 0
    /// The first refused rows, in file order (at most ``DirectoryImporter/maximumReportedRejections``).
    public var rejected: [RejectedRow] = []
    /// How many rows were refused in all.
    public var rejectedCount = 0
    /// Lines that were not UTF-8 and were read as Windows-1252.
    public var windows1252Lines = 0
    /// The first flagged fields of imported rows, in file order (at most
    /// ``DirectoryImporter/maximumReportedRejections``): an unknown profession code, an
    /// invalid optional identifier. Their rows are imported.
    public var flagged: [FlaggedRow] = []
    /// How many fields were flagged in all.
    public var flaggedCount = 0
}

/// Imports the directory's public extraction file (`PS_LibreAcces_Personne_activite`):
/// streams it, keeps the good rows, and reports each bad one by line number and reason
/// without stopping. A row whose only faults are an unknown profession code or an invalid
/// optional identifier is imported, and each such field is reported as flagged.
///
/// Rows are grouped into professionals (a person's rows are consecutive in the file) and
/// written in batches, each batch one transaction with one audit entry, so an interrupted
/// import leaves whole batches and never a half-written professional.
public struct DirectoryImporter: Sendable {
    /// How many refused rows a report keeps in full; the rest are only counted.
    public static let maximumReportedRejections = 10_000

    private let database: any Database
    private let clock: any WallClock
    private let professionalsPerBatch: Int

    /// Creates an importer.
    /// - Parameters:
    ///   - database: where to write.
    ///   - clock: the clock for timestamps.
    ///   - professionalsPerBatch: how many professionals each transaction writes.
    public init(database: any Database, clock: any WallClock, professionalsPerBatch: Int = 10_000) {
        self.database = database
        self.clock = clock
        self.professionalsPerBatch = max(1, professionalsPerBatch)
    }

    /// Imports a file.
    /// - Parameters:
    ///   - reader: the file's lines.
    ///   - source: the file's name, for the audit log.
    ///   - actor: who runs the import, for the audit log.
    ///   - progress: called after every batch.
    /// - Returns: what was imported and refused.
    /// - Throws: ``ExtractionError`` when the header is missing or unusable (nothing is imported),
    ///   or a database error (the batches before it stay imported).
    public func run(
        reader: ExtractionLineReader, source: String, actor: String,
        progress: (ImportProgress) -> Void = { _ in }
    ) async throws -> ImportReport {
        // Into an empty registry, the search indexes are built once at the end.
        let firstImport = try await RegistrySecondaryIndexes.dropForFirstImport(on: database)
        do {
            let sqliteWriter = try await SQLiteWriter.open(for: database)
            let report = try await load(
                reader: reader, source: source, actor: actor, firstImport: firstImport, sqliteWriter: sqliteWriter, progress: progress)
            if firstImport { try await RegistrySecondaryIndexes.restore(on: database) }
            return report
        } catch {
            if firstImport { try? await RegistrySecondaryIndexes.restore(on: database) }
            throw error
        }
    }

    private func load(
        reader: ExtractionLineReader, source: String, actor: String, firstImport: Bool, sqliteWriter: SQLiteWriter?,
        progress: (ImportProgress) -> Void
    ) async throws -> ImportReport {
        guard let headerLine = try reader.nextLine() else {
            throw ExtractionError(lineNumber: 1, code: "extraction.empty-file", message: "the file is empty: it has no header line")
        }
        let header = try ExtractionHeader(bytes: headerLine.bytes)
        let parser = ExtractionRow(header: header)
        var report = ImportReport()
        var folder = DirectoryRecordFolder()
        var batch = Batch()
        var batchFirstLine = 2
        // In a first import, the only professionals stored are those this import wrote:
        // a batch replaces the exercises and activities of those alone.
        var written: Set<String> = []

        // Three stages: while a batch is written, the next one's rows are built, sorted and
        // encoded in a task of their own, and the one after is parsed. The writer picks batches
        // up one at a time, in order; `taken` says when it has picked one up.
        let (batches, batchSink) = AsyncStream<Task<RegistryBulkWriter.PreparedBatch, Never>>.makeStream()
        let (taken, takenSink) = AsyncStream<Void>.makeStream()
        let writer = Task { [database, clock] in
            defer { takenSink.finish() }
            @Sendable func consume(_ db: any Database) async throws {
                let writer = RegistryBulkWriter(
                    database: db, sqliteWriter: sqliteWriter, clock: clock, sqliteCacheMegabytes: firstImport ? 256 : 128)
                for await preparing in batches {
                    takenSink.yield()
                    try await writer.write(await preparing.value, actor: actor)
                }
                // The parser failed: a first import must leave nothing behind.
                try Task.checkCancellation()
            }
            if firstImport {
                // One transaction: each page of the keys' B-trees is written once, at the commit,
                // rather than once per batch, and the import is all or nothing.
                try await RegistryBulkWriter.inFirstImportTransaction(on: database, writer: sqliteWriter) { db in try await consume(db) }
            } else {
                try await consume(database)
            }
        }
        let preparer = RegistryBulkWriter(database: database, clock: clock)
        var takenIterator = taken.makeAsyncIterator()
        var handedOver = false
        /// Waits until the writer has picked up the batch handed over last; false when it stopped.
        func writerIsReady() async -> Bool {
            guard handedOver else { return true }
            handedOver = false
            guard await takenIterator.next() != nil else { return false }
            progress(ImportProgress(
                rowsRead: report.rowsRead, rowsRejected: report.rejectedCount,
                bytesRead: reader.bytesConsumed, totalBytes: reader.totalBytes))
            return true
        }

        func flush(lastLine: Int) async throws {
            // A structure is written once per import, with the first row that names it.
            let structures = folder.takeStructures()
            guard !batch.professionals.isEmpty || !structures.isEmpty else { return }
            let professionals = batch.professionals
            var stored: Set<String>?
            if firstImport {
                var again: Set<String> = []
                for professional in professionals where !written.insert(professional.idNat.value).inserted {
                    again.insert(professional.idNat.value)
                }
                stored = again
            }
            let label = "\(source):\(batchFirstLine)-\(lastLine)"
            report.professionals += professionals.count
            report.structures += structures.count
            report.rowsImported += batch.rows
            batch = Batch()
            batchFirstLine = lastLine + 1
            let preparing = Task { [stored] in
                preparer.prepare(professionals: professionals, structures: structures, alreadyStored: stored, source: label)
            }
            guard await writerIsReady() else { throw WriterStopped() }
            batchSink.yield(preparing)
            handedOver = true
        }

        func parse() async throws {
            var lastLine = 1
            // Good rows read for the person not yet complete.
            var pendingRows = 0
            while let line = try reader.nextLine() {
                lastLine = line.number
                if line.bytes.isEmpty { continue }
                report.rowsRead += 1
                let record: DirectoryActivityRecord
                do {
                    record = try parser.record(from: line)
                } catch {
                    report.rejectedCount += 1
                    if report.rejected.count < Self.maximumReportedRejections {
                        report.rejected.append(RejectedRow(
                            lineNumber: line.number, column: error.column, code: error.causeCode ?? error.code, reason: error.reason))
                    }
                    continue
                }
                for flag in record.flags {
                    report.flaggedCount += 1
                    if report.flagged.count < Self.maximumReportedRejections {
                        report.flagged.append(FlaggedRow(lineNumber: line.number, field: flag))
                    }
                }
                if let finished = folder.add(record) {
                    batch.add(finished, rows: pendingRows)
                    pendingRows = 0
                    if batch.professionals.count >= professionalsPerBatch {
                        // The row just read belongs to the next person: it goes in the next batch.
                        try await flush(lastLine: line.number - 1)
                    }
                }
                pendingRows += 1
            }
            if let last = folder.finish() { batch.add(last, rows: pendingRows) }
            try await flush(lastLine: lastLine)
        }

        do {
            try await parse()
            batchSink.finish()
            _ = await writerIsReady()
            try await writer.value
        } catch {
            writer.cancel()
            batchSink.finish()
            if error is WriterStopped {
                // The writer's own error says what went wrong.
                try await writer.value
            } else {
                _ = try? await writer.value
            }
            throw error
        }
        report.windows1252Lines = reader.windows1252LineCount
        return report
    }

    /// Thrown by the parser when the writer has stopped; the writer's error is the one reported.
    private struct WriterStopped: Error {}

    /// The professionals of one transaction; a person seen twice in it is merged.
    private struct Batch {
        var professionals: [Professional] = []
        var index: [IdNat: Int] = [:]
        /// Good rows of the professionals in this batch.
        var rows = 0

        mutating func add(_ professional: Professional, rows personRows: Int) {
            rows += personRows
            if let existing = index[professional.idNat] {
                for exercise in professional.exercises {
                    if let same = professionals[existing].exercises.firstIndex(where: { $0.profession == exercise.profession }) {
                        for activity in exercise.activities where !professionals[existing].exercises[same].activities.contains(activity) {
                            professionals[existing].exercises[same].activities.append(activity)
                        }
                    } else {
                        professionals[existing].exercises.append(exercise)
                    }
                }
            } else {
                index[professional.idNat] = professionals.count
                professionals.append(professional)
            }
        }
    }
}
