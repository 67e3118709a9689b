import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSTokens
import X509

/// A card file as the API shows it: the record, its documents, shipments and what is missing.
public struct CardFile: Sendable {
    /// The record.
    public var card: CardRecord
    /// Its documents (without content).
    public var documents: [CardDocument]
    /// Its shipments.
    public var shipments: [CardShipment]
    /// The documents still required before validation.
    public var missingDocuments: [DocumentKind]
    /// Whether the file is past its due date.
    public var isOverdue: Bool
}

/// The whole life of a card (DESIGN.md §1): orders, documents, validation, manufacture,
/// delivery, activation, PIN, renewal, opposition, suspension, reissue.
///
/// Every operation checks who acts (``CardAuthorization``), applies one transition of the
/// state machine (``CardState``), and writes the change with its audit entry in one
/// transaction; a failed step writes nothing. Consequences the platform draws itself
/// (supersession, automatic orders, reissues) are recorded as the platform's.
public final class CardService: Sendable {
    private let pki: PKIService
    private let tokens: SoftwareTokenStore
    private let letters: URL
    private let clock: any WallClock
    private let random: RandomBytes
    /// The settings.
    public let settings: CardServiceSettings
    /// Production batches record their cards here one at a time, whichever run they belong to.
    private let productionLine = OneAtATime()

    /// Creates the service.
    /// - Parameters:
    ///   - pki: issues and revokes the cards' certificates.
    ///   - tokens: where manufactured software tokens are written.
    ///   - letters: the folder of PIN letters for the print service (the only place a PIN is
    ///     ever written in clear; the print service takes and deletes them).
    ///   - clock: the clock.
    ///   - random: the CSPRNG of serials, PINs, PUKs and tracking numbers.
    public init(
        pki: PKIService, tokens: SoftwareTokenStore, letters: URL, clock: any WallClock, random: RandomBytes = .system,
        settings: CardServiceSettings = CardServiceSettings()
    ) {
        self.pki = pki
        self.tokens = tokens
        self.letters = letters
        self.clock = clock
        self.random = random
        self.settings = settings
    }

    private var today: CivilDate { CivilDate(clock.now()) }

    // MARK: Reading

    /// A card file, for an actor allowed to see it.
    public func file(_ id: String, actor: CardActor, on db: any Database) async throws -> CardFile {
        let card = try await load(id, on: db)
        try authorize(actor, .view, card)
        return try await assemble(card, on: db)
    }

    /// The cards of a holder that the actor may see.
    public func cards(of idNat: IdNat, actor: CardActor, on db: any Database) async throws -> [CardRecord] {
        try await CardRepository(database: db, clock: clock).cards(idNat: idNat.value)
            .filter { (try? context($0)).map { CardAuthorization.isAllowed(actor, .view, on: $0) } ?? false }
    }

    /// A card's history from the audit log (every transition and use).
    public func history(_ id: String, actor: CardActor, on db: any Database) async throws -> [AuditEntry] {
        let card = try await load(id, on: db)
        try authorize(actor, .view, card)
        return try await CardRepository(database: db, clock: clock).history(cardID: id)
    }

    // MARK: Ordering

    /// The automatic order that follows an order's registration of an ordinal professional:
    /// the registration is the validation, so the file is validated at once. Nothing is
    /// ordered when the professional already has a card or a file in progress for that profession.
    /// - Returns: the new file, or nil when none was needed.
    @discardableResult
    public func orderAutomatically(
        for professional: Professional, professionCode: String, on db: any Database
    ) async throws -> CardRecord? {
        guard let exercise = professional.exercises.first(where: { $0.profession.code == professionCode }),
              let ordre = exercise.profession.ordre, exercise.registration != nil else { return nil }
        let repository = CardRepository(database: db, clock: clock)
        let existing = try await repository.cards(idNat: professional.idNat.value)
        guard !Self.hasOpenCard(existing, professionCode: professionCode) else { return nil }
        let actor = CardActor.ordre(ordre)
        let order = CardRecord(
            id: UUID().uuidString.lowercased(), idNat: professional.idNat.value, kind: CardKind.cps.rawValue,
            orderMode: OrderMode.automatic.rawValue, orderReason: "first", instance: ValidatingInstance.ordre(ordre).code,
            professionCode: professionCode, structureID: exercise.activities.first?.structure?.idNatStruct, now: clock.now())
        try authorize(actor, .order, order)
        try await repository.insert(order, actor: actor.auditName, detail: "automatic CPS order after registration with \(ordre.abbreviation)")
        let submitted = try await transition(order.id, .submitForValidation, actor: actor, on: db)
        let validated = try await validate(submitted.id, actor: actor, on: db)
        return validated
    }

    /// Whether a holder has a card, or a file in progress, for a profession.
    private static func hasOpenCard(_ cards: [CardRecord], professionCode: String) -> Bool {
        let closed: Set<String> = ["rejected", "opposed", "revoked", "expired", "superseded"]
        return cards.contains { $0.professionCode == professionCode && !closed.contains($0.state) }
    }

    /// A manual application (non-ordinal professions, staff cards ordered by their manager,
    /// managers' cards): the file waits for its documents.
    public func apply(
        idNat: IdNat, kind: CardKind, professionCode: String?, structureID: String?, actor: CardActor,
        reason: String = "first", replacing: String? = nil, on db: any Database
    ) async throws -> CardRecord {
        let registry = RegistryRepository(database: db, clock: clock)
        guard let stored = try await registry.professional(idNat) else {
            throw PersistenceError.notFound("professional \(idNat)")
        }
        let profession = try professionCode.map { code throws -> Profession in
            guard stored.professional.exercises.contains(where: { $0.profession.code == code }) else {
                throw CardLifecycleError(code: "card.no-such-exercise", reason: "\(idNat) does not exercise profession \(code)")
            }
            return try Profession(code: code)
        }
        let structure = try structureID.map { try StructureIdentifier(idNatStruct: $0) }
        if kind.isStaffCard, structure == nil {
            throw CardLifecycleError(code: "card.structure-required", reason: "a \(kind.code) card is ordered for a structure: give structureId")
        }
        let instance = try ValidatingInstance.competent(for: kind, profession: profession, structure: structure)
        let registration = profession.flatMap { code in stored.professional.exercises.first { $0.profession == code }?.registration }
        let card = CardRecord(
            id: UUID().uuidString.lowercased(), idNat: idNat.value, kind: kind.rawValue,
            orderMode: OrderMode(kind: kind, profession: profession, registration: registration).rawValue, orderReason: reason,
            instance: instance.code, professionCode: profession?.code, structureID: structure?.idNatStruct ?? Self.firstStructure(stored.professional, profession),
            replacesCardID: replacing, now: clock.now())
        try authorize(actor, .order, card)
        try await CardRepository(database: db, clock: clock).insert(card, actor: actor.auditName)
        return card
    }

