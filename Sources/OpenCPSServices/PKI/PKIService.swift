import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import X509

/// How the PKI publishes revocation information.
public struct RevocationPublishing: Sendable {
    /// How long a full or delta CRL is valid (its `nextUpdate`).
    public var crlValidity: TimeInterval
    /// How often a new base CRL is cut for delta CRLs.
    public var deltaBaseInterval: TimeInterval
    /// How long a signed OCSP response is valid (its `nextUpdate`).
    public var ocspValidity: TimeInterval
    /// How long this server reuses a signed response to the same request without a nonce.
    public var ocspReuse: TimeInterval
    /// The `max-age` given to HTTP caches for OCSP responses and CRLs; it always ends before `nextUpdate`.
    public var httpMaxAge: TimeInterval

    /// Creates the settings; the defaults are OpenCPS's own choices, not official figures.
    public init(
        crlValidity: TimeInterval = 6 * 3600, deltaBaseInterval: TimeInterval = 24 * 3600,
        ocspValidity: TimeInterval = 3600, ocspReuse: TimeInterval = 300, httpMaxAge: TimeInterval = 60
    ) {
        self.crlValidity = crlValidity
        self.deltaBaseInterval = deltaBaseInterval
        self.ocspValidity = ocspValidity
        self.ocspReuse = ocspReuse
        self.httpMaxAge = httpMaxAge
    }
}

/// A CRL as published: its DER and validity.
public struct PublishedCRL: Sendable {
    /// The DER encoding.
    public let der: [UInt8]
    /// Its CRL number.
    public let number: Int
    /// When it was issued.
    public let thisUpdate: Date
    /// When the next one is due at the latest.
    public let nextUpdate: Date
}

/// The PKI as the rest of the platform uses it: issues certificates (stored and audited),
/// revokes and holds them, answers OCSP and publishes full and delta CRLs.
///
/// A revocation reaches OCSP at once: the cached responses naming the serial are dropped
/// before `revoke` returns, and the CRLs are re-issued. Every status change raises the
/// revocation version in its transaction; other servers on the same PostgreSQL database hear
/// of it through ``revocationNoticed(_:)`` (see docs/operations.md, "Several nodes").
public final class PKIService: Sendable {
    /// The hierarchy served.
    public let hierarchy: PKIHierarchy
    /// The publishing settings.
    public let publishing: RevocationPublishing
    private let issuers: [String: CertificateIssuer]
    private let responders: [String: OCSPResponder]
    private let crlBuilders: [String: CRLBuilder]
    private let clock: any WallClock
    private let serials: SerialNumberGenerator
    private let cache = OCSPResponseCache()
    private let recorder: IssuanceRecorder
    private let published = PublishedCRLs()
    private let pendingCRLs = PendingPublications()
    private let database: ServiceDatabase
    private let rootCRLs: PreSignedRootCRLs?

    /// Creates the service.
    /// - Parameters:
    ///   - hierarchy: the CAs.
    ///   - database: where certificates, revocations and CRL numbers are stored.
    ///   - keyStore: where their keys are.
    ///   - clock: the clock for issuance, responses and CRLs.
    ///   - random: the source of serial numbers.
    ///   - publishing: CRL and OCSP validity settings.
    ///   - commitGathering: how long an issuance transaction on an SQLite file waits for more
    ///     certificates under load (``CertificateGroupCommit/Gathering``).
    ///   - rootCRLs: the root's CRLs signed ahead of time by the offline step: the server then
    ///     never opens the root key. Nil: the root's CRLs are signed here with the root key
    ///     from `keyStore` (tests and tools that hold the whole hierarchy in memory).
    public init(
        hierarchy: PKIHierarchy, keyStore: any KeyStore, database: ServiceDatabase, clock: any WallClock, random: RandomBytes = .system,
        publishing: RevocationPublishing = RevocationPublishing(), commitGathering: CertificateGroupCommit.Gathering = .default,
        rootCRLs: PreSignedRootCRLs? = nil
    ) throws {
        self.hierarchy = hierarchy
        self.database = database
        self.clock = clock
        self.publishing = publishing
        self.serials = SerialNumberGenerator(random: random)
        self.recorder = IssuanceRecorder(clock: clock, gathering: commitGathering)
        var issuers: [String: CertificateIssuer] = [:]
        var responders: [String: OCSPResponder] = [:]
        var builders: [String: CRLBuilder] = [:]
        for authority in hierarchy.issuingAuthorities {
            issuers[authority.slug] = try CertificateIssuer(
                authority: authority, signingKey: authority.ca.signingKey(in: keyStore),
                countryName: hierarchy.configuration.countryName)
            responders[authority.slug] = try OCSPResponder(
                authority: authority, keyStore: keyStore, validity: publishing.ocspValidity)
            builders[authority.slug] = try CRLBuilder(issuer: authority.ca, signingKey: authority.ca.signingKey(in: keyStore))
        }
        if rootCRLs == nil {
            builders[hierarchy.root.slug] = try CRLBuilder(issuer: hierarchy.root, signingKey: hierarchy.root.signingKey(in: keyStore))
        }
        self.rootCRLs = rootCRLs
        self.issuers = issuers
        self.responders = responders
        self.crlBuilders = builders
    }

