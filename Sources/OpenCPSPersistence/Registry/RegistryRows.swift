import Foundation
import OpenCPSDomain
import SQLKit

/// A row of `professionals`.
struct ProfessionalRow: Codable, Sendable {
    var id_nat: String
    var id_type: String
    var civilite: String?
    var last_name: String
    var first_name: String
    var name_key: String
    var version: Int
    var updated_at: String
    /// The flagged fields, as a JSON array (nil when there are none).
    var flags: String?
}

/// A row of `exercises`.
struct ExerciseRow: Codable, Sendable {
    var id_nat: String
    var profession_code: String
    var category_code: String
    var civilite_exercice: String?
    var savoir_faire_type: String?
    var savoir_faire_code: String?
    var savoir_faire_label: String?
    var ordre: String?
    var registered_on: String?
    var registration_number: String?
}

/// A row of `activities`.
struct ActivityRow: Codable, Sendable {
    var id: String
    var id_nat: String
    var profession_code: String
    var mode_code: String
    var structure_id: String?
    var structure_name: String?
    var sector_code: String?
    var department: String?
    var address_line: String?
    var postal_code: String?
    var city: String?
    var fonction_code: String?
    var genre_code: String?
    var section_code: String?
}

/// A row of `structures`.
struct StructureRow: Codable, Sendable {
    var id: String
    var kind: String
    var number: String
    var name: String
    var name_key: String
    var sector_code: String?
    var department: String?
    var address_line: String?
    var postal_code: String?
    var city: String?
    var legal_entity_finess: String?
    var updated_at: String
    var entity: String?
    var technical_id: String?
    var siren: String?
    var former_id: String?
    var trade_name: String?
}

/// A row the import writes in bulk: its table's columns, and its values in that order.
protocol BulkRow {
    /// The columns, in the order ``appendValues(to:)`` gives the values.
    static var columns: [String] { get }
    /// Appends the row's values, one per column.
    func appendValues<Sink: BulkValueSink>(to rows: inout Sink)
}

extension BulkRow {
    /// `rows` packed for ``BulkInsert/prepare(_:into:columns:integerColumns:conflict:for:)``.
    static func packed(_ rows: [Self]) -> PackedRows {
        var packed = PackedRows(columns: columns.count, reservingRows: rows.count)
        for row in rows { row.appendValues(to: &packed) }
        return packed
    }

    /// `rows` in `COPY`'s text format, written straight from the rows (PostgreSQL).
    static func copyText(_ rows: [Self]) -> CopyTextRows {
        var text = CopyTextRows(columns: columns.count, reservingRows: rows.count)
        for row in rows { row.appendValues(to: &text) }
        return text
    }
}

extension ProfessionalRow: BulkRow {
    static let columns = ["id_nat", "id_type", "civilite", "last_name", "first_name", "name_key", "version", "updated_at", "flags"]

    func appendValues<Sink: BulkValueSink>(to rows: inout Sink) {
        rows.append(id_nat)
        rows.append(id_type)
        rows.append(civilite)
        rows.append(last_name)
        rows.append(first_name)
        rows.append(name_key)
        rows.append(String(version))
        rows.append(updated_at)
        rows.append(flags)
    }
}

extension ExerciseRow: BulkRow {
    static let columns = [
        "id_nat", "profession_code", "category_code", "civilite_exercice", "savoir_faire_type", "savoir_faire_code",
        "savoir_faire_label", "ordre", "registered_on", "registration_number",
    ]

    func appendValues<Sink: BulkValueSink>(to rows: inout Sink) {
        rows.append(id_nat)
        rows.append(profession_code)
        rows.append(category_code)
        rows.append(civilite_exercice)
        rows.append(savoir_faire_type)
        rows.append(savoir_faire_code)
        rows.append(savoir_faire_label)
        rows.append(ordre)
        rows.append(registered_on)
        rows.append(registration_number)
    }
}

extension ActivityRow: BulkRow {
    static let columns = [
        "id", "id_nat", "profession_code", "mode_code", "structure_id", "structure_name", "sector_code", "department",
        "address_line", "postal_code", "city", "fonction_code", "genre_code", "section_code",
    ]

    func appendValues<Sink: BulkValueSink>(to rows: inout Sink) {
        rows.append(id)
        rows.append(id_nat)
        rows.append(profession_code)
        rows.append(mode_code)
        rows.append(structure_id)
        rows.append(structure_name)
        rows.append(sector_code)
        rows.append(department)
        rows.append(address_line)
        rows.append(postal_code)
        rows.append(city)
        rows.append(fonction_code)
        rows.append(genre_code)
        rows.append(section_code)
    }
}

extension StructureRow: BulkRow {
    static let columns = [
        "id", "kind", "number", "name", "name_key", "sector_code", "department", "address_line", "postal_code", "city",
        "legal_entity_finess", "updated_at", "entity", "technical_id", "siren", "former_id", "trade_name",
    ]

    func appendValues<Sink: BulkValueSink>(to rows: inout Sink) {
        rows.append(id)
        rows.append(kind)
        rows.append(number)
        rows.append(name)
        rows.append(name_key)
        rows.append(sector_code)
        rows.append(department)
        rows.append(address_line)
        rows.append(postal_code)
        rows.append(city)
        rows.append(legal_entity_finess)
        rows.append(updated_at)
        rows.append(entity)
        rows.append(technical_id)
        rows.append(siren)
        rows.append(former_id)
        rows.append(trade_name)
    }
}

