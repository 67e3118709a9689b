import OpenCPSDomain
import OpenCPSPersistence

/// The registry of professionals and structures, as the API and the FHIR directory use it.
///
/// A write and the card consequences it has are one transaction: an order's registration
/// places the automatic card order, and a change of what a card shows reissues the card; if
/// the consequence fails, the registry change is not kept either.
public final class RegistryService: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let cards: CardServices?

    /// Creates the service.
    /// - Parameters:
    ///   - database: where the registry is stored.
    ///   - clock: the clock of the records' bookkeeping.
    ///   - cards: the card services that follow registry changes; nil where no PKI is served,
    ///     so that no card is ordered.
    public init(database: ServiceDatabase, clock: any WallClock, cards: CardServices?) {
        self.database = database
        self.clock = clock
        self.cards = cards
    }

    private var repository: RegistryRepository { RegistryRepository(database: database.current, clock: clock) }

    // MARK: Professionals

    /// Stores a new professional.
    /// - Throws: `registry.duplicate` when the idNat is taken.
    public func create(_ professional: Professional, actor: String) async throws -> StoredProfessional {
        try await repository.create(professional, actor: actor)
    }

    /// Replaces a professional's record and reissues the cards whose content it changes, in
    /// one transaction. The fields the directory file flagged stay with the record unless the
    /// new record brings flags of its own (an API body carries none).
    /// - Parameter expectedVersion: when given, the update is refused unless the stored version is this one.
    /// - Throws: `registry.not-found`, `registry.version-conflict`, or what the reissue throws.
    public func update(_ professional: Professional, expectedVersion: Int?, actor: String) async throws -> StoredProfessional {
        try await database.transaction { _ in
            let stored = try await self.repository.update(professional, expectedVersion: expectedVersion, actor: actor)
            _ = try await self.cards?.renewal.reissueAfterRegistryChange(of: stored.professional.idNat)
            return stored
        }
    }

    /// Records a professional order's registration for one of the professional's professions,
    /// and places the automatic card order that follows it, in one transaction.
    /// - Parameter expectedVersion: the version the registration was built from.
    /// - Throws: `registry.not-found`, `registration.no-exercise` when the professional does not
    ///   exercise the profession, `registry.version-conflict`, or what the order throws.
    public func register(
        _ idNat: IdNat, professionCode: String, registration: OrderRegistration, expectedVersion: Int?, actor: String
    ) async throws -> StoredProfessional {
        try await database.transaction { _ in
            let repository = self.repository
            guard let stored = try await repository.professional(idNat) else { throw PersistenceError.notFound("professional \(idNat)") }
            var professional = stored.professional
            guard let index = professional.exercises.firstIndex(where: { $0.profession.code == professionCode }) else {
                throw RegistryError(code: "registration.no-exercise", reason: "\(idNat) does not exercise profession \(professionCode)")
            }
            professional.exercises[index].registration = registration
            let updated = try await repository.update(professional, expectedVersion: expectedVersion ?? stored.version, actor: actor)
            try await self.cards?.ordering.orderAutomatically(for: updated.professional, professionCode: professionCode)
            return updated
        }
    }

    /// Changes the postal address of one of the holder's own activities, as the holder: the
    /// address the card and its PIN letter are shipped to. The address is checked first
    /// (``PostalAddressRules``); the audit log records `professional.address` by
    /// `holder:<idNat>`. The activity's department is left as it is: it decides which regional
    /// agency is competent, which is the registry's to change, not the holder's.
    /// - Parameters:
    ///   - holder: the logged-in holder; only their own record is read or written.
    ///   - activity: the activity's position among the holder's activities, exercise after
    ///     exercise (``Professional/allActivities``).
    ///   - expectedVersion: the record's version the form was filled from, when known.
    /// - Throws: ``PostalAddressError`` for an address that does not check,
    ///   `registry.not-found`, `registry.no-such-activity`, `registry.version-conflict`.
    public func changePostalAddress(
        of holder: IdNat, activity: Int, line: String?, postalCode: String?, city: String?, expectedVersion: Int?
    ) async throws -> StoredProfessional {
        let address = try PostalAddressRules.checked(line: line, postalCode: postalCode, city: city)
        return try await database.transaction { _ in
            let repository = self.repository
            guard let stored = try await repository.professional(holder) else { throw PersistenceError.notFound("professional \(holder)") }
            var professional = stored.professional
            guard let (exercise, index) = professional.activityPosition(activity) else {
                throw RegistryError(code: "registry.no-such-activity", reason: "\(holder) has no activity number \(activity)")
            }
            professional.exercises[exercise].activities[index].address = address
            let updated = try await repository.update(
                professional, expectedVersion: expectedVersion ?? stored.version, actor: CardActor.holder(holder).auditName,
                action: "professional.address")
            _ = try await self.cards?.renewal.reissueAfterRegistryChange(of: holder)
            return updated
        }
    }

    /// A professional.
    /// - Throws: `registry.not-found`.
    public func professional(_ idNat: IdNat) async throws -> StoredProfessional {
        guard let stored = try await repository.professional(idNat) else { throw PersistenceError.notFound("professional \(idNat)") }
        return stored
    }

    /// A professional, or nil.
    public func professionalIfAny(_ idNat: IdNat) async throws -> StoredProfessional? {
        try await repository.professional(idNat)
    }

    /// The registry's names of a professional, or nil when the registry does not know them: one
    /// narrow query, cheaper than ``professionalIfAny(_:)`` on hot paths.
    public func names(of idNat: IdNat) async throws -> RegisteredNames? {
        try await repository.names(of: idNat)
    }

    /// One page of professionals matching a search.
    public func search(_ search: ProfessionalSearch) async throws -> ProfessionalPage {
        try await repository.search(search)
    }

    /// The professionals with these idNats, in name order.
    public func professionals(idNats: [String]) async throws -> [StoredProfessional] {
        try await repository.professionals(idNats: idNats)
    }

    /// The professionals registered with an identifier: an RPPS or ADELI number, or an idNat.
    public func professionals(identifier: String) async throws -> [StoredProfessional] {
        try await repository.professionals(identifier: identifier)
    }

    // MARK: Activities

    /// The activity with this identifier, with its owner.
    public func activity(id: String) async throws -> StoredActivity? {
        try await repository.activity(id: id)
    }

    /// The activities of a professional, or of those at a structure.
    public func activities(idNat: IdNat? = nil, structureID: String? = nil, limit: Int = 100) async throws -> [StoredActivity] {
        try await repository.activities(idNat: idNat, structureID: structureID, limit: limit)
    }

    // MARK: Directory searches

    /// Practitioners matching the directory's criteria, one page in name order.
    public func practitioners(_ criteria: PractitionerCriteria) async throws -> ProfessionalPage {
        try await repository.practitioners(criteria)
    }

    /// Activities matching the directory's criteria, and whether more follow.
    public func roles(_ criteria: RoleCriteria) async throws -> (items: [StoredActivity], more: Bool) {
        try await repository.roles(criteria)
    }

    /// Structures matching the directory's criteria, one page in name order.
    public func organizations(_ criteria: OrganizationCriteria) async throws -> StructurePage {
        try await repository.organizations(criteria)
    }

    /// The structures with these idNatStructs, or whose SIREN is one of `sirens`.
    public func structures(ids: [String], sirens: [String] = []) async throws -> [Structure] {
        try await repository.structures(ids: ids, sirens: sirens)
    }

    // MARK: Structures

    /// Stores a new structure.
    /// - Throws: `registry.duplicate` when it exists.
    public func create(_ structure: Structure, actor: String) async throws {
        try await repository.create(structure, actor: actor)
    }

    /// Replaces a structure's record.
    /// - Throws: `registry.not-found`.
    public func update(_ structure: Structure, actor: String) async throws {
        try await repository.update(structure, actor: actor)
    }

    /// A structure by its idNatStruct, or nil.
    public func structure(id: String) async throws -> Structure? {
        try await repository.structure(id: id)
    }

    /// Structures whose name starts with a text (all when nil), in name order.
    public func structures(namePrefix: String?, limit: Int) async throws -> [Structure] {
        try await repository.structures(namePrefix: namePrefix, limit: limit)
    }

    /// The structures with an identifier.
    public func structures(identifier: String) async throws -> [Structure] {
        try await repository.structures(identifier: identifier)
    }
}

/// Why the registry refused a change: a stable code and a human reason.
public struct RegistryError: DomainError, Equatable {
    /// The stable code, such as `registration.no-exercise`.
    public let code: String
    /// A sentence for a person.
    public let reason: String

    /// Creates an error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}