    // MARK: Issuance

    /// One certificate to issue.
    public struct IssuanceRequest: Sendable {
        /// The holder, card and key.
        public var request: CardCertificateRequest
        /// Authentication or signature.
        public var profile: CardCertificateProfile
        /// Which issuing CA.
        public var authority: IssuingCARole
        /// The serial number reserved for it (``reserveSerial()``) and recorded as an intent
        /// before signing; nil: a new one is drawn when signing.
        public var serialHex: String?

        /// Creates a request.
        public init(
            request: CardCertificateRequest, profile: CardCertificateProfile, authority: IssuingCARole = .fortePersonnes, serialHex: String? = nil
        ) {
            self.request = request
            self.profile = profile
            self.authority = authority
            self.serialHex = serialHex
        }
    }

    /// A serial number for a certificate to be signed later, so that it can be recorded as an
    /// intent before the signature (``IssuanceRequest/serialHex``).
    public func reserveSerial() -> String {
        serials.next(at: clock.now()).hex
    }

    /// Issues certificates, stores them and audits each issuance, all in one transaction:
    /// either every certificate is recorded or none is.
    /// - Returns: the certificates, in the order asked.
    /// Concurrent callers share transactions (group commit); each returns once its own
    /// certificates are committed. The database handle is only asked for when it is needed:
    /// once an SQLite file's group commit is found, never (a handle costs a look-up per call).
    ///
    /// Every certificate is recorded as an intent before it is signed, as Boulder records its
    /// precertificates: should the process die between the signature and the commit, the
    /// serial is known, answers revoked on OCSP, and the sweep puts it on the CRLs.
    public func issue(_ requests: [IssuanceRequest], actor: String) async throws -> [IssuedCertificate] {
        let now = clock.now()
        for item in requests {
            guard let issuer = issuers[item.authority.slug] else { throw PKIError.invalidConfiguration("no issuing CA \(item.authority.slug)") }
            try issuer.check(item.request, now: now)
        }
        var reserved = requests
        for index in reserved.indices where reserved[index].serialHex == nil {
            reserved[index].serialHex = serials.next(at: now).hex
        }
        let intents = reserved.map { item in
            CertificateIntent(
                issuer: item.authority.slug, serial: item.serialHex!, profile: item.profile.rawValue, idNat: item.request.idNat,
                cardSerial: nil, notAfter: item.request.notAfter, intendedAt: now)
        }
        try await recorder.recordIntents(intents, on: { database.current })
        let issued: [IssuedCertificate]
        do {
            issued = try sign(reserved)
        } catch {
            // Nothing was signed, or what was is lost with this call: abandon the intents now
            // (best effort; the sweep does it otherwise), so that no serial stays open.
            _ = try? await CertificateIntentRepository(database: database.current, clock: clock).abandon(
                intents, actor: actor, detail: "its signature failed")
            throw error
        }
        try await recorder.record(stored(issued, requests: reserved).map { ($0, actor) }, on: { database.current })
        return issued
    }