    /// Adds a document to a file that is still being put together (ordered, awaiting
    /// documents, or rejected): its type and size are checked, its SHA-256 kept.
    public func addDocument(
        to id: String, kind: DocumentKind, mediaType: String, content: [UInt8], actor: CardActor, on db: any Database
    ) async throws -> CardDocument {
        let card = try await load(id, on: db)
        try authorize(actor, .transition(.submitDocuments), card, orAlso: .order)
        guard ["ordered", "awaiting_documents", "rejected"].contains(card.state) else {
            throw CardLifecycleError(code: "card.documents-closed", reason: "documents are added while the file is being put together, not in state \(card.state)")
        }
        let normalised = try settings.documentPolicy.check(mediaType: mediaType, byteCount: content.count, leadingBytes: Array(content.prefix(8)))
        let document = CardDocument(
            id: UUID().uuidString.lowercased(), cardID: id, kind: kind.rawValue, mediaType: normalised, byteCount: content.count,
            sha256: SHA256.hash(data: content).hexString,
            uploadedAt: ISO8601DateFormatter().string(from: clock.now()), uploadedBy: actor.auditName)
        try await CardRepository(database: db, clock: clock).addDocument(document, content: content, actor: actor.auditName)
        return document
    }

    /// Sends a complete file to its instance (from `ordered`, `awaiting_documents` or, after a
    /// rejection, as a resubmission).
    public func submit(_ id: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let card = try await load(id, on: db)
        let transition: CardTransition = switch card.state {
        case "awaiting_documents": .submitDocuments
        case "rejected": .resubmit
        default: .submitForValidation
        }
        try await requireComplete(card, on: db)
        return try await self.transition(id, transition, actor: actor, on: db)
    }

    /// The instance asks for more documents.
    public func requestDocuments(_ id: String, reason: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        try await transition(id, .requestDocuments, actor: actor, detail: reason, on: db)
    }

    /// The instance validates a complete file: the due date runs from today.
    public func validate(_ id: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let card = try await load(id, on: db)
        try await requireComplete(card, on: db)
        return try await transition(id, .validate, actor: actor, on: db) { card in
            let deadline = self.settings.delay.deadline(validatedOn: self.today, path: card.express ? .express : .standard)
            card.validatedOn = self.today.description
            card.dueOn = deadline.due.description
            card.rejectionReason = nil
        }
    }

