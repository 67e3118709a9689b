import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// Ordering a card and validating its file (DESIGN.md §1): the automatic order that follows
/// an order's registration, manual applications with their documents, submission to the
/// competent instance, and the instance's decision.
public final class CardOrdering: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// The automatic order that follows an order's registration of an ordinal professional:
    /// the registration is the validation, so the file is validated at once. Nothing is
    /// ordered when the professional already has a card or a file in progress for that profession.
    /// - Returns: the new file, or nil when none was needed.
    @discardableResult
    public func orderAutomatically(for professional: Professional, professionCode: String) async throws -> Card? {
        guard let exercise = professional.exercises.first(where: { $0.profession.code == professionCode }),
              let ordre = exercise.profession.ordre, exercise.registration != nil else { return nil }
        return try await core.database.transaction { _ in
            let existing = try await self.core.cards.cards(holder: professional.idNat)
            guard !existing.contains(where: { $0.profession == exercise.profession && !$0.isClosed }) else { return nil }
            let actor = CardActor.ordre(ordre)
            var order = Card(
                id: self.core.newFileID(), holder: professional.idNat, kind: .cps,
                order: CardOrder(mode: .automatic, reason: .first, instance: .ordre(ordre)),
                profession: exercise.profession, structure: exercise.activities.first?.structure, createdAt: self.core.clock.now())
            try self.core.authorize(actor, .order, order)
            // The registration is the validation: the file is stored ordered, submitted and
            // validated, each step with its own audit entry.
            var events = [AuditEvent(
                actor: actor.auditName, action: "card.order", entityType: "card", entityID: order.id,
                afterDigest: CardRepository.digest(of: order),
                detail: "automatic CPS order after registration with \(ordre.abbreviation)")]
            for transition in [CardTransition.submitForValidation, .validate] {
                let before = CardRepository.digest(of: order)
                if transition == .validate {
                    try order.validate(on: self.core.today, delay: self.core.settings.delay)
                } else {
                    try order.apply(transition)
                }
                events.append(AuditEvent(
                    actor: actor.auditName, action: "card.\(transition.rawValue)", entityType: "card", entityID: order.id,
                    beforeDigest: before, afterDigest: CardRepository.digest(of: order)))
            }
            try await self.core.cards.insert([(order, events)])
            return order
        }
    }

    /// A manual application (non-ordinal professions, staff cards ordered by their manager,
    /// managers' cards): the file waits for its documents.
    public func apply(
        idNat: IdNat, kind: CardKind, professionCode: String?, structureID: String?, actor: CardActor,
        reason: OrderReason = .first, replacing: String? = nil
    ) async throws -> Card {
        guard let stored = try await core.registry.professional(idNat) else {
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
        let card = Card(
            id: core.newFileID(), holder: idNat, kind: kind,
            order: CardOrder(
                mode: OrderMode(kind: kind, profession: profession, registration: registration), reason: reason,
                instance: instance, replaces: replacing),
            profession: profession, structure: structure ?? Self.firstStructure(stored.professional, profession),
            createdAt: core.clock.now())
        try core.authorize(actor, .order, card)
        try CardAuthorization.checkStaff(actor, holder: stored.professional)
        try await core.cards.insert(card, actor: actor.auditName)
        return card
    }

    /// The structure of the holder's first activity in the profession (or in any).
    private static func firstStructure(_ professional: Professional, _ profession: Profession?) -> StructureIdentifier? {
        let exercise = professional.exercises.first { $0.profession == profession } ?? professional.exercises.first
        return exercise?.activities.first?.structure
    }

    /// Refuses an actor who may not add documents to the file, before its upload is read: who
    /// asks is settled before anything else is answered.
    public func authorizeDocuments(to id: String, actor: CardActor) async throws {
        try core.authorize(actor, .transition(.submitDocuments), try await core.load(id), orAlso: .order)
    }

    /// Adds a document to a file that is still being put together (ordered, awaiting
    /// documents, or rejected): its type and size are checked, its SHA-256 kept.
    public func addDocument(
        to id: String, kind: DocumentKind, mediaType: String, content: [UInt8], actor: CardActor
    ) async throws -> CardDocument {
        let card = try await core.load(id)
        try core.authorize(actor, .transition(.submitDocuments), card, orAlso: .order)
        guard card.acceptsDocuments else {
            throw CardLifecycleError(code: "card.documents-closed", reason: "documents are added while the file is being put together, not in state \(card.state)")
        }
        let stored = try await core.cards.documents(cardID: id).count
        guard stored < core.settings.maximumDocumentsPerFile else {
            throw CardLifecycleError(
                code: "card.documents-too-many",
                reason: "a file holds at most \(core.settings.maximumDocumentsPerFile) documents; it has \(stored)")
        }
        let normalised = try core.settings.documentPolicy.check(mediaType: mediaType, byteCount: content.count, leadingBytes: Array(content.prefix(8)))
        let document = CardDocument(
            id: core.newFileID(), cardID: id, kind: kind.rawValue, mediaType: normalised, byteCount: content.count,
            sha256: SHA256.hash(data: content).hexString,
            uploadedAt: ISO8601DateFormatter().string(from: core.clock.now()), uploadedBy: actor.auditName)
        try await core.cards.addDocument(document, content: content, actor: actor.auditName)
        return document
    }

    /// Sends a complete file to its instance (from `ordered`, `awaiting_documents` or, after a
    /// rejection, as a resubmission).
    public func submit(_ id: String, actor: CardActor) async throws -> Card {
        // The stored state says which submission this is; the transition authorises it before
        // the file's completeness is looked at.
        let submission = try await core.load(id).submission
        return try await core.transition(id, submission, actor: actor) { card in
            try await self.core.requireComplete(card)
        }
    }

    /// The instance asks for more documents.
    public func requestDocuments(_ id: String, reason: String, actor: CardActor) async throws -> Card {
        try await core.transition(id, .requestDocuments, actor: actor, detail: reason)
    }

    /// The instance validates a complete file: the due date runs from today.
    public func validate(_ id: String, actor: CardActor) async throws -> Card {
        try await core.change(id, actor: actor, authorizing: .transition(.validate), auditAction: "card.validate") { card in
            try await self.core.requireComplete(card)
            try card.validate(on: self.core.today, delay: self.core.settings.delay)
        }
    }

    /// The instance rejects the file, with its reason; the applicant may complete and resubmit it.
    public func reject(_ id: String, reason: String, actor: CardActor) async throws -> Card {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CardLifecycleError(code: "card.reason-required", reason: "a rejection says why")
        }
        return try await core.change(id, actor: actor, authorizing: .transition(.reject), auditAction: "card.reject", detail: reason) { card in
            try card.reject(reason: reason)
        }
    }
}
