import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// Reads and writes the registry; every change is one transaction with its audit entry.
public struct RegistryRepository: Sendable {
    let database: any Database
    private let audit: AuditLog
    private let clock: any WallClock

    /// Creates the repository.
    /// - Parameters:
    ///   - database: where the registry lives.
    ///   - clock: the clock for timestamps.
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
        self.audit = AuditLog(clock: clock)
    }

    // MARK: Professionals

    /// Stores a new professional.
    /// - Throws: ``PersistenceError/duplicate(_:)`` when the idNat is taken.
    @discardableResult
    public func create(_ professional: Professional, actor: String) async throws -> StoredProfessional {
        let now = StoredTimestamp.string(clock.now())
        try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            if try await Self.professionalRow(professional.idNat.value, on: sql) != nil {
                throw PersistenceError.duplicate("professional \(professional.idNat)")
            }
            try await Self.insert(professional, version: 1, updatedAt: now, on: sql)
            try await audit.append(
                [AuditEvent(
                    actor: actor, action: "professional.create", entityType: "professional",
                    entityID: professional.idNat.value, afterDigest: RegistryDigest.of(professional))],
                after: head, on: sql)
        }
        return StoredProfessional(
            professional: professional, version: 1, updatedAt: now,
            activityIDs: RegistryRows(professional).activities.map(\.id))
    }

    /// Replaces a professional's record; the directory file's flagged fields are kept when the
    /// new record has none.
    /// - Parameters:
    ///   - expectedVersion: when given, the update is refused unless the stored version is this one.
    ///   - action: the audit entry's action (`professional.update`, or a narrower one such as
    ///     `professional.address` for a holder's own change).
    /// - Throws: ``PersistenceError/notFound(_:)``, ``PersistenceError/versionConflict(_:expected:actual:)``.
    @discardableResult
    public func update(
        _ professional: Professional, expectedVersion: Int?, actor: String, action: String = "professional.update"
    ) async throws -> StoredProfessional {
        let now = StoredTimestamp.string(clock.now())
        let version: Int = try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            guard let existing = try await Self.load(professional.idNat.value, on: sql) else {
                throw PersistenceError.notFound("professional \(professional.idNat)")
            }
            if let expectedVersion, expectedVersion != existing.version {
                throw PersistenceError.versionConflict(
                    "professional \(professional.idNat)", expected: expectedVersion, actual: existing.version)
            }
            // The fields the directory file flagged stay with the record unless the new one
            // brings flags of its own (an API body carries none).
            var professional = professional
            if professional.flags.isEmpty { professional.flags = existing.professional.flags }
            let before = RegistryDigest.of(existing.professional)
            let after = RegistryDigest.of(professional)
            guard before != after else { return existing.version }
            try await sql.delete(from: "activities").where("id_nat", .equal, professional.idNat.value).run()
            try await sql.delete(from: "exercises").where("id_nat", .equal, professional.idNat.value).run()
            try await sql.delete(from: "professionals").where("id_nat", .equal, professional.idNat.value).run()
            try await Self.insert(professional, version: existing.version + 1, updatedAt: now, on: sql)
            try await audit.append(
                [AuditEvent(
                    actor: actor, action: action, entityType: "professional",
                    entityID: professional.idNat.value, beforeDigest: before, afterDigest: after)],
                after: head, on: sql)
            return existing.version + 1
        }
        return try await self.professional(professional.idNat) ?? StoredProfessional(
            professional: professional, version: version, updatedAt: now, activityIDs: [])
    }

    /// The professional with this idNat, if any.
    public func professional(_ idNat: IdNat) async throws -> StoredProfessional? {
        try await Self.load(idNat.value, on: database.sql)
    }

    /// The registry's names of the professional with this idNat, if any: one narrow query, for the
    /// checks on hot paths (certificate issuance) that need no more than the names.
    public func names(of idNat: IdNat) async throws -> RegisteredNames? {
        try await database.sql.select().column("first_name").column("last_name").from("professionals")
            .where("id_nat", .equal, idNat.value).first(decoding: NamesRow.self)
            .map { RegisteredNames(firstName: $0.first_name, lastName: $0.last_name) }
    }

    private struct NamesRow: Decodable {
        var first_name: String
        var last_name: String
    }

    /// Professionals matching a search, one page in name order.
    public func search(_ search: ProfessionalSearch) async throws -> ProfessionalPage {
        let sql = database.sql
        let limit = max(1, min(search.limit, 200))
        let query = sql.select().columns("*").from("professionals")
        if let prefix = search.namePrefix.map(NameKey.normalise), !prefix.isEmpty {
            query.where("name_key", .greaterThanOrEqual, prefix)
                .where("name_key", .lessThan, prefix + "\u{FFFF}")
        }
        if search.professionCode != nil || search.department != nil {
            var condition: SQLQueryString = "EXISTS (SELECT 1 FROM activities a WHERE a.id_nat = professionals.id_nat"
            if let professionCode = search.professionCode {
                condition.appendInterpolation(unsafeRaw: " AND a.profession_code = ")
                condition.appendInterpolation(bind: professionCode)
            }
            if let department = search.department {
                condition.appendInterpolation(unsafeRaw: " AND a.department = ")
                condition.appendInterpolation(bind: department.value)
            }
            condition.appendInterpolation(unsafeRaw: ")")
            query.where(condition)
        }
        if let after = search.after {
            query.where(SQLQueryString(
                "(name_key > \(bind: after.nameKey) OR (name_key = \(bind: after.nameKey) AND id_nat > \(bind: after.id)))"))
        }
        let rows = try await query.orderBy("name_key").orderBy("id_nat").limit(limit + 1)
            .all(decoding: ProfessionalRow.self)
        let pageRows = rows.prefix(limit)
        let details = try await Self.details(of: pageRows.map(\.id_nat), on: sql)
        let items = try pageRows.map { row in try Self.assemble(row, details: details) }
        let next = rows.count > limit ? pageRows.last.map { SearchCursor(nameKey: $0.name_key, id: $0.id_nat) } : nil
        return ProfessionalPage(items: items, nextCursor: next)
    }

    /// Professionals whose given or family name starts with a text, for directory search.
    public func professionals(idNats: [String]) async throws -> [StoredProfessional] {
        guard !idNats.isEmpty else { return [] }
        let sql = database.sql
        let rows = try await sql.select().columns("*").from("professionals")
            .where("id_nat", .in, idNats).orderBy("name_key").orderBy("id_nat")
            .all(decoding: ProfessionalRow.self)
        let details = try await Self.details(of: rows.map(\.id_nat), on: sql)
        return try rows.map { try Self.assemble($0, details: details) }
    }

    /// The professionals registered with an identifier: an RPPS or ADELI number, or an idNat.
    public func professionals(identifier: String) async throws -> [StoredProfessional] {
        let candidates = ["8" + identifier, "0" + identifier, identifier]
        return try await professionals(idNats: candidates)
    }

    // MARK: Activities

    /// The activity with this identifier, with its owner.
    public func activity(id: String) async throws -> StoredActivity? {
        guard let row = try await database.sql.select().columns("*").from("activities").where("id", .equal, id)
            .first(decoding: ActivityRow.self)
        else { return nil }
        return try Self.storedActivity(row)
    }

    /// The activities of a professional, or of those at a structure.
    public func activities(idNat: IdNat? = nil, structureID: String? = nil, limit: Int = 100) async throws -> [StoredActivity] {
        let query = database.sql.select().columns("*").from("activities")
        if let idNat { query.where("id_nat", .equal, idNat.value) }
        if let structureID { query.where("structure_id", .equal, structureID) }
        return try await query.orderBy("id").limit(limit).all(decoding: ActivityRow.self).map(Self.storedActivity)
    }

    // MARK: Structures

    /// Stores a new structure.
    /// - Throws: ``PersistenceError/duplicate(_:)`` when it exists.
    public func create(_ structure: Structure, actor: String) async throws {
        let now = StoredTimestamp.string(clock.now())
        try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            if try await Self.structureRow(structure.identifier.idNatStruct, on: sql) != nil {
                throw PersistenceError.duplicate("structure \(structure.identifier)")
            }
            try await sql.insert(into: "structures").model(StructureRow(structure, updatedAt: now)).run()
            try await audit.append(
                [AuditEvent(
                    actor: actor, action: "structure.create", entityType: "structure",
                    entityID: structure.identifier.idNatStruct, afterDigest: RegistryDigest.of(structure))],
                after: head, on: sql)
        }
    }

    /// Replaces a structure's record.
    /// - Throws: ``PersistenceError/notFound(_:)``.
    public func update(_ structure: Structure, actor: String) async throws {
        let now = StoredTimestamp.string(clock.now())
        try await database.transaction { db in
            let sql = db.sql
            let head = try await AuditLog.lock(sql)
            guard let existing = try await Self.structureRow(structure.identifier.idNatStruct, on: sql) else {
                throw PersistenceError.notFound("structure \(structure.identifier)")
            }
            let before = RegistryDigest.of(try existing.structure())
            let after = RegistryDigest.of(structure)
            guard before != after else { return }
            try await sql.delete(from: "structures").where("id", .equal, structure.identifier.idNatStruct).run()
            try await sql.insert(into: "structures").model(StructureRow(structure, updatedAt: now)).run()
            try await audit.append(
                [AuditEvent(
                    actor: actor, action: "structure.update", entityType: "structure",
                    entityID: structure.identifier.idNatStruct, beforeDigest: before, afterDigest: after)],
                after: head, on: sql)
        }
    }

    /// The structure with this idNatStruct (`1`+FINESS or `3`+SIRET), if any.
    public func structure(id: String) async throws -> Structure? {
        try await Self.structureRow(id, on: database.sql)?.structure()
    }

    /// Structures whose name starts with a prefix, in name order.
    public func structures(namePrefix: String?, limit: Int) async throws -> [Structure] {
        let query = database.sql.select().columns("*").from("structures")
        if let prefix = namePrefix.map(NameKey.normalise), !prefix.isEmpty {
            query.where("name_key", .greaterThanOrEqual, prefix).where("name_key", .lessThan, prefix + "\u{FFFF}")
        }
        return try await query.orderBy("name_key").orderBy("id").limit(max(1, min(limit, 200)))
            .all(decoding: StructureRow.self).map { try $0.structure() }
    }

    /// The structures with a FINESS, SIRET or idNatStruct equal to `identifier`.
    public func structures(identifier: String) async throws -> [Structure] {
        try await database.sql.select().columns("*").from("structures")
            .where("id", .in, [identifier, "1" + identifier, "3" + identifier]).orderBy("id")
            .all(decoding: StructureRow.self).map { try $0.structure() }
    }

    /// How many professionals, activities and structures are stored.
    public func counts() async throws -> (professionals: Int, activities: Int, structures: Int) {
        let sql = database.sql
        func count(_ table: String) async throws -> Int {
            try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? 0
        }
        return (try await count("professionals"), try await count("activities"), try await count("structures"))
    }

    // MARK: Row plumbing

    private static func insert(_ professional: Professional, version: Int, updatedAt: String, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: "professionals").model(ProfessionalRow(professional, version: version, updatedAt: updatedAt)).run()
        let rows = RegistryRows(professional)
        // NULLs written out: rows of one insert must name the same columns, and a registered
        // exercise next to an unregistered one (or an activity with an address next to one
        // without) would otherwise not.
        if !rows.exercises.isEmpty {
            try await sql.insert(into: "exercises").models(rows.exercises, nilEncodingStrategy: .asNil).run()
        }
        if !rows.activities.isEmpty {
            try await sql.insert(into: "activities").models(rows.activities, nilEncodingStrategy: .asNil).run()
        }
    }

    private static func professionalRow(_ idNat: String, on sql: any SQLDatabase) async throws -> ProfessionalRow? {
        try await sql.select().columns("*").from("professionals").where("id_nat", .equal, idNat)
            .first(decoding: ProfessionalRow.self)
    }

    private static func structureRow(_ id: String, on sql: any SQLDatabase) async throws -> StructureRow? {
        try await sql.select().columns("*").from("structures").where("id", .equal, id).first(decoding: StructureRow.self)
    }

    private static func load(_ idNat: String, on sql: any SQLDatabase) async throws -> StoredProfessional? {
        guard let row = try await professionalRow(idNat, on: sql) else { return nil }
        return try assemble(row, details: try await details(of: [idNat], on: sql))
    }

    struct Details {
        var exercises: [String: [ExerciseRow]] = [:]
        var activities: [String: [ActivityRow]] = [:]
    }

    static func details(of idNats: [String], on sql: any SQLDatabase) async throws -> Details {
        guard !idNats.isEmpty else { return Details() }
        var details = Details()
        let exercises = try await sql.select().columns("*").from("exercises").where("id_nat", .in, idNats)
            .orderBy("id_nat").orderBy("profession_code").all(decoding: ExerciseRow.self)
        for row in exercises { details.exercises[row.id_nat, default: []].append(row) }
        let activities = try await sql.select().columns("*").from("activities").where("id_nat", .in, idNats)
            .orderBy("id").all(decoding: ActivityRow.self)
        for row in activities { details.activities[row.id_nat, default: []].append(row) }
        return details
    }

    static func assemble(_ row: ProfessionalRow, details: Details) throws -> StoredProfessional {
        let idNat = try decodeField("professional \(row.id_nat)") { try IdNat(row.id_nat) }
        let activityRows = details.activities[row.id_nat] ?? []
        var activityIDs: [String] = []
        let exercises = try (details.exercises[row.id_nat] ?? []).map { exerciseRow in
            let mine = activityRows.filter { $0.profession_code == exerciseRow.profession_code }
            activityIDs += mine.map(\.id)
            return try exerciseRow.exercise(activities: mine.map { try $0.activity() })
        }
        let professional = Professional(
            idNat: idNat, civilite: row.civilite, lastName: row.last_name, firstName: row.first_name, exercises: exercises,
            flags: try row.decodedFlags())
        return StoredProfessional(professional: professional, version: row.version, updatedAt: row.updated_at, activityIDs: activityIDs)
    }

    static func storedActivity(_ row: ActivityRow) throws -> StoredActivity {
        let idNat = try decodeField("activity \(row.id)") { try IdNat(row.id_nat) }
        return StoredActivity(id: row.id, idNat: idNat, professionCode: row.profession_code, activity: try row.activity())
    }
}

