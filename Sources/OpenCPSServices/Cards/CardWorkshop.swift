import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSTokens

/// The making of cards for ``CardProduction``: blanks drawn for a batch, each card crafted
/// (keys, certificates, token, PIN letter) under pending file names, and the batch recorded
/// with its files put in place inside the transaction.
struct CardWorkshop: Sendable {
    let core: CardCore

    /// A card about to be made: its file, what it carries, and its secrets.
    struct Blank: Sendable {
        var card: Card
        var personalisation: CardPersonalisation
        var serial: CardSerial
        var cardTracking: String
        var letterTracking: String
        var pin: String
        var puk: String
        /// The card's last day of validity.
        var expiresOn: CivilDate
        /// The serial numbers reserved for its certificates, recorded as intents before they are signed.
        var certificateSerials: [CardKeyRole: String]
    }

    /// Where a made card's token is: a software token file under a pending name, or a PKCS #11
    /// token already labelled with the card's serial (a label cannot be changed without wiping
    /// the token: such a token is wiped if its card is not recorded).
    enum MadeToken: Sendable {
        case file(pending: URL, placed: URL)
        case pkcs11(PKCS11CardPersonalisation)
    }

    /// A card made but not yet recorded: its records, and its token and PIN letter written
    /// under hidden pending names that neither the holder's tools nor the print service read.
    struct Made: Sendable {
        var blank: Blank
        var record: CardRepository.Manufactured
        var token: MadeToken
        var pendingLetterURL: URL
        var letterURL: URL

        /// The files to flush before the batch is recorded.
        var pendingFiles: [URL] {
            if case .file(let pending, _) = token { return [pending, pendingLetterURL] }
            return [pendingLetterURL]
        }

        /// Gives the token and the letter their real names.
        func putInPlace() throws {
            if case .file(let pending, let placed) = token, rename(pending.path, placed.path) != 0 {
                throw TokenError(code: "token.write-failed", reason: "the token of card \(blank.serial) cannot be put in place")
            }
            guard rename(pendingLetterURL.path, letterURL.path) == 0 else {
                throw CardLifecycleError(code: "card.letter-failed", reason: "the PIN letter of card \(blank.serial) cannot be put in place")
            }
        }

        /// Undoes ``putInPlace()`` after a failed transaction, keeping the files for a retry.
        func takeBack() {
            var files = [(pendingLetterURL, letterURL)]
            if case .file(let pending, let placed) = token { files.append((pending, placed)) }
            for (pending, placed) in files where FileManager.default.fileExists(atPath: placed.path) {
                _ = rename(placed.path, pending.path)
            }
        }

        /// Removes every file of the card, and wipes its PKCS #11 token.
        func discard() {
            switch token {
            case .file(let pending, let placed):
                for file in [pending, placed] { try? FileManager.default.removeItem(at: file) }
            case .pkcs11(let personalisation):
                personalisation.discard()
            }
            for file in [pendingLetterURL, letterURL] { try? FileManager.default.removeItem(at: file) }
        }
    }

