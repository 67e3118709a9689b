/// Folds the rows of an extraction file (one activity per row) into registry records: one
/// ``Professional`` per run of consecutive rows with the same idNat, and the ``Structure``s
/// those rows name.
///
/// The public file lists a person's rows together, so a person is complete when the next
/// row names someone else; ``add(_:)`` hands back the person it has just completed.
public struct DirectoryRecordFolder: Sendable {
    private var current: Professional?
    /// The structures seen since the last ``takeStructures()``, by idNatStruct.
    private var structures: [String: Structure] = [:]

    /// Creates an empty folder.
    public init() {}

    /// Adds one row.
    /// - Returns: the previous professional when this row starts another one.
    public mutating func add(_ record: DirectoryActivityRecord) -> Professional? {
        if let structure = Self.structure(of: record), structures[structure.identifier.idNatStruct] == nil {
            structures[structure.identifier.idNatStruct] = structure
        }
        if var person = current, person.idNat == record.idNat {
            Self.merge(record, into: &person)
            current = person
            return nil
        }
        let finished = current
        var person = Professional(
            idNat: record.idNat, civilite: record.civiliteCode, lastName: record.lastName,
            firstName: record.firstName, exercises: [])
        Self.merge(record, into: &person)
        current = person
        return finished
    }

    /// Ends the file: returns the last professional, if any.
    public mutating func finish() -> Professional? {
        defer { current = nil }
        return current
    }

    /// The structures seen since the last call, and forgets them.
    public mutating func takeStructures() -> [Structure] {
        defer { structures.removeAll(keepingCapacity: true) }
        // Sorted by the dictionary's keys: an identifier's idNatStruct is built anew each time it is read.
        return structures.sorted { $0.key < $1.key }.map(\.value)
    }

    private static func merge(_ record: DirectoryActivityRecord, into person: inout Professional) {
        let index: Int
        if let existing = person.exercises.firstIndex(where: { $0.profession == record.profession }) {
            index = existing
        } else {
            person.exercises.append(Exercise(
                profession: record.profession, categoryCode: record.categoryCode ?? "C",
                civiliteExercice: record.civiliteExerciceCode, savoirFaire: record.savoirFaire))
            index = person.exercises.count - 1
        }
        if let activity = record.activity, !person.exercises[index].activities.contains(activity) {
            person.exercises[index].activities.append(activity)
        }
    }

    private static func structure(of record: DirectoryActivityRecord) -> Structure? {
        guard let identifier = record.structureIdentifier, let name = record.raisonSociale ?? record.enseigne else {
            return nil
        }
        return Structure(
            identifier: identifier, name: name, sectorCode: record.secteurCode, department: record.department,
            address: record.address.isEmpty ? nil : record.address.postalAddress, legalEntity: record.finessJuridique)
    }
}
