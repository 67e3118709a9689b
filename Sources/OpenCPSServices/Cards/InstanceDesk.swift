import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// What an instance's staff need beyond one file at a time: the queue of files waiting for
/// its decision, a file's documents, and (for an establishment manager) the staff of the
/// structure with their cards. Every answer is scoped by ``CardAuthorization`` and, for a
/// regional agency, by the registry's regions, exactly as the single-file services are.
public final class InstanceDesk: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// A file in an instance's queue.
    public struct QueueItem: Sendable, Equatable {
        /// The file.
        public var card: Card
        /// Whether it is past its due date (validated, not yet made).
        public var isOverdue: Bool
    }

    /// The files the instance must look at: its files past their due date first (earliest
    /// due date first), then those waiting for its decision (oldest first).
    /// - Throws: ``CardLifecycleError`` `card.forbidden` for an actor that is no instance.
    public func queue(actor: CardActor) async throws -> [QueueItem] {
        try Self.requireInstance(actor)
        let today = core.today
        let repository = core.cards
        let late = try await repository.cards(states: [.validated, .inManufacture], limit: 10_000).filter { $0.isOverdue(on: today) }
        let waiting = try await repository.cards(states: [.awaitingValidation], limit: 10_000)
        let lateInScope = try await inScope(late, actor: actor).sorted { ($0.dueOn?.daysSinceEpoch ?? 0, $0.id) < ($1.dueOn?.daysSinceEpoch ?? 0, $1.id) }
        let waitingInScope = try await inScope(waiting, actor: actor).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return lateInScope.map { QueueItem(card: $0, isOverdue: true) } + waitingInScope.map { QueueItem(card: $0, isOverdue: false) }
    }

    /// One document of a file, with its content, for an actor allowed to see the file; the
    /// read is audited.
    /// - Throws: `registry.not-found` for an unknown file or document (or one of another
    ///   file), ``CardLifecycleError`` `card.forbidden` outside the actor's scope.
    public func document(_ documentID: String, of fileID: String, actor: CardActor) async throws -> (document: CardDocument, content: [UInt8]) {
        let card = try await core.load(fileID)
        try core.authorize(actor, .view, card)
        try await core.authorizeRegion(actor, card)
        guard let document = try await core.cards.documents(cardID: card.id).first(where: { $0.id == documentID }),
              let content = try await core.cards.documentContent(id: documentID) else {
            throw PersistenceError.notFound("document \(documentID)")
        }
        try await core.auditRead(card, actor: actor, what: "document \(documentID)")
        return (document, content)
    }

    /// A person working in a structure, with the cards its manager follows.
    public struct StaffMember: Sendable, Equatable {
        /// The person as the registry has them.
        public var professional: Professional
        /// Whether one of their activities there is salaried (a temporary card is for them only).
        public var isSalaried: Bool
        /// Their cards and orders the manager may see (CPE or CPA of the structure), newest first.
        public var cards: [Card]
    }

    /// The staff of a manager's structure as the registry has them, with their CPE/CPA cards.
    /// - Throws: ``CardLifecycleError`` `card.forbidden` for an actor that is no manager.
    public func staff(actor: CardActor) async throws -> [StaffMember] {
        guard case .establishmentManager(let structure) = actor else {
            throw CardLifecycleError(code: "card.forbidden", reason: "the staff list is an establishment manager's")
        }
        let registry = core.registry
        let activities = try await registry.activities(structureID: structure.idNatStruct, limit: 1_000)
        var seen: Set<IdNat> = []
        var members: [StaffMember] = []
        for idNat in activities.map(\.idNat) where seen.insert(idNat).inserted {
            guard let professional = try await registry.professional(idNat)?.professional else { continue }
            let cards = try await core.cards.cards(holder: idNat).filter { CardAuthorization.isAllowed(actor, .view, on: $0.context) }
            let salaried = activities.contains { $0.idNat == idNat && $0.activity.mode == .salarie }
            members.append(StaffMember(professional: professional, isSalaried: salaried, cards: cards))
        }
        return members.sorted { ($0.professional.lastName, $0.professional.firstName) < ($1.professional.lastName, $1.professional.firstName) }
    }

    /// The cards the actor may see (and, for a regional agency, of its region).
    private func inScope(_ cards: [Card], actor: CardActor) async throws -> [Card] {
        var regionOf: [IdNat: Bool] = [:]
        var kept: [Card] = []
        for card in cards where CardAuthorization.isAllowed(actor, .view, on: card.context) {
            if case .agenceRegionale = actor {
                if regionOf[card.holder] == nil {
                    regionOf[card.holder] = (try? await core.authorizeRegion(actor, card)) != nil
                }
                guard regionOf[card.holder] == true else { continue }
            }
            kept.append(card)
        }
        return kept
    }

    private static func requireInstance(_ actor: CardActor) throws {
        switch actor {
        case .ordre, .agenceRegionale, .establishmentManager, .agencyOperator(.registration): return
        case .holder, .helpDesk, .agencyOperator, .platform:
            throw CardLifecycleError(code: "card.forbidden", reason: "the validation queue is an instance's")
        }
    }
}
