import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// Writes many professionals and structures at once, for the directory import.
///
/// A batch is one transaction: it upserts the professionals (a professional already stored
/// gets the imported identity, exercises and activities; other data is left alone), their
/// exercises and activities, and the structures they name, then appends one audit entry
/// for the batch whose digest covers every row written. Rows are sent as multi-row
/// statements, which is what makes a million-row import take seconds rather than minutes.
public struct RegistryBulkWriter: Sendable {
    private let database: any Database
    private let audit: AuditLog
    private let clock: any WallClock

    /// Creates a writer.
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
        self.audit = AuditLog(clock: clock)
    }

    /// Writes one batch.
    /// - Parameters:
    ///   - professionals: each professional with every exercise and activity of the batch;
    ///     a professional appears at most once.
    ///   - structures: the structures the activities name; an existing structure is kept as is.
    ///   - actor: who runs the import, for the audit log.
    ///   - source: what the batch is, for the audit log (file and line range).
    public func write(professionals: [Professional], structures: [Structure], actor: String, source: String) async throws {
        guard !professionals.isEmpty || !structures.isEmpty else { return }
        let now = StoredTimestamp.string(clock.now())
        var professionalRowsBuilt: [ProfessionalRow] = []
        var exerciseRowsBuilt: [ExerciseRow] = []
        var activityRowsBuilt: [ActivityRow] = []
        professionalRowsBuilt.reserveCapacity(professionals.count)
        for professional in professionals {
            professionalRowsBuilt.append(ProfessionalRow(professional, version: 1, updatedAt: now))
            let rows = RegistryRows(professional)
            exerciseRowsBuilt += rows.exercises
            activityRowsBuilt += rows.activities
        }
        // Rows in key order land next to each other in the B-trees, which halves the page work.
        let professionalRows = professionalRowsBuilt.sorted { $0.id_nat < $1.id_nat }
        let exerciseRows = exerciseRowsBuilt.sorted { ($0.id_nat, $0.profession_code) < ($1.id_nat, $1.profession_code) }
        let activityRows = activityRowsBuilt.sorted { $0.id < $1.id }
        let structureRows = structures.map { StructureRow($0, updatedAt: now) }.sorted { $0.id < $1.id }
        var hasher = SHA256()
        for row in professionalRows { hasher.update(data: Data("\(row.id_nat)|\(row.name_key)\n".utf8)) }
        for row in activityRows { hasher.update(data: Data("\(row.id)|\(row.structure_id ?? "")\n".utf8)) }
        for row in structureRows { hasher.update(data: Data("\(row.id)|\(row.name_key)\n".utf8)) }
        let digest = hasher.finalize().hexString

        try await database.transaction { db in
            let sql = db.sql
            try await SQLEngine.enlargeSQLiteCache(sql)
            if SQLEngine(sql) == .postgres {
                // The tables grow faster than their statistics during an import: left to itself,
                // the planner keeps the sequential scans it chose on empty tables for the
                // per-batch deletes by idNat, and each batch reads every row imported so far.
                try await sql.raw("SET LOCAL enable_seqscan = off").run()
            }
            let head = try await AuditLog.lock(sql)
            let ids = professionalRows.map(\.id_nat)
            // An imported professional's exercises and activities are replaced by the file's.
            for chunk in ids.chunked(by: 500) {
                try await sql.delete(from: "activities").where("id_nat", .in, Array(chunk)).run()
                try await sql.delete(from: "exercises").where("id_nat", .in, Array(chunk)).run()
            }
            try await BulkInsert.run(
                professionalRows.map { row in [row.id_nat, row.id_type, row.civilite, row.last_name, row.first_name, row.name_key, String(row.version), row.updated_at] }, into: "professionals",
                columns: ["id_nat", "id_type", "civilite", "last_name", "first_name", "name_key", "version", "updated_at"],
                integerColumns: ["version"],
                conflict: "(id_nat) DO UPDATE SET civilite = excluded.civilite, last_name = excluded.last_name, first_name = excluded.first_name, name_key = excluded.name_key, version = professionals.version + 1, updated_at = excluded.updated_at",
                on: db)
            try await BulkInsert.run(
                exerciseRows.map { row in [row.id_nat, row.profession_code, row.category_code, row.civilite_exercice, row.savoir_faire_type, row.savoir_faire_code, row.savoir_faire_label, row.ordre, row.registered_on, row.registration_number] }, into: "exercises",
                columns: ["id_nat", "profession_code", "category_code", "civilite_exercice", "savoir_faire_type", "savoir_faire_code", "savoir_faire_label", "ordre", "registered_on", "registration_number"],
                conflict: nil, on: db)
            try await BulkInsert.run(
                activityRows.map { row in [row.id, row.id_nat, row.profession_code, row.mode_code, row.structure_id, row.structure_name, row.sector_code, row.department, row.address_line, row.postal_code, row.city] }, into: "activities",
                columns: ["id", "id_nat", "profession_code", "mode_code", "structure_id", "structure_name", "sector_code", "department", "address_line", "postal_code", "city"],
                conflict: nil, on: db)
            try await BulkInsert.run(
                structureRows.map { row in [row.id, row.kind, row.number, row.name, row.name_key, row.sector_code, row.department, row.address_line, row.postal_code, row.city, row.legal_entity_finess, row.updated_at] }, into: "structures",
                columns: ["id", "kind", "number", "name", "name_key", "sector_code", "department", "address_line", "postal_code", "city", "legal_entity_finess", "updated_at"],
                conflict: "(id) DO NOTHING", on: db)
            try await audit.append(
                [AuditEvent(
                    actor: actor, action: "registry.import", entityType: "import", entityID: source,
                    afterDigest: digest,
                    detail: "\(professionalRows.count) professionals, \(activityRows.count) activities, \(structureRows.count) structures")],
                after: head, on: sql)
        }
    }
}