    /// Signs certificates without storing them: the CPU-bound half of issuance, to run
    /// outside a transaction. Serial numbers begin with the millisecond of issuance and carry
    /// 80 random bits (``SerialNumberGenerator/next(at:)``: positive, 16 bytes); the primary
    /// key of the certificates table refuses the impossible collision when recording.
    public func sign(_ requests: [IssuanceRequest]) throws -> [IssuedCertificate] {
        let now = clock.now()
        return try requests.map { item in
            guard let issuer = issuers[item.authority.slug] else {
                throw PKIError.invalidConfiguration("no issuing CA \(item.authority.slug)")
            }
            let serial = item.serialHex.flatMap(Certificate.SerialNumber.init(hex:)) ?? serials.next(at: now)
            return try issuer.issue(item.request, profile: item.profile, now: now, serial: serial)
        }
    }

    /// The records of signed certificates, as they are stored: ``issue(_:actor:)`` stores
    /// them itself; a caller that signs with ``sign(_:)`` stores them in its own transaction.
    public func stored(_ issued: [IssuedCertificate], requests: [IssuanceRequest]) -> [StoredCertificate] {
        let now = clock.now()
        return zip(issued, requests).map { certificate, item in
            StoredCertificate(
                issuer: item.authority.slug, serial: certificate.serialHex, profile: item.profile.rawValue,
                subject: certificate.subject, idNat: item.request.idNat, cardSerial: item.request.cardSerialNumber,
                notBefore: certificate.notBefore, notAfter: certificate.notAfter, issuedAt: now, der: certificate.der)
        }
    }

    // MARK: Revocation

    /// Revokes a certificate (or holds it, with `.certificateHold`) in the caller's transaction
    /// if there is one; once it commits, the kept OCSP answers naming the certificate are
    /// dropped and the CRLs re-published. When the outermost transaction returns, OCSP answers
    /// with the new status.
    public func revoke(
        issuer slug: String, serialHex: String, reason: RevocationReason, actor: String, detail: String? = nil
    ) async throws -> CertificateView {
        guard reason != .removeFromCRL else {
            throw PKIError(code: "pki.revocation-reason", reason: "removeFromCRL is not a revocation reason; release the hold instead")
        }
        return try await changeStatus(slug, serialHex) { repository in
            try await repository.revoke(issuer: slug, serial: serialHex, reason: reason.rawValue, at: self.clock.now(), actor: actor, detail: detail)
        }
    }

    /// Releases a hold, as ``revoke(issuer:serialHex:reason:actor:detail:)`` revokes.
    public func releaseHold(
        issuer slug: String, serialHex: String, actor: String, detail: String? = nil
    ) async throws -> CertificateView {
        try await changeStatus(slug, serialHex) { repository in
            try await repository.releaseHold(issuer: slug, serial: serialHex, at: self.clock.now(), actor: actor, detail: detail)
        }
    }

    /// Writes a status change in a transaction and, once it has committed, drops the kept
    /// answers and publishes the CRLs: an answer read before the commit is never kept after it.
    private func changeStatus(
        _ slug: String, _ serialHex: String, _ write: @escaping @Sendable (CertificateRepository) async throws -> StoredCertificate
    ) async throws -> CertificateView {
        try await database.transaction { database in
            let certificate = try await write(CertificateRepository(database: database, clock: self.clock))
            let version = try await RevocationVersionRepository(database: database).raise(issuer: slug, serial: serialHex)
            await self.database.afterCommit {
                self.cache.invalidate(issuer: slug, serialHex: serialHex, version: version)
                await self.republishCRL(slug)
            }
            return CertificateView(certificate)
        }
    }

    /// Publishes a CA's CRLs after a change; on failure the current ones are forgotten, so that
    /// the next CRL asked for is issued anew (the change is stored and OCSP says so).
    private func republishCRL(_ slug: String) async {
        do {
            try await publishCRL(slug)
        } catch {
            published.markStale(slug)
        }
    }

    // MARK: Several servers

    /// A status change made by any server on this database (a PostgreSQL notification, heard
    /// after its commit): drops the kept answers naming the certificate and re-publishes the CA's
    /// CRLs, so that this server's CRL lists the change within the time of one publication.
    /// The kept answers are dropped before this returns; the publication runs on its own task.
    public func revocationNoticed(_ notice: RevocationNotice) {
        cache.invalidate(issuer: notice.issuer, serialHex: notice.serial, version: notice.version)
        let slug = notice.issuer
        guard crlBuilders[slug] != nil, pendingCRLs.begin(slug) else { return }
        Task {
            repeat {
                await self.republishCRL(slug)
            } while self.pendingCRLs.again(slug)
        }
    }