    /// The instance rejects the file, with its reason; the applicant may complete and resubmit it.
    public func reject(_ id: String, reason: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CardLifecycleError(code: "card.reason-required", reason: "a rejection says why")
        }
        return try await transition(id, .reject, actor: actor, detail: reason, on: db) { $0.rejectionReason = reason }
    }

    /// Moves a file to the express path for a proven emergency (help desk); its due date is recomputed.
    public func moveToExpress(_ id: String, justification: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        guard !justification.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CardLifecycleError(code: "card.justification-required", reason: "the express path needs the emergency's justification")
        }
        let card = try await load(id, on: db)
        try authorize(actor, .moveToExpress, card)
        guard ["ordered", "awaiting_documents", "awaiting_validation", "rejected", "validated", "in_manufacture"].contains(card.state) else {
            throw CardLifecycleError(code: "card.express-too-late", reason: "a card in state \(card.state) is past the point where express helps")
        }
        return try await CardRepository(database: db, clock: clock).update(
            id: id, actor: actor.auditName, action: "card.express", detail: justification
        ) { current, _ in
            var updated = current
            updated.express = true
            updated.expressJustification = justification
            if let validated = try? CivilDate(current.validatedOn ?? "") {
                updated.dueOn = self.settings.delay.deadline(validatedOn: validated, path: .express).due.description
            }
            return updated
        }
    }

    // MARK: Manufacture and delivery

    /// Personalises the card: two key pairs generated in a new software token, the
    /// authentication and signature certificates, the card serial, PIN and PUK from the
    /// CSPRNG; the PIN letter and the card become two shipments with their own tracking
    /// numbers to the verified postal address. The platform keeps no PIN or PUK: only the
    /// sealed letter holds them.
    ///
    /// All records (card, certificates, shipments, audit) are written in one transaction; if
    /// it fails, the token and letter files are removed: no half-made card remains.
    public func manufacture(_ id: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let run = await manufacture([id], actor: actor, on: db)
        if let failure = run.failures.first { throw failure.error }
        guard let card = run.manufactured.first else { throw PersistenceError.notFound("card \(id)") }
        return card
    }

    /// What a production run made, and why the cards it did not make were refused.
    public struct ManufactureRun: Sendable {
        /// The cards made (shipped), in no particular order.
        public var manufactured: [CardRecord] = []
        /// The files not made, each with its error; nothing of them was written.
        public var failures: [(id: String, error: any Error)] = []

        /// Adds another run's outcome to this one.
        mutating func add(_ other: ManufactureRun) {
            manufactured += other.manufactured
            failures += other.failures
        }
    }

    /// A production run: manufactures many validated files as ``manufacture(_:actor:on:)``
    /// does one. Files are taken in batches (``CardServiceSettings/manufactureBatchSize``):
    /// a batch's files and holders are read at once, its cards personalised in parallel on
    /// every core, and the batch recorded in one transaction; three batches are in flight and
    /// the transactions of every run queue on one production line, so that the writes overlap
    /// the cryptography and the cores never wait on SQLite's lock. A card that cannot be made is
    /// reported with its error and leaves nothing behind; the others are made.
    public func manufacture(_ ids: [String], actor: CardActor, on db: any Database) async -> ManufactureRun {
        let batches = ids.chunked(by: max(1, settings.manufactureBatchSize))
        return await withTaskGroup(of: ManufactureRun.self) { group in
            var next = batches.makeIterator()
            for _ in 0..<3 {
                guard let batch = next.next() else { break }
                group.addTask { await self.manufactureBatch(batch, actor: actor, on: db) }
            }
            var run = ManufactureRun()
            for await partial in group {
                run.add(partial)
                if let batch = next.next() {
                    group.addTask { await self.manufactureBatch(batch, actor: actor, on: db) }
                }
            }
            return run
        }
    }

    /// A card about to be made: its file, what it carries, and its secrets.
    private struct Blank: Sendable {
        var card: CardRecord
        var kind: CardKind
        var personalisation: Personalisation
        var serial: String
        var cardTracking: String
        var letterTracking: String
        var pin: String
        var puk: String
    }

    /// A card made but not yet recorded: its records, and its token and PIN letter written
    /// under hidden pending names that neither the holder's tools nor the print service read.
    private struct Made: Sendable {
        var blank: Blank
        var record: CardRepository.Manufactured
        var pendingTokenURL: URL
        var tokenURL: URL
        var pendingLetterURL: URL
        var letterURL: URL

        /// Gives the token and the letter their real names.
        func putInPlace() throws {
            guard rename(pendingTokenURL.path, tokenURL.path) == 0 else {
                throw TokenError(code: "token.write-failed", reason: "the token of card \(blank.serial) cannot be put in place")
            }
            guard rename(pendingLetterURL.path, letterURL.path) == 0 else {
                throw CardLifecycleError(code: "card.letter-failed", reason: "the PIN letter of card \(blank.serial) cannot be put in place")
            }
        }

        /// Undoes ``putInPlace()`` after a failed transaction, keeping the files for a retry.
        func takeBack() {
            for (pending, placed) in [(pendingTokenURL, tokenURL), (pendingLetterURL, letterURL)]
            where FileManager.default.fileExists(atPath: placed.path) {
                _ = rename(placed.path, pending.path)
            }
        }

        /// Removes every file of the card.
        func discard() {
            for file in [pendingTokenURL, tokenURL, pendingLetterURL, letterURL] { try? FileManager.default.removeItem(at: file) }
        }
    }

    private func manufactureBatch(_ ids: ArraySlice<String>, actor: CardActor, on db: any Database) async -> ManufactureRun {
        var run = ManufactureRun()
        let blanks: [Blank]
        do {
            try prepareLetterFolder()
            (blanks, run.failures) = try await prepare(Array(ids), actor: actor, on: db)
        } catch {
            run.failures = ids.map { ($0, error) }
            return run
        }
        // The CPU-bound work (keys, signatures, the token's key derivations) and the files run
        // on every core, before the transaction, so that the transaction holds the write lock
        // only for the writes.
        var made: [Made] = []
        await withTaskGroup(of: (id: String, result: Result<Made, any Error>).self) { group in
            for blank in blanks {
                group.addTask { (blank.card.id, await Self.offPool { try self.craft(blank, actor: actor) }) }
            }
            for await (id, result) in group {
                switch result {
                case .success(let card): made.append(card)
                case .failure(let error): run.failures.append((id, error))
                }
            }
        }
        guard !made.isEmpty else { return run }
        let repository = CardRepository(database: db, clock: clock)
        let madeCards = made
        // One flush for the batch's tokens and letters, outside the production line and off
        // the threads that make cards.
        await withCheckedContinuation { continuation in
            Self.flushQueue.async {
                PrivateFile.flushAll()
                continuation.resume()
            }
        }
        do {
            try await productionLine.run { try await self.record(madeCards, repository: repository) }
            run.manufactured += made.map(\.record.card)
        } catch where made.count > 1 {
            // One card changed meanwhile, or one file could not be written: record each on its
            // own, so that the others are made.
            for card in made {
                do {
                    try await productionLine.run { try await self.record([card], repository: repository) }
                    run.manufactured.append(card.record.card)
                } catch {
                    card.discard()
                    run.failures.append((card.blank.card.id, error))
                }
            }
        } catch {
            for card in made { card.discard() }
            run.failures += made.map { ($0.blank.card.id, error) }
        }
        return run
    }

    /// Where production runs wait for their files to reach the disk.
    private static let flushQueue = DispatchQueue(label: "opencps.production.flush")

    /// Runs CPU-bound work on Dispatch's threads rather than Swift's cooperative pool, so
    /// that the pool stays free to resume the database's answers while cards are being made.
    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            craftQueues.next().async { continuation.resume(returning: Result { try work() }) }
        }
    }

    /// One serial queue (one thread) per core and one more: a card's making also waits on
    /// the file system, and the extra thread keeps the cores busy meanwhile.
    private static let craftQueues = RoundRobin((0...ProcessInfo.processInfo.activeProcessorCount).map {
        DispatchQueue(label: "opencps.production.craft.\($0)")
    })

    private func record(_ made: [Made], repository: CardRepository) async throws {
        let folders = [tokens.directory, letters]
        do {
            try await repository.recordManufactured(made.map(\.record)) {
                for card in made { try card.putInPlace() }
                // The files' content is on disk already; this makes their new names durable
                // before the cards are recorded.
                if let failure = PrivateFile.flushDirectories(folders) {
                    throw TokenError(code: "token.write-failed", reason: "the token and letter folders cannot be flushed: \(String(cString: strerror(failure)))")
                }
            }
        } catch {
            for card in made { card.takeBack() }
            throw error
        }
    }

    /// Reads a batch's files and holders, checks each file, and draws serials, tracking
    /// numbers, PINs and PUKs (serials and tracking numbers checked unused).
    private func prepare(_ ids: [String], actor: CardActor, on db: any Database) async throws -> ([Blank], [(id: String, error: any Error)]) {
        let repository = CardRepository(database: db, clock: clock)
        let cards = Dictionary(try await repository.cards(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let holders = try await RegistryRepository(database: db, clock: clock)
            .professionals(idNats: Array(Set(cards.values.map(\.idNat))))
        let professionals = Dictionary(holders.map { ($0.professional.idNat.value, $0.professional) }, uniquingKeysWith: { first, _ in first })
        var failures: [(id: String, error: any Error)] = []
        var ready: [(CardRecord, CardKind, Personalisation)] = []
        for id in ids {
            do {
                guard let card = cards[id] else { throw PersistenceError.notFound("card \(id)") }
                try authorize(actor, .transition(.startManufacture), card)
                guard card.state == CardState.validated.rawValue else {
                    throw CardLifecycleError(code: "card.transition-refused", reason: "a card is manufactured from state validated, not \(card.state)")
                }
                ready.append((card, try cardKind(card), try personalisation(of: card, holder: professionals[card.idNat])))
            } catch {
                failures.append((id, error))
            }
        }
        let serials = try await unused(count: ready.count, draw: { self.digits(10) }, taken: repository.takenSerials)
        let tracking = try await unused(count: ready.count * 2, draw: { self.settings.trackingPrefix + self.digits(12) }, taken: repository.takenTrackingNumbers)
        let blanks = ready.enumerated().map { index, item in
            Blank(card: item.0, kind: item.1, personalisation: item.2, serial: serials[index],
                  cardTracking: tracking[2 * index], letterTracking: tracking[2 * index + 1], pin: digits(4), puk: digits(8))
        }
        return (blanks, failures)
    }

    /// `count` distinct values from `draw` that `taken` says are unused.
    private func unused(count: Int, draw: () -> String, taken: ([String]) async throws -> Set<String>) async throws -> [String] {
        var values: [String] = []
        var seen: Set<String> = []
        while values.count < count {
            var candidates: [String] = []
            while candidates.count < count - values.count {
                let value = draw()
                if seen.insert(value).inserted { candidates.append(value) }
            }
            let used = try await taken(candidates)
            values += candidates.filter { !used.contains($0) }
        }
        return values
    }

    /// Makes one card: keys, certificates, the token (not yet in place).
    private func craft(_ blank: Blank, actor: CardActor) throws -> Made {
        let card = blank.card
        let personalisation = blank.personalisation
        let serial = blank.serial
        let expiry = card.temporary ? today.adding(days: settings.temporaryValidityDays) : settings.validity.expiry(from: today)
        let keys = try CardKeyRole.allCases.map { role in
            (role, try SoftwareSigningKey.generate(label: "card-\(serial)-\(role.rawValue)", algorithm: settings.keyAlgorithm))
        }
        let requests = keys.map { role, key in
            PKIService.IssuanceRequest(
                request: CardCertificateRequest(
                    givenName: personalisation.givenName, surname: personalisation.surname, idNat: card.idNat,
                    professionTitle: personalisation.title, structureName: personalisation.structureName,
                    structureIdentifier: personalisation.structureIdentifier, cardTypeCode: blank.kind.cardType.numericCode,
                    cardIssuerIdentifier: settings.cardIssuerIdentifier, cardSerialNumber: serial,
                    cardDomain: settings.cardDomain, publicKey: key.publicKey, notBefore: clock.now(),
                    notAfter: expiry.adding(days: 1).startOfDayUTC.addingTimeInterval(-1)),
                profile: role == .authentication ? .authentication : .signature)
        }
        let issued = try pki.sign(requests)
        let made = Made(
            blank: blank,
            record: CardRepository.Manufactured(
                card: try Self.shipped(card, serial: serial, expiry: expiry, issued: issued, personalisation: personalisation),
                expectedVersion: card.version, certificates: pki.stored(issued, requests: requests),
                shipments: [
                    CardShipment(trackingNumber: blank.cardTracking, cardID: card.id, kind: "card", address: personalisation.address, shippedAt: clock.now()),
                    CardShipment(trackingNumber: blank.letterTracking, cardID: card.id, kind: "pin_letter", address: personalisation.address, shippedAt: clock.now()),
                ],
                actor: actor.auditName,
                detail: "serial \(serial), shipped with tracking numbers \(blank.cardTracking) (card) and \(blank.letterTracking) (PIN letter)"),
            pendingTokenURL: tokens.directory.appendingPathComponent(".pending-\(serial).token"),
            tokenURL: tokens.url(cardSerial: serial),
            pendingLetterURL: letters.appendingPathComponent(".pending-\(serial)-lettre-code-porteur.txt"),
            letterURL: letters.appendingPathComponent("\(serial)-lettre-code-porteur.txt"))
        do {
            _ = try SoftwareToken.create(
                at: made.pendingTokenURL,
                publicData: CardPublicData(
                    cardSerial: serial, holderIdNat: card.idNat,
                    holderName: "\(personalisation.givenName) \(personalisation.surname)", kind: blank.kind.rawValue,
                    cardTypeCode: blank.kind.cardType.numericCode, expiresOn: expiry.description),
                keys: zip(keys, issued).map { ($0.0, $0.1, $1.pem) }, pin: blank.pin, puk: blank.puk,
                policy: settings.pinPolicy, kdf: tokens.kdf, random: random, durable: false)
            try Self.writeLetter(
                made.pendingLetterURL, serial: serial, holder: personalisation, address: personalisation.address,
                pin: blank.pin, puk: blank.puk, tracking: blank.letterTracking)
        } catch {
            made.discard()
            throw error
        }
        return made
    }

    /// The file once its card is made and shipped.
    private static func shipped(
        _ card: CardRecord, serial: String, expiry: CivilDate, issued: [IssuedCertificate], personalisation: Personalisation
    ) throws -> CardRecord {
        var updated = card
        updated.state = try CardState.validated.applying(.startManufacture).applying(.ship).rawValue
        updated.serial = serial
        updated.expiresOn = expiry.description
        updated.certificateIssuer = issued[0].issuerSlug
        updated.authenticationCertificate = issued[0].serialHex
        updated.signatureCertificate = issued[1].serialHex
        updated.shippingAddress = personalisation.address
        updated.contentDigest = personalisation.digest
        return updated
    }

    /// The carrier delivered the card.
    public func deliver(_ id: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        try await transition(id, .deliver, actor: actor, on: db)
    }

    /// The holder activates the card on receipt by presenting its PIN. A card that renews or
    /// reissues another supersedes it now (its certificates revoked as superseded): access is
    /// never cut before the new card works.
    public func activate(_ id: String, pin: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let card = try await load(id, on: db)
        try authorize(actor, .transition(.activate), card)
        _ = try CardState(rawValue: card.state).map { try $0.applying(.activate) }
        let result = try await presentPIN(card, pin: pin, actor: actor, on: db)
        guard result == .accepted else { throw Self.pinRefusal(result) }
        let active = try await transition(id, .activate, actor: actor, on: db)
        if let previousID = active.replacesCardID, let previous = try await CardRepository(database: db, clock: clock).card(id: previousID),
           ["delivered", "active", "suspended"].contains(previous.state) {
            try await retire(previous, transition: previous.state == "suspended" ? .revoke : .supersede, reason: .superseded,
                             detail: "superseded by card \(active.serial ?? active.id)", on: db)
        }
        return active
    }

    // MARK: PIN

    /// Presents the PIN to the card (3 tries, then blocked); the counters are written first.
    public func verifyPIN(_ id: String, pin: String, actor: CardActor, on db: any Database) async throws -> TokenSecretResult {
        let card = try await load(id, on: db)
        try authorize(actor, .transition(.activate), card)
        return try await presentPIN(card, pin: pin, actor: actor, on: db)
    }

    /// Changes the PIN.
    public func changePIN(_ id: String, current: String, new: String, actor: CardActor, on db: any Database) async throws -> TokenSecretResult {
        let card = try await load(id, on: db)
        try authorize(actor, .transition(.activate), card)
        let result = try token(card).changePIN(current: current, new: new)
        try await CardRepository(database: db, clock: clock).recordUse(cardID: id, actor: actor.auditName, action: "card.pin-change", detail: Self.describe(result))
        return result
    }

    /// Unblocks the PIN with the PUK; after the PUK's last try the card is dead and must be replaced.
    public func unblockPIN(_ id: String, puk: String, newPIN: String, actor: CardActor, on db: any Database) async throws -> TokenSecretResult {
        let card = try await load(id, on: db)
        try authorize(actor, .transition(.activate), card)
        let result = try token(card).unblock(puk: puk, newPIN: newPIN)
        try await CardRepository(database: db, clock: clock).recordUse(cardID: id, actor: actor.auditName, action: "card.pin-unblock", detail: Self.describe(result))
        return result
    }

    /// The token's counters.
    public func counters(_ id: String, actor: CardActor, on db: any Database) async throws -> CardSecretCounters {
        let card = try await load(id, on: db)
        try authorize(actor, .view, card)
        return try token(card).counters()
    }

    // MARK: Opposition, suspension, revocation

    /// Declares the card lost or stolen: blocked at once (its certificates revoked, visible on
    /// OCSP in the next response), then a replacement is ordered, waiting for its documents.
    /// - Returns: the opposed card and the replacement file.
    public func oppose(_ id: String, reason: String, actor: CardActor, on db: any Database) async throws -> (opposed: CardRecord, replacement: CardRecord) {
        let card = try await load(id, on: db)
        try authorize(actor, .declareOpposition, card)
        let opposed = try await transition(id, .oppose, actor: actor, detail: reason, on: db)
        try await revokeCertificates(opposed, reason: .keyCompromise, actor: actor, detail: "opposition: \(reason)", on: db)
        let replacement = try await orderReplacement(of: card, on: db)
        return (opposed, replacement)
    }

    /// Suspends a card on suspected misuse: its certificates are put on hold.
    public func suspend(_ id: String, reason: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let card = try await transition(id, .suspend, actor: actor, detail: reason, on: db)
        try await revokeCertificates(card, reason: .certificateHold, actor: actor, detail: reason, on: db)
        return card
    }

    /// Reinstates a suspended card: the holds are released.
    public func reinstate(_ id: String, reason: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let card = try await transition(id, .reinstate, actor: actor, detail: reason, on: db)
        for serial in [card.authenticationCertificate, card.signatureCertificate].compactMap({ $0 }) {
            _ = try await pki.releaseHold(issuer: card.certificateIssuer ?? "forte-personnes", serialHex: serial, actor: actor.auditName, detail: reason, on: db)
        }
        return card
    }

    /// Revokes a card for good, with its reason.
    public func revoke(_ id: String, reason: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let card = try await transition(id, .revoke, actor: actor, detail: reason, on: db)
        try await revokeCertificates(card, reason: .privilegeWithdrawn, actor: actor, detail: reason, on: db)
        return card
    }

    // MARK: Renewal and reissue

    /// Orders the renewal of a card (its holder, or the platform for a mass renewal). The new
    /// card supersedes the old one only once it is active.
    public func renew(_ id: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let card = try await load(id, on: db)
        guard ["delivered", "active", "suspended"].contains(card.state) else {
            throw CardLifecycleError(code: "card.not-renewable", reason: "a card in state \(card.state) is not renewed")
        }
        let repository = CardRepository(database: db, clock: clock)
        if let pending = try await repository.cards(idNat: card.idNat).first(where: { $0.replacesCardID == id && !["rejected", "opposed", "revoked", "expired", "superseded"].contains($0.state) }) {
            return pending
        }
        if case .holder = actor { try authorize(actor, .order, card) }
        return try await orderSuccessor(of: card, reason: "renewal", actor: actor, on: db)
    }

    /// Orders the renewal of every card in service expiring on or before `day` that has no
    /// renewal yet; returns the new files (validated when their order is automatic). The
    /// orders of each page of 500 cards are written in one transaction.
    /// - Parameter eachPage: called with each page's new files once they are stored.
    public func renewExpiring(
        onOrBefore day: CivilDate, limit: Int = 1_000, on db: any Database,
        eachPage: ([CardRecord]) async throws -> Void = { _ in }
    ) async throws -> [CardRecord] {
        let repository = CardRepository(database: db, clock: clock)
        var created: [CardRecord] = []
        var after: CardRecord?
        while created.count < limit {
            let page = try await repository.cardsExpiring(onOrBefore: day.description, limit: 500, after: after)
            guard let last = page.last else { break }
            after = last
            let renewed = try await repository.cardsWithSuccessor(among: page.map(\.id))
            let files = try page.filter { !renewed.contains($0.id) }.prefix(limit - created.count)
                .map { try successorFile(of: $0, reason: "renewal", actor: .platform) }
            try await repository.insert(files)
            created += files.map(\.card)
            try await eachPage(files.map(\.card))
        }
        return created
    }

    /// A renewal campaign: orders the renewal of the cards in service expiring on or before
    /// `day` (as ``renewExpiring(onOrBefore:limit:on:eachPage:)``) and manufactures the
    /// renewals validated at once, each page of orders going to production while the next
    /// is ordered. Renewals that wait for documents are ordered only.
    /// - Returns: the new files, and what production made of them.
    public func renewalCampaign(
        expiringOnOrBefore day: CivilDate, limit: Int, production actor: CardActor, on db: any Database
    ) async throws -> (orders: [CardRecord], production: ManufactureRun) {
        try await withThrowingTaskGroup(of: ManufactureRun.self) { group in
            var production = ManufactureRun()
            var pagesInProduction = 0
            let orders = try await renewExpiring(onOrBefore: day, limit: limit, on: db) { page in
                let validated = page.filter { $0.state == CardState.validated.rawValue }.map(\.id)
                group.addTask { await self.manufacture(validated, actor: actor, on: db) }
                pagesInProduction += 1
                // Ordering runs ahead of production by two pages at most.
                if pagesInProduction > 2, let made = try await group.next() {
                    production.add(made)
                    pagesInProduction -= 1
                }
            }
            for try await made in group { production.add(made) }
            return (orders, production)
        }
    }

    /// After a change in the registry, orders a new card for every card in service whose
    /// content (name, profession, structure) no longer matches; the old one keeps working
    /// until the new one is active.
    public func reissueAfterRegistryChange(of idNat: IdNat, on db: any Database) async throws -> [CardRecord] {
        let repository = CardRepository(database: db, clock: clock)
        var reissued: [CardRecord] = []
        for card in try await repository.cards(idNat: idNat.value) where ["delivered", "active"].contains(card.state) {
            let current = try await personalise(card, on: db)
            guard current.digest != card.contentDigest else { continue }
            let successors = try await repository.cards(idNat: card.idNat).filter {
                $0.replacesCardID == card.id && !["rejected", "opposed", "revoked", "expired", "superseded"].contains($0.state)
            }
            guard successors.isEmpty else { continue }
            reissued.append(try await orderSuccessor(of: card, reason: "reissue", actor: .platform, on: db))
        }
        return reissued
    }

    /// Issues a temporary card (short validity, internal use) for a holder whose card was
    /// opposed, ordered and validated by the manager of the establishment.
    public func issueTemporaryCard(for opposedID: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let opposed = try await load(opposedID, on: db)
        guard opposed.state == "opposed" else {
            throw CardLifecycleError(code: "card.not-opposed", reason: "a temporary card stands in for an opposed card")
        }
        guard case .establishmentManager(let structure) = actor else {
            throw CardLifecycleError(code: "card.forbidden", reason: "only an establishment's manager issues temporary cards")
        }
        let card = CardRecord(
            id: UUID().uuidString.lowercased(), idNat: opposed.idNat, kind: CardKind.cpe.rawValue, orderMode: OrderMode.manual.rawValue,
            orderReason: "temporary", instance: ValidatingInstance.establishmentManager(structure).code,
            professionCode: opposed.professionCode, structureID: structure.idNatStruct, replacesCardID: nil, temporary: true, now: clock.now())
        try authorize(actor, .order, card)
        try await CardRepository(database: db, clock: clock).insert(card, actor: actor.auditName, detail: "temporary card while \(opposed.serial ?? opposed.id) is replaced")
        _ = try await transition(card.id, .submitForValidation, actor: actor, on: db)
        return try await transition(card.id, .validate, actor: actor, on: db) { record in
            record.validatedOn = self.today.description
            record.dueOn = self.today.description
        }
    }

    // MARK: Reminders, expiry and the overdue watch

    /// Puts the renewal reminders due today in the outbox: 3 months, 1 month and 1 week
    /// before expiry, each once per card, even across restarts (a unique key per card and kind).
    /// - Returns: how many were added.
    public func enqueueRenewalReminders(on db: any Database) async throws -> Int {
        let repository = CardRepository(database: db, clock: clock)
        let horizon = today.adding(months: 3)
        var added = 0
        var after: CardRecord?
        while true {
            let page = try await repository.cardsExpiring(onOrBefore: horizon.description, limit: 500, after: after)
            guard let last = page.last else { break }
            after = last
            for card in page {
                guard let expiry = try? CivilDate(card.expiresOn ?? "") else { continue }
                let sent = Set(try await repository.notifications(cardID: card.id).compactMap { RenewalReminder(notificationKind: $0.kind) })
                guard let reminder = RenewalSchedule(expiresOn: expiry).dueReminder(on: today, alreadySent: sent) else { continue }
                let message = "Votre carte \(card.kind) n° \(card.serial ?? "") expire le \(expiry.frenchDescription). Pensez à demander son renouvellement."
                if try await repository.enqueue(CardNotification(
                    id: UUID().uuidString.lowercased(), cardID: card.id, kind: reminder.notificationKind, recipient: card.idNat,
                    message: message, createdAt: ISO8601DateFormatter().string(from: clock.now()), sentAt: nil)) {
                    added += 1
                }
            }
        }
        return added
    }

    /// Files past their due date (validated or in manufacture), for the help desk; each is
    /// also put once in the outbox for the help desk.
    public func overdueFiles(on db: any Database) async throws -> [CardRecord] {
        let repository = CardRepository(database: db, clock: clock)
        let overdue = try await repository.cards(states: ["validated", "in_manufacture"], limit: 10_000).filter { card in
            guard let due = try? CivilDate(card.dueOn ?? "") else { return false }
            return due < today
        }
        for card in overdue {
            try await repository.enqueue(CardNotification(
                id: UUID().uuidString.lowercased(), cardID: card.id, kind: "overdue", recipient: "helpdesk",
                message: "Le dossier \(card.id) (\(card.kind), \(card.idNat)) a dépassé sa date prévue du \(card.dueOn ?? "").",
                createdAt: ISO8601DateFormatter().string(from: clock.now()), sentAt: nil))
        }
        return overdue
    }

    /// Expires every card in service whose last day of validity has passed.
    public func expireCards(on db: any Database) async throws -> Int {
        let repository = CardRepository(database: db, clock: clock)
        var count = 0
        for card in try await repository.cardsExpiring(onOrBefore: today.adding(days: -1).description, limit: 10_000) {
            _ = try await transition(card.id, .expire, actor: .platform, on: db)
            count += 1
        }
        return count
    }

    /// Why a file is stuck, in French, for the help desk.
    public func diagnosis(_ file: CardFile) -> String {
        let card = file.card
        switch card.state {
        case "ordered", "awaiting_documents":
            return file.missingDocuments.isEmpty
                ? "Dossier complet, en attente d'envoi à l'instance."
                : "Pièces manquantes : \(file.missingDocuments.map(\.frenchLabel).joined(separator: ", "))."
        case "awaiting_validation": return "En attente de validation par l'instance compétente (\(card.instance))."
        case "rejected": return "Dossier rejeté : \(card.rejectionReason ?? "motif non précisé"). Il peut être complété et renvoyé."
        case "validated", "in_manufacture":
            return file.isOverdue ? "En retard : la date prévue (\(card.dueOn ?? "")) est dépassée." : "En fabrication, date prévue le \(card.dueOn ?? "")."
        case "shipped": return "Expédiée : carte et lettre du code porteur envoyées séparément."
        case "delivered": return "Livrée, en attente d'activation par le porteur."
        default: return "Carte à l'état « \(CardState(rawValue: card.state)?.frenchLabel ?? card.state) »."
        }
    }

    // MARK: Internals

    private func orderSuccessor(of card: CardRecord, reason: String, actor: CardActor, on db: any Database) async throws -> CardRecord {
        let file = try successorFile(of: card, reason: reason, actor: actor)
        try await CardRepository(database: db, clock: clock).insert([file])
        return file.card
    }

    /// The file that renews or reissues a card, with its audit events. The card being renewed
    /// or reissued proves the file: it goes straight to validation when its order was
    /// automatic (or for a reissue), and waits for its documents otherwise.
    private func successorFile(of card: CardRecord, reason: String, actor: CardActor) throws -> (card: CardRecord, events: [AuditEvent]) {
        var successor = CardRecord(
            id: UUID().uuidString.lowercased(), idNat: card.idNat, kind: card.kind, orderMode: card.orderMode, orderReason: reason,
            instance: card.instance, professionCode: card.professionCode, structureID: card.structureID,
            replacesCardID: card.id, now: clock.now())
        var events = [AuditEvent(
            actor: actor.auditName, action: "card.order", entityType: "card", entityID: successor.id,
            afterDigest: successor.digest, detail: "\(reason) of card \(card.serial ?? card.id)")]
        guard card.orderMode == OrderMode.automatic.rawValue || reason == "reissue" else { return (successor, events) }
        var state = CardState.ordered
        for transition in [CardTransition.submitForValidation, .validate] {
            let before = successor.digest
            state = try state.applying(transition)
            successor.state = state.rawValue
            if transition == .validate {
                successor.validatedOn = today.description
                successor.dueOn = settings.delay.deadline(validatedOn: today, path: .standard).due.description
            }
            events.append(AuditEvent(
                actor: actor.auditName, action: "card.\(transition.rawValue)", entityType: "card", entityID: successor.id,
                beforeDigest: before, afterDigest: successor.digest))
        }
        return (successor, events)
    }

    /// The replacement file of an opposed card, ordered by the platform for the same kind,
    /// profession and structure: a manual order, whose documents are required again.
    private func orderReplacement(of card: CardRecord, on db: any Database) async throws -> CardRecord {
        let kind = try cardKind(card)
        let replacement = CardRecord(
            id: UUID().uuidString.lowercased(), idNat: card.idNat, kind: card.kind, orderMode: OrderMode.manual.rawValue,
            orderReason: "replacement",
            instance: try ValidatingInstance.competent(
                for: kind, profession: try card.professionCode.map { try Profession(code: $0) },
                structure: try card.structureID.flatMap { kind.isStaffCard ? try StructureIdentifier(idNatStruct: $0) : nil }).code,
            professionCode: card.professionCode, structureID: card.structureID, replacesCardID: card.id, now: clock.now())
        try await CardRepository(database: db, clock: clock).insert(replacement, actor: CardActor.platform.auditName)
        return replacement
    }

    private func transition(
        _ id: String, _ transition: CardTransition, actor: CardActor, detail: String? = nil, authorized: Bool = false,
        on db: any Database, change: @escaping @Sendable (inout CardRecord) -> Void = { _ in }
    ) async throws -> CardRecord {
        if !authorized, actor != .platform {
            try authorize(actor, .transition(transition), try await load(id, on: db))
        }
        return try await CardRepository(database: db, clock: clock).update(
            id: id, actor: actor.auditName, action: "card.\(transition.rawValue)", detail: detail
        ) { current, _ in
            guard let state = CardState(rawValue: current.state) else {
                throw PersistenceError.corrupt("card \(id)", "unknown state \(current.state)")
            }
            var updated = current
            updated.state = try state.applying(transition).rawValue
            change(&updated)
            return updated
        }
    }

    private func retire(_ card: CardRecord, transition: CardTransition, reason: RevocationReason, detail: String, on db: any Database) async throws {
        let retired = try await self.transition(card.id, transition, actor: .platform, detail: detail, on: db)
        try await revokeCertificates(retired, reason: reason, actor: .platform, detail: detail, on: db)
    }

    private func revokeCertificates(_ card: CardRecord, reason: RevocationReason, actor: CardActor, detail: String, on db: any Database) async throws {
        let issuer = card.certificateIssuer ?? IssuingCARole.fortePersonnes.slug
        for serial in [card.authenticationCertificate, card.signatureCertificate].compactMap({ $0 }) {
            do {
                _ = try await pki.revoke(issuer: issuer, serialHex: serial, reason: reason, actor: actor.auditName, detail: detail, on: db)
            } catch let error as PersistenceError where error.code == "certificate.already-revoked" {
                // Revoked for good already: nothing more to do.
            }
        }
    }

    private func presentPIN(_ card: CardRecord, pin: String, actor: CardActor, on db: any Database) async throws -> TokenSecretResult {
        let result = try token(card).verifyPIN(pin)
        try await CardRepository(database: db, clock: clock).recordUse(cardID: card.id, actor: actor.auditName, action: "card.pin-verify", detail: Self.describe(result))
        return result
    }

    private func token(_ card: CardRecord) throws -> SoftwareToken {
        guard let serial = card.serial else {
            throw CardLifecycleError(code: "card.not-manufactured", reason: "card file \(card.id) has no card yet")
        }
        return try tokens.open(cardSerial: serial)
    }

    private func load(_ id: String, on db: any Database) async throws -> CardRecord {
        guard let card = try await CardRepository(database: db, clock: clock).card(id: id) else {
            throw PersistenceError.notFound("card \(id)")
        }
        return card
    }

    private func assemble(_ card: CardRecord, on db: any Database) async throws -> CardFile {
        let repository = CardRepository(database: db, clock: clock)
        let documents = try await repository.documents(cardID: card.id)
        let missing = try await required(card, on: db)?.missing(from: documents.compactMap { DocumentKind(rawValue: $0.kind) }) ?? []
        let overdue = ["validated", "in_manufacture"].contains(card.state) && ((try? CivilDate(card.dueOn ?? "")).map { $0 < today } ?? false)
        return CardFile(card: card, documents: documents, shipments: try await repository.shipments(cardID: card.id),
                        missingDocuments: missing, isOverdue: overdue)
    }

    private func required(_ card: CardRecord, on db: any Database) async throws -> RequiredDocuments? {
        guard card.orderMode == OrderMode.manual.rawValue else { return nil }
        let professional = try await RegistryRepository(database: db, clock: clock).professional(try IdNat(card.idNat))?.professional
        let profession = try card.professionCode.map { try Profession(code: $0) }
        let mode = professional?.exercises.first { $0.profession == profession }?.activities.first?.mode ?? .salarie
        return RequiredDocuments(kind: try cardKind(card), profession: profession, mode: mode, orderMode: .manual, express: card.express)
    }

    private func requireComplete(_ card: CardRecord, on db: any Database) async throws {
        guard let required = try await required(card, on: db) else { return }
        let provided = try await CardRepository(database: db, clock: clock).documents(cardID: card.id).compactMap { DocumentKind(rawValue: $0.kind) }
        try required.checkComplete(provided: provided)
    }

    private func context(_ card: CardRecord) throws -> CardContext {
        CardContext(holder: try IdNat(card.idNat), kind: try cardKind(card), instance: try ValidatingInstance(code: card.instance))
    }

    private func authorize(_ actor: CardActor, _ action: CardAction, _ card: CardRecord, orAlso alternative: CardAction? = nil) throws {
        let context = try context(card)
        if let alternative, CardAuthorization.isAllowed(actor, alternative, on: context) { return }
        try CardAuthorization.check(actor, action, on: context)
    }

    private func cardKind(_ card: CardRecord) throws -> CardKind {
        guard let kind = CardKind(rawValue: card.kind) else {
            throw PersistenceError.corrupt("card \(card.id)", "unknown kind \(card.kind)")
        }
        return kind
    }

    /// What the card carries, from the registry.
    struct Personalisation: Sendable {
        var givenName: String
        var surname: String
        var title: String
        var structureName: String
        var structureIdentifier: String
        var address: String

        var digest: String {
            SHA256.hash(data: Data("\(givenName)|\(surname)|\(title)|\(structureName)|\(structureIdentifier)".utf8)).hexString
        }
    }

    private func personalise(_ card: CardRecord, on db: any Database) async throws -> Personalisation {
        let holder = try await RegistryRepository(database: db, clock: clock).professional(try IdNat(card.idNat))?.professional
        return try personalisation(of: card, holder: holder)
    }

    private func personalisation(of card: CardRecord, holder: Professional?) throws -> Personalisation {
        let idNat = try IdNat(card.idNat)
        guard let professional = holder else { throw PersistenceError.notFound("professional \(idNat)") }
        let exercise = professional.exercises.first { $0.profession.code == card.professionCode } ?? professional.exercises.first
        let activities = exercise?.activities ?? []
        let activity = activities.first { $0.structure?.idNatStruct == card.structureID } ?? activities.first
        guard let activity, let address = activity.address, let postalCode = address.postalCode, let city = address.city else {
            throw CardLifecycleError(
                code: "card.no-postal-address",
                reason: "\(idNat) has no verified postal address in the registry: the card cannot be shipped")
        }
        let structureName = activity.structureName ?? "\(professional.lastName) \(professional.firstName)"
        return Personalisation(
            givenName: professional.firstName, surname: professional.lastName,
            title: exercise?.profession.label ?? CardKind(rawValue: card.kind)?.frenchLabel ?? card.kind,
            structureName: structureName, structureIdentifier: activity.structure?.idNatStruct ?? card.structureID ?? idNat.value,
            address: [professional.firstName + " " + professional.lastName, structureName, address.line, "\(postalCode) \(city)"]
                .compactMap { $0 }.joined(separator: ", "))
    }

    private static func firstStructure(_ professional: Professional, _ profession: Profession?) -> String? {
        let exercise = professional.exercises.first { $0.profession == profession } ?? professional.exercises.first
        return exercise?.activities.first?.structure?.idNatStruct
    }

    /// Decimal digits from the CSPRNG, without modulo bias.
    private func digits(_ count: Int) -> String {
        var result = ""
        while result.count < count {
            for byte in random.bytes(count * 2) where byte < 250 && result.count < count {
                result.append(Character(String(byte % 10)))
            }
        }
        return result
    }

    private static func writeLetter(_ url: URL, serial: String, holder: Personalisation, address: String, pin: String, puk: String, tracking: String) throws {
        let text = """
            OpenCPS — Lettre du code porteur (pli confidentiel)
            Envoi n° \(tracking)
            Destinataire : \(address)

            Madame, Monsieur,

            Voici les codes de votre carte n° \(serial). Ils vous sont adressés séparément de la carte.
            Conservez-les en lieu sûr et ne les communiquez à personne.

            Code porteur : \(pin)
            Code de déblocage : \(puk)

            Le code porteur vous sera demandé pour activer la carte à sa réception puis à chaque usage.
            Après trois codes porteur erronés, la carte se bloque : le code de déblocage permet alors
            de choisir un nouveau code porteur.

            """
        if let failure = PrivateFile.create(url, contents: Data(text.utf8)) {
            throw CardLifecycleError(code: "card.letter-failed", reason: "the PIN letter cannot be written to \(url.path): \(String(cString: strerror(failure)))")
        }
    }

    /// Creates the folder of PIN letters if needed.
    private func prepareLetterFolder() throws {
        do {
            try FileManager.default.createDirectory(at: letters, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CardLifecycleError(code: "card.letter-failed", reason: "the PIN letter folder \(letters.path) cannot be created")
        }
    }

    static func describe(_ result: TokenSecretResult) -> String {
        switch result {
        case .accepted: "accepted"
        case .wrong(let left): "wrong, \(left) tries left"
        case .pinBlocked: "PIN blocked"
        case .pukExhausted: "PUK exhausted"
        }
    }

    static func pinRefusal(_ result: TokenSecretResult) -> CardLifecycleError {
        switch result {
        case .accepted: CardLifecycleError(code: "card.pin-accepted", reason: "accepted")
        case .wrong(let left): CardLifecycleError(code: "card.pin-wrong", reason: "wrong PIN: \(left) tries left")
        case .pinBlocked: CardLifecycleError(code: "card.pin-blocked", reason: "the PIN is blocked: unblock it with the PUK")
        case .pukExhausted: CardLifecycleError(code: "card.puk-exhausted", reason: "the PUK is used up: the card must be replaced")
        }
    }
}

extension RenewalReminder {
    /// The outbox kind of a reminder: `renewal-m3`, `renewal-m1`, `renewal-w1`.
    var notificationKind: String { "renewal-\(key)" }

    init?(notificationKind: String) {
        guard notificationKind.hasPrefix("renewal-") else { return nil }
        self.init(rawValue: String(notificationKind.dropFirst("renewal-".count)))
    }
}

extension CivilDate {
    /// `24/11/2026`.
    var frenchDescription: String {
        String(format: "%02d/%02d/%04d", day, month, year)
    }
}

/// Hands out queues in turn.
private final class RoundRobin: @unchecked Sendable {
    private let queues: [DispatchQueue]
    private let lock = NSLock()
    // Guarded by lock.
    private var position = 0

    init(_ queues: [DispatchQueue]) {
        self.queues = queues
    }

    func next() -> DispatchQueue {
        lock.withLock {
            position = (position + 1) % queues.count
            return queues[position]
        }
    }
}