    /// Reads a batch's files and holders, checks each file, and draws serials, tracking
    /// numbers, PINs and PUKs (serials and tracking numbers checked unused).
    func prepare(_ ids: [String], actor: CardActor) async throws -> ([Blank], [(id: String, error: any Error)]) {
        let repository = core.cards
        let cards = Dictionary(try await repository.cards(ids: ids).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let holders = try await core.registry.professionals(idNats: Array(Set(cards.values.map(\.holder.value))))
        let professionals = Dictionary(holders.map { ($0.professional.idNat, $0.professional) }, uniquingKeysWith: { first, _ in first })
        // Staff cards name their structure as the registry has it (few per batch: read one by one).
        var structures: [StructureIdentifier: Structure] = [:]
        for identifier in Set(cards.values.filter(\.kind.isStaffCard).compactMap(\.structure)) {
            structures[identifier] = try await core.registry.structure(id: identifier.idNatStruct)
        }
        var failures: [(id: String, error: any Error)] = []
        var ready: [(Card, CardPersonalisation)] = []
        for id in ids {
            do {
                guard let card = cards[id] else { throw PersistenceError.notFound("card \(id)") }
                try core.authorize(actor, .transition(.startManufacture), card)
                guard card.state == .validated else {
                    throw CardLifecycleError(code: "card.transition-refused", reason: "a card is manufactured from state validated, not \(card.state)")
                }
                ready.append((card, try CardPersonalisation(
                    card: card, holder: professionals[card.holder], structure: card.structure.flatMap { structures[$0] })))
            } catch {
                failures.append((id, error))
            }
        }
        let serials = try await unused(count: ready.count, draw: { core.digits(10) }, taken: repository.takenSerials)
        let tracking = try await unused(count: ready.count * 2, draw: { core.settings.trackingPrefix + core.digits(12) }, taken: repository.takenTrackingNumbers)
        let today = core.today
        let blanks = try ready.enumerated().map { index, item in
            Blank(card: item.0, personalisation: item.1, serial: try CardSerial(serials[index]),
                  cardTracking: tracking[2 * index], letterTracking: tracking[2 * index + 1], pin: core.digits(4), puk: core.digits(8),
                  expiresOn: item.0.temporary ? today.adding(days: core.settings.temporaryValidityDays) : core.settings.validity.expiry(from: today),
                  certificateSerials: Dictionary(uniqueKeysWithValues: CardKeyRole.allCases.map { ($0, core.pki.reserveSerial()) }))
        }
        return (blanks, failures)
    }

    /// Records the certificates of a batch as intents, committed before any is signed: if the
    /// process dies before the batch is recorded, each signed certificate is still known,
    /// revoked for OCSP, and put on the CRLs by the sweep (``CardRepair``).
    func recordIntents(_ blanks: [Blank]) async throws {
        let now = core.clock.now()
        let intents = blanks.flatMap { blank in
            CardKeyRole.allCases.compactMap { role in
                blank.certificateSerials[role].map { serial in
                    CertificateIntent(
                        issuer: IssuingCARole.fortePersonnes.slug, serial: serial,
                        profile: (role == .authentication ? CardCertificateProfile.authentication : .signature).rawValue,
                        idNat: blank.card.holder.value, cardSerial: blank.serial.value, notAfter: Self.notAfter(blank.expiresOn), intendedAt: now)
                }
            }
        }
        try await CertificateIntentRepository(database: core.database.independent, clock: core.clock).record(intents)
    }

    /// Abandons the intents of cards that will not be recorded (their files are discarded):
    /// their certificates, if signed, are revoked at once rather than at the next sweep.
    /// Best effort: what fails here, the sweep does later.
    func abandonIntents(of blanks: [Blank], reason: String) async {
        guard !blanks.isEmpty else { return }
        _ = try? await CertificateIntentRepository(database: core.database.independent, clock: core.clock)
            .sweep(intendedBefore: .distantPast, cardSerials: blanks.map(\.serial.value), actor: CardActor.platform.auditName, detail: reason)
    }

    /// A certificate's last second of validity: the end of the card's last day.
    static func notAfter(_ expiresOn: CivilDate) -> Date {
        expiresOn.adding(days: 1).startOfDayUTC.addingTimeInterval(-1)
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

    /// Makes one card: keys, certificates, the token and the letter (not yet in place).
    func craft(_ blank: Blank, actor: CardActor) throws -> Made {
        let settings = core.settings
        let card = blank.card
        let personalisation = blank.personalisation
        let serial = blank.serial
        let now = core.clock.now()
        let expiry = blank.expiresOn
        // On a PKCS #11 module the token is made first, since the keys are generated on it.
        let tokenInProgress = try core.pkcs11Cards?.personalise(
            cardSerial: serial.value, algorithm: settings.keyAlgorithm, pin: blank.pin, puk: blank.puk)
        let softwareKeys = tokenInProgress != nil ? [] : try CardKeyRole.allCases.map { role in
            (role, try SoftwareSigningKey.generate(label: "card-\(serial.value)-\(role.rawValue)", algorithm: settings.keyAlgorithm))
        }
        let publicKeys = tokenInProgress.map { made in CardKeyRole.allCases.compactMap { role in made.publicKeys[role].map { (role, $0) } } }
            ?? softwareKeys.map { ($0.0, $0.1.publicKey) }
        let requests = publicKeys.map { role, publicKey in
            PKIService.IssuanceRequest(
                request: CardCertificateRequest(
                    givenName: personalisation.givenName, surname: personalisation.surname, idNat: card.holder.value,
                    professionTitle: personalisation.title, structureName: personalisation.structureName,
                    structureIdentifier: personalisation.structureIdentifier, cardTypeCode: card.kind.cardType.numericCode,
                    cardIssuerIdentifier: settings.cardIssuerIdentifier, cardSerialNumber: serial.value,
                    cardDomain: settings.cardDomain, publicKey: publicKey, notBefore: now,
                    notAfter: Self.notAfter(expiry)),
                profile: role == .authentication ? .authentication : .signature, serialHex: blank.certificateSerials[role])
        }
        let issued: [IssuedCertificate]
        var shipped = card
        do {
            issued = try core.pki.sign(requests)
            try shipped.ship(
                CardManufacture(
                    serial: serial, expiresOn: expiry,
                    certificates: CardCertificates(issuer: issued[0].issuerSlug, authentication: issued[0].serialHex, signature: issued[1].serialHex),
                    shippingAddress: personalisation.address),
                contentDigest: personalisation.digest)
        } catch {
            tokenInProgress?.discard()
            throw error
        }
        let shippedAt = StoredTimestamp.string(now)
        let letter = PINLetter(cardSerial: serial, address: personalisation.address, trackingNumber: blank.letterTracking, pin: blank.pin, puk: blank.puk)
        let made = Made(
            blank: blank,
            record: CardRepository.Manufactured(
                card: shipped, expectedVersion: card.version, certificates: core.pki.stored(issued, requests: requests),
                shipments: [
                    CardShipment(trackingNumber: blank.cardTracking, cardID: card.id, kind: "card", address: personalisation.address, shippedAt: shippedAt),
                    CardShipment(trackingNumber: blank.letterTracking, cardID: card.id, kind: "pin_letter", address: personalisation.address, shippedAt: shippedAt),
                ],
                actor: actor.auditName,
                detail: "serial \(serial.value), shipped with tracking numbers \(blank.cardTracking) (card) and \(blank.letterTracking) (PIN letter)"),
            token: tokenInProgress.map { .pkcs11($0) }
                ?? .file(
                    pending: core.tokens.directory.appendingPathComponent(".pending-\(serial.value).token"),
                    placed: core.tokens.url(cardSerial: serial.value)),
            pendingLetterURL: core.letters.appendingPathComponent(".pending-" + letter.fileName),
            letterURL: core.letters.appendingPathComponent(letter.fileName))
        do {
            let publicData = CardPublicData(
                cardSerial: serial.value, holderIdNat: card.holder.value,
                holderName: "\(personalisation.givenName) \(personalisation.surname)", kind: card.kind.rawValue,
                cardTypeCode: card.kind.cardType.numericCode, expiresOn: expiry.description)
            switch made.token {
            case .pkcs11(let token):
                try token.finish(
                    publicData: publicData, certificates: Dictionary(uniqueKeysWithValues: zip(publicKeys, issued).map { ($0.0, $1.pem) }))
            case .file(let pending, _):
                _ = try SoftwareToken.create(
                    at: pending, publicData: publicData, keys: zip(softwareKeys, issued).map { ($0.0, $0.1, $1.pem) }, pin: blank.pin,
                    puk: blank.puk, policy: settings.pinPolicy, kdf: core.tokens.kdf, random: core.random, durable: false)
            }
            if let failure = PrivateFile.create(made.pendingLetterURL, contents: Data(letter.text.utf8)) {
                throw CardLifecycleError(
                    code: "card.letter-failed",
                    reason: "the PIN letter of card \(serial.value) cannot be written: \(String(cString: strerror(failure)))")
            }
        } catch {
            made.discard()
            throw error
        }
        return made
    }

    /// Records a batch: the cards, their certificates and shipments in one transaction, the
    /// files put in place (and their names made durable) before it commits.
    /// - Returns: the cards as stored.
    func record(_ made: [Made]) async throws -> [Card] {
        // A card made on a PKCS #11 module has no token file: only the letters' folder changes then.
        let folders = made.contains { if case .file = $0.token { true } else { false } } ? [core.tokens.directory, core.letters] : [core.letters]
        do {
            return try await core.cards.recordManufactured(made.map(\.record)) {
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

    /// Creates the folder of PIN letters if needed.
    func prepareLetterFolder() throws {
        do {
            try FileManager.default.createDirectory(at: core.letters, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CardLifecycleError(code: "card.letter-failed", reason: "the PIN letter folder cannot be created")
        }
    }

    /// Flushes the pending files of a batch to disk, off the threads that make cards and
    /// outside the production line.
    static func flush(_ made: [Made]) async throws {
        let files = made.flatMap(\.pendingFiles)
        let failure: Int32? = await withCheckedContinuation { continuation in
            flushQueue.async { continuation.resume(returning: PrivateFile.flush(files)) }
        }
        if let failure {
            throw TokenError(code: "token.write-failed", reason: "the batch's tokens and letters cannot be flushed: \(String(cString: strerror(failure)))")
        }
    }

    /// Where production runs wait for their files to reach the disk.
    private static let flushQueue = DispatchQueue(label: "opencps.production.flush")

    /// Runs CPU-bound work on Dispatch's threads rather than Swift's cooperative pool, so
    /// that the pool stays free to resume the database's answers while cards are being made.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            craftQueues.next().async { continuation.resume(returning: Result { try work() }) }
        }
    }

    /// One serial queue (one thread) per core and one more: a card's making also waits on
    /// the file system, and the extra thread keeps the cores busy meanwhile.
    private static let craftQueues = RoundRobin((0...ProcessInfo.processInfo.activeProcessorCount).map {
        DispatchQueue(label: "opencps.production.craft.\($0)")
    })
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