    /// Stops keeping and serving OCSP answers: changes made by other servers may go unheard
    /// (the notification connection is down). Every answer is signed from the database until
    /// ``resumeKeptAnswers(at:)``.
    public func suspendKeptAnswers() {
        cache.suspend()
    }

    /// Keeps and serves OCSP answers again, once notifications are heard and the revocation
    /// version has been read anew (after they were, so that no change falls between).
    public func resumeKeptAnswers(at version: UInt64) {
        cache.resume(at: version)
    }

    /// Whether kept OCSP answers are served (false while notifications may be missed).
    public var keepsAnswers: Bool { cache.isLive }

    /// A certificate this PKI issued, with its status.
    /// - Throws: `registry.not-found` when no such certificate was issued here.
    public func certificate(issuer slug: String, serialHex: String) async throws -> CertificateView {
        guard let stored = try await CertificateRepository(database: database.current, clock: clock)
            .certificate(issuer: slug, serial: serialHex) else {
            throw PersistenceError.notFound("certificate \(slug)/\(serialHex)")
        }
        return CertificateView(stored)
    }

    // MARK: OCSP

    /// Whether this server answers OCSP for a CA slug.
    public func servesOCSP(_ slug: String) -> Bool {
        // Asks the keys: `responders[slug] != nil` copied a whole responder out and back.
        responders.keys.contains(slug)
    }

    /// The answer kept for this exact request (without nonce), if a fresh one is kept: no
    /// signature and no database, for the server's fast path.
    public func cachedOCSPAnswer(slug: String, request: [UInt8]) -> OCSPResponderResult? {
        guard servesOCSP(slug) else { return nil }
        return cache.response(for: request, now: clock.now())
    }

    /// Answers an OCSP request for the CA `slug`; nil when no such CA is served here.
    public func answerOCSP(slug: String, request: [UInt8]) async -> OCSPResponderResult? {
        guard let responder = responders[slug] else { return nil }
        let now = clock.now()
        if let cached = cache.response(for: request, now: now) { return cached }
        // The version is read before the status, so that the status reflects every change up
        // to it; when it cannot be read the answer is given but not kept.
        let handle = database.current
        let version = try? await RevocationVersionRepository(database: handle).current()
        let repository = CertificateRepository(database: handle, clock: clock)
        let result = await responder.respond(to: request, now: now) { serial in
            let state = try await repository.status(issuer: slug, serial: serial.hex)
            guard state.issued else { return .unknown }
            let record = state.revocation.flatMap { revocation in
                RevocationReason(rawValue: revocation.reason).map {
                    RevocationRecord(serialNumber: serial, revokedAt: revocation.revokedAt, reason: $0, releasedAt: revocation.releasedAt)
                }
            }
            return OCSPCertificateStatus.from(record, at: now)
        }
        if result.status == .successful, !result.hasNonce, let nextUpdate = result.nextUpdate, let version {
            cache.store(
                result, for: request, issuer: slug, expires: min(nextUpdate, now.addingTimeInterval(publishing.ocspReuse)),
                readAt: version)
        }
        return result
    }

    // MARK: CRLs

    /// The current full or delta CRL of a CA (the root publishes a full CRL only), issuing a
    /// new one first when none was published yet or the current one is past half its validity.
    /// - Returns: nil when the CA is not served here (or, for `delta`, is the root).
    public func currentCRL(slug: String, delta: Bool) async throws -> PublishedCRL? {
        if slug == hierarchy.root.slug, let rootCRLs {
            return delta ? nil : try rootCRLs.current(at: clock.now())
        }
        guard crlBuilders[slug] != nil else { return nil }
        let now = clock.now()
        if let current = published.get(slug, delta: false),
           now.timeIntervalSince(current.thisUpdate) < publishing.crlValidity / 2 {
            return published.get(slug, delta: delta)
        }
        try await publishCRL(slug)
        return published.get(slug, delta: delta)
    }