extension ProfessionalRow {
    init(_ professional: Professional, version: Int, updatedAt: String) {
        self.init(
            id_nat: professional.idNat.value, id_type: professional.idNat.typeCode, civilite: professional.civilite,
            last_name: professional.lastName, first_name: professional.firstName, name_key: professional.nameKey,
            version: version, updated_at: updatedAt, flags: Self.encode(professional.flags))
    }

    static func encode(_ flags: [FlaggedField]) -> String? {
        guard !flags.isEmpty, let data = try? JSONEncoder().encode(flags) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    func decodedFlags() throws -> [FlaggedField] {
        guard let flags else { return [] }
        do {
            return try JSONDecoder().decode([FlaggedField].self, from: Data(flags.utf8))
        } catch {
            throw PersistenceError.corrupt("the flags of \(id_nat)", "\(error)")
        }
    }
}

extension ExerciseRow {
    init(_ exercise: Exercise, idNat: IdNat) {
        self.init(
            id_nat: idNat.value, profession_code: exercise.profession.code, category_code: exercise.categoryCode,
            civilite_exercice: exercise.civiliteExercice, savoir_faire_type: exercise.savoirFaire?.typeCode,
            savoir_faire_code: exercise.savoirFaire?.code, savoir_faire_label: exercise.savoirFaire?.label,
            ordre: exercise.registration?.ordre.rawValue, registered_on: exercise.registration?.registeredOn.description,
            registration_number: exercise.registration?.number)
    }

    func exercise(activities: [Activity]) throws -> Exercise {
        // A code outside the nomenclature was kept, flagged, from the directory file.
        let profession = Profession.listedOrNot(code: profession_code)
        var registration: OrderRegistration?
        if let ordre, let registered_on {
            guard let ordre = Ordre(rawValue: ordre) else {
                throw PersistenceError.corrupt("the registration of \(id_nat)", "unknown order \(ordre)")
            }
            let date = try decodeField("the registration date of \(id_nat)") { try CivilDate(registered_on) }
            registration = OrderRegistration(ordre: ordre, registeredOn: date, number: registration_number)
        }
        let savoirFaire = savoir_faire_code.map {
            SavoirFaire(typeCode: savoir_faire_type ?? "", code: $0, label: savoir_faire_label)
        }
        return Exercise(
            profession: profession, categoryCode: category_code, civiliteExercice: civilite_exercice,
            savoirFaire: savoirFaire, registration: registration, activities: activities)
    }
}

extension ActivityRow {
    init(_ activity: Activity, id: String, idNat: IdNat, professionCode: String) {
        self.init(
            id: id, id_nat: idNat.value, profession_code: professionCode, mode_code: activity.mode.rawValue,
            structure_id: activity.structure?.idNatStruct, structure_name: activity.structureName,
            sector_code: activity.sectorCode, department: activity.department?.value,
            address_line: activity.address?.line, postal_code: activity.address?.postalCode, city: activity.address?.city,
            fonction_code: activity.fonctionCode, genre_code: activity.genreCode, section_code: activity.sectionCode)
    }

    func activity() throws -> Activity {
        guard let mode = ModeOfActivity(rawValue: mode_code) else {
            throw PersistenceError.corrupt("activity \(id)", "unknown mode \(mode_code)")
        }
        let structure = try structure_id.map { text in
            try decodeField("the structure of activity \(id)") { try StructureIdentifier(idNatStruct: text) }
        }
        let department = try department.map { text in
            try decodeField("the department of activity \(id)") { try DepartmentCode(text) }
        }
        let address = PostalAddress(line: address_line, postalCode: postal_code, city: city)
        return Activity(
            mode: mode, structure: structure, structureName: structure_name, sectorCode: sector_code,
            department: department, address: address.isEmpty ? nil : address,
            fonctionCode: fonction_code, genreCode: genre_code, sectionCode: section_code)
    }
}

extension StructureRow {
    init(_ structure: Structure, updatedAt: String) {
        self.init(
            id: structure.identifier.idNatStruct, kind: structure.identifier.kind, number: structure.identifier.number, name: structure.name,
            name_key: NameKey.normalise(structure.name), sector_code: structure.sectorCode,
            department: structure.department?.value, address_line: structure.address?.line,
            postal_code: structure.address?.postalCode, city: structure.address?.city,
            legal_entity_finess: structure.legalEntity?.value, updated_at: updatedAt,
            entity: structure.entity == .legal ? structure.entity.rawValue : nil, technical_id: structure.technicalID,
            siren: structure.siren?.value, former_id: structure.formerID, trade_name: structure.tradeName)
    }

    func structure() throws -> Structure {
        let identifier = try decodeField("structure \(id)") { try StructureIdentifier(idNatStruct: id) }
        let department = try department.map { text in try decodeField("structure \(id)") { try DepartmentCode(text) } }
        let legalEntity = try legal_entity_finess.map { text in try decodeField("structure \(id)") { try FINESS(text) } }
        let siren = try siren.map { text in try decodeField("structure \(id)") { try SIREN(text) } }
        let address = PostalAddress(line: address_line, postalCode: postal_code, city: city)
        return Structure(
            identifier: identifier, name: name, sectorCode: sector_code, department: department,
            address: address.isEmpty ? nil : address, legalEntity: legalEntity,
            entity: entity.flatMap(OrganizationEntity.init(rawValue:)) ?? .geographical, technicalID: technical_id,
            siren: siren, formerID: former_id, tradeName: trade_name)
    }
}

/// Reads a stored field back into a domain value, turning a refusal into a corrupt-row error.
func decodeField<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as any DomainError {
        throw PersistenceError.corrupt(what, error.reason)
    }
}
