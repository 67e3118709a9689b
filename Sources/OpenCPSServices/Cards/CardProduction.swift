import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSTokens

/// Manufacture and delivery: personalising validated cards, one or a production run of many,
/// and recording their delivery.
public final class CardProduction: Sendable {
    private let core: CardCore
    private let workshop: CardWorkshop
    /// Production batches record their cards here one at a time, whichever run they belong to.
    private let productionLine = OneAtATime()

    init(core: CardCore) {
        self.core = core
        self.workshop = CardWorkshop(core: core)
    }

    /// What a production run made, and why the cards it did not make were refused.
    public struct Run: Sendable {
        /// The cards made (shipped), in no particular order.
        public var manufactured: [Card] = []
        /// The files not made, each with its error; nothing of them was written.
        public var failures: [(id: String, error: any Error)] = []

        /// Adds another run's outcome to this one.
        mutating func add(_ other: Run) {
            manufactured += other.manufactured
            failures += other.failures
        }
    }

    /// Personalises the card: two key pairs generated in a new software token, the
    /// authentication and signature certificates, the card serial, PIN and PUK from the
    /// CSPRNG; the PIN letter and the card become two shipments with their own tracking
    /// numbers to the verified postal address. The platform keeps no PIN or PUK: only the
    /// sealed letter holds them.
    ///
    /// All records (card, certificates, shipments, audit) are written in one transaction; if
    /// it fails, the token and letter files are removed: no half-made card remains. Each
    /// certificate is recorded as an intent, committed, before the CA signs it: a crash at any
    /// point leaves nothing signed that the database does not know (``CardRepair`` sweeps it).
    public func manufacture(_ id: String, actor: CardActor) async throws -> Card {
        let run = await manufacture([id], actor: actor)
        if let failure = run.failures.first { throw failure.error }
        guard let card = run.manufactured.first else { throw PersistenceError.notFound("card \(id)") }
        return card
    }

    /// A production run: manufactures many validated files as ``manufacture(_:actor:)``
    /// does one. Files are taken in batches (``CardServiceSettings/manufactureBatchSize``):
    /// a batch's files and holders are read at once, its cards personalised in parallel on
    /// every core, and the batch recorded in one transaction; three batches are in flight and
    /// the transactions of every run queue on one production line, so that the writes overlap
    /// the cryptography and the cores never wait on SQLite's lock. A card that cannot be made is
    /// reported with its error and leaves nothing behind; the others are made.
    public func manufacture(_ ids: [String], actor: CardActor) async -> Run {
        let batches = ids.chunked(by: max(1, core.settings.manufactureBatchSize))
        return await withTaskGroup(of: Run.self) { group in
            var next = batches.makeIterator()
            for _ in 0..<3 {
                guard let batch = next.next() else { break }
                group.addTask { await self.manufactureBatch(batch, actor: actor) }
            }
            var run = Run()
            for await partial in group {
                run.add(partial)
                if let batch = next.next() {
                    group.addTask { await self.manufactureBatch(batch, actor: actor) }
                }
            }
            return run
        }
    }

    /// The carrier delivered the card.
    public func deliver(_ id: String, actor: CardActor) async throws -> Card {
        try await core.transition(id, .deliver, actor: actor)
    }

    /// Abandons the intents of cards that will not be recorded, on the production line.
    private func abandonIntents(of blanks: [CardWorkshop.Blank], reason: String) async {
        guard !blanks.isEmpty else { return }
        let workshop = self.workshop
        _ = try? await productionLine.run { await workshop.abandonIntents(of: blanks, reason: reason) }
    }

    private func manufactureBatch(_ ids: ArraySlice<String>, actor: CardActor) async -> Run {
        var run = Run()
        let blanks: [CardWorkshop.Blank]
        do {
            try workshop.prepareLetterFolder()
            (blanks, run.failures) = try await workshop.prepare(Array(ids), actor: actor)
            // Recorded and committed before any of the batch's certificates is signed, on the
            // production line: on SQLite a write that waits for another batch's lock sleeps on
            // one of the few threads every database call shares; queued here, it waits without one.
            let workshop = self.workshop
            try await productionLine.run { try await workshop.recordIntents(blanks) }
        } catch {
            run.failures = ids.map { ($0, error) }
            return run
        }
        // The CPU-bound work (keys, signatures, the token's key derivations) and the files run
        // on every core, before the transaction, so that the transaction holds the write lock
        // only for the writes.
        var made: [CardWorkshop.Made] = []
        await withTaskGroup(of: (id: String, result: Result<CardWorkshop.Made, any Error>).self) { group in
            for blank in blanks {
                group.addTask { (blank.card.id, await CardWorkshop.offPool { try self.workshop.craft(blank, actor: actor) }) }
            }
            for await (id, result) in group {
                switch result {
                case .success(let card): made.append(card)
                case .failure(let error): run.failures.append((id, error))
                }
            }
        }
        let madeIDs = Set(made.map(\.blank.card.id))
        await abandonIntents(of: blanks.filter { !madeIDs.contains($0.card.id) }, reason: "the card could not be made")
        guard !made.isEmpty else { return run }
        let madeCards = made
        do {
            try await CardWorkshop.flush(madeCards)
        } catch {
            for card in made { card.discard() }
            await abandonIntents(of: made.map(\.blank), reason: "the card's files could not be flushed")
            run.failures += made.map { ($0.blank.card.id, error) }
            return run
        }
        do {
            run.manufactured += try await productionLine.run { try await self.workshop.record(madeCards) }
        } catch where made.count > 1 {
            // One card changed meanwhile, or one file could not be written: record each on its
            // own, so that the others are made.
            for card in made {
                do {
                    run.manufactured += try await productionLine.run { try await self.workshop.record([card]) }
                } catch {
                    card.discard()
                    await abandonIntents(of: [card.blank], reason: "the card could not be recorded")
                    run.failures.append((card.blank.card.id, error))
                }
            }
        } catch {
            for card in made { card.discard() }
            await abandonIntents(of: made.map(\.blank), reason: "the card could not be recorded")
            run.failures += made.map { ($0.blank.card.id, error) }
        }
        return run
    }
}