    /// Issues new CRLs for every CA: what the schedule and start-up call.
    public func publishAllCRLs() async throws {
        for slug in crlBuilders.keys.sorted() {
            try await publishCRL(slug)
        }
    }

    /// Issues a new full CRL for a CA and, for an issuing CA, a delta CRL against the current
    /// base (a new base is cut when the last one is older than `deltaBaseInterval`).
    public func publishCRL(_ slug: String) async throws {
        guard let builder = crlBuilders[slug] else { return }
        let now = clock.now()
        let repository = CertificateRepository(database: database.current, clock: clock)
        let records = try await repository.revocations(issuer: slug).compactMap { stored -> RevocationRecord? in
            guard let serial = Certificate.SerialNumber(hex: stored.serial), let reason = RevocationReason(rawValue: stored.reason) else {
                return nil
            }
            return RevocationRecord(serialNumber: serial, revokedAt: stored.revokedAt, reason: reason, releasedAt: stored.releasedAt)
        }
        let nextUpdate = now.addingTimeInterval(publishing.crlValidity)
        let isRoot = slug == hierarchy.root.slug
        let fullNumber = try await repository.nextCRLNumber(issuer: slug)
        let full = try builder.fullCRL(
            entries: RevocationRecord.fullCRLEntries(records, at: now), crlNumber: fullNumber, thisUpdate: now,
            nextUpdate: nextUpdate, freshestCRLURL: isRoot ? nil : hierarchy.configuration.urls(for: slug).deltaCRL)
        let fullCRL = PublishedCRL(der: full, number: fullNumber, thisUpdate: now, nextUpdate: nextUpdate)
        guard !isRoot else {
            published.set(slug, full: fullCRL, delta: nil, base: nil)
            return
        }
        var base = published.base(slug)
        if base == nil || now.timeIntervalSince(base!.thisUpdate) >= publishing.deltaBaseInterval {
            base = fullCRL
        }
        let deltaNumber = try await repository.nextCRLNumber(issuer: slug)
        let delta = try builder.deltaCRL(
            entries: RevocationRecord.deltaCRLEntries(records, since: base!.thisUpdate, at: now), crlNumber: deltaNumber,
            baseCRLNumber: base!.number, thisUpdate: now, nextUpdate: nextUpdate)
        published.set(
            slug, full: fullCRL, delta: PublishedCRL(der: delta, number: deltaNumber, thisUpdate: now, nextUpdate: nextUpdate),
            base: base)
    }
}

/// The CRLs currently published, per CA.
private final class PublishedCRLs: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by lock.
    private var full: [String: PublishedCRL] = [:]
    private var delta: [String: PublishedCRL] = [:]
    private var bases: [String: PublishedCRL] = [:]

    func get(_ slug: String, delta isDelta: Bool) -> PublishedCRL? {
        lock.withLock { isDelta ? delta[slug] : full[slug] }
    }

    func base(_ slug: String) -> PublishedCRL? {
        lock.withLock { bases[slug] }
    }

    /// Forgets a CA's current CRLs, so that the next one asked for is issued anew.
    func markStale(_ slug: String) {
        lock.withLock {
            full[slug] = nil
            delta[slug] = nil
        }
    }

    func set(_ slug: String, full newFull: PublishedCRL, delta newDelta: PublishedCRL?, base: PublishedCRL?) {
        lock.withLock {
            // Two publications may race; the higher CRL number wins.
            if let current = full[slug], current.number > newFull.number { return }
            full[slug] = newFull
            delta[slug] = newDelta
            bases[slug] = base
        }
    }
}

/// CAs whose CRLs are being re-published after notices: notices arriving during a publication
/// cause one more publication, not one each.
private final class PendingPublications: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by lock: slug → whether another publication was asked for while one runs.
    private var running: [String: Bool] = [:]

    /// True when the caller is to publish; false when a running publication will run again.
    func begin(_ slug: String) -> Bool {
        lock.withLock {
            if running[slug] != nil {
                running[slug] = true
                return false
            }
            running[slug] = false
            return true
        }
    }

    /// Whether to publish again (a notice came during the publication); ends the run if not.
    func again(_ slug: String) -> Bool {
        lock.withLock {
            if running[slug] == true {
                running[slug] = false
                return true
            }
            running[slug] = nil
            return false
        }
    }
}
