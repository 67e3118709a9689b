/// Folds the rows of an extraction file (one activity per row) into registry records: one
/// ``Professional`` per run of consecutive rows with the same idNat, and the ``Structure``s
/// those rows name: each site, and the legal entity (*entité juridique*) a site's FINESS EJ
/// column names, so that a site's `partOf` points at a structure that exists.
///
/// The public file lists a person's rows together, so a person is complete when the next
/// row names someone else; ``add(_:)`` hands back the person it has just completed.
public struct DirectoryRecordFolder: Sendable {
    private var current: Professional?
    /// The structures first named since the last ``takeStructures()``, in the order named.
    private var newStructures: [Structure] = []
    /// Every structure named so far.
    private var named: Set<StructureIdentifier> = []

    /// Creates an empty folder.
    public init() {}

    /// Adds one row.
    /// - Returns: the previous professional when this row starts another one.
    public mutating func add(_ record: DirectoryActivityRecord) -> Professional? {
        noteStructure(of: record)
        // The person is changed where it lies: a copy would share its exercises' storage,
        // and the first append would copy them all.
        if current?.idNat == record.idNat {
            Self.merge(record, into: &current!)
            return nil
        }
        let finished = current
        current = Professional(
            idNat: record.idNat, civilite: record.civiliteCode, lastName: record.lastName,
            firstName: record.firstName, exercises: [], flags: [])
        Self.merge(record, into: &current!)
        return finished
    }

    /// Ends the file: returns the last professional, if any.
    public mutating func finish() -> Professional? {
        defer { current = nil }
        return current
    }

    /// The structures first named since the last call, in the order named, and forgets them.
    ///
    /// Each structure is handed back once in the folder's life, as the first row naming it
    /// describes it; later rows naming it again do not change it.
    public mutating func takeStructures() -> [Structure] {
        let taken = newStructures
        newStructures = []
        return taken
    }

    private mutating func noteStructure(of record: DirectoryActivityRecord) {
        guard let identifier = record.structureIdentifier, let name = record.raisonSociale ?? record.enseigne else {
            return
        }
        // Most rows name a structure seen before: it is built only the first time.
        guard named.insert(identifier).inserted else { return }
        // The file names the legal entity by its FINESS alone; its own row in the directory
        // is not in this file, so it is created with what is known, before its first site.
        if let legalEntity = record.finessJuridique, legalEntity != record.finessSite,
           named.insert(.finess(legalEntity)).inserted {
            newStructures.append(Structure(
                identifier: .finess(legalEntity), name: Self.legalEntityName(legalEntity), entity: .legal))
        }
        newStructures.append(Structure(
            identifier: identifier, name: name, sectorCode: record.secteurCode, department: record.department,
            address: record.address.isEmpty ? nil : record.address.postalAddress,
            legalEntity: record.finessJuridique == record.finessSite ? nil : record.finessJuridique,
            entity: .geographical, technicalID: record.technicalStructureID, siren: record.siren,
            formerID: record.formerStructureID, tradeName: record.raisonSociale == nil ? nil : record.enseigne))
    }

    /// The name given to a legal entity the file names only by its FINESS: the extraction
    /// carries no name for it. A later write of the structure (API, another file) replaces it.
    public static func legalEntityName(_ finess: FINESS) -> String {
        "Entité juridique FINESS \(finess.value)"
    }

    private static func merge(_ record: DirectoryActivityRecord, into person: inout Professional) {
        for flag in record.flags where !person.flags.contains(flag) { person.flags.append(flag) }
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
}
