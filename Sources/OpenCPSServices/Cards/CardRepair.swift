import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence

/// Puts the platform back in a consistent state after a crash or a failure half-way: run at
/// start-up, on the maintenance schedule, and by `opencps cards repair`.
///
/// - The **sweep** abandons (revokes, on the CRLs) the certificate intents whose card was
///   never recorded, and removes the token, lock and PIN letter files whose card the database
///   does not know (a process killed before its batch committed, even after the renames), and
///   every `.pending-` file: each removal and each abandonment is audited.
/// - The **repair** revokes the certificates of blocked cards that are still good (or holds
///   those of a suspended card).
///
/// Anything younger than the grace period is left alone: on several nodes, or while a
/// production run is going on, it may be a card being made right now.
public final class CardRepair: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// What a sweep did.
    public struct Sweep: Sendable, Equatable {
        /// The certificates abandoned (`issuer/serial`): revoked for OCSP and on the CRLs.
        public var abandonedCertificates: [String] = []
        /// The files removed (names in the token and letter folders).
        public var removedFiles: [String] = []

        /// An empty sweep: nothing abandoned, nothing removed.
        public init() {}
    }

    /// A certificate the repair revoked or held.
    public struct Repaired: Sendable, Equatable {
        /// The card file's id.
        public var cardID: String
        /// The card's state.
        public var cardState: String
        /// `issuer/serial`.
        public var certificate: String
        /// The reason given (RFC 5280 code name).
        public var reason: String
    }

    /// Sweeps certificate intents and orphan files older than `grace` seconds.
    public func sweep(grace: TimeInterval) async throws -> Sweep {
        var result = Sweep()
        let cutoff = Date().addingTimeInterval(-grace)
        let files = orphanCandidates(modifiedBefore: cutoff)
        let known = try await core.cards.takenSerials(Array(Set(files.map(\.serial))))
        let orphans = files.filter { $0.pending || !known.contains($0.serial) }
        let orphanSerials = Array(Set(orphans.map(\.serial)).subtracting(known)).sorted()
        // Certificates first: a file is removed only once what it holds is revoked.
        let abandoned = try await CertificateIntentRepository(database: core.database.current, clock: core.clock).sweep(
            intendedBefore: core.clock.now().addingTimeInterval(-grace), cardSerials: orphanSerials,
            actor: CardActor.platform.auditName, detail: "its card was never recorded (sweep)")
        result.abandonedCertificates = abandoned.map { "\($0.issuer)/\($0.serial)" }
        var events: [AuditEvent] = []
        for file in orphans.sorted(by: { $0.url.lastPathComponent < $1.url.lastPathComponent }) {
            do {
                try FileManager.default.removeItem(at: file.url)
            } catch {
                continue
            }
            result.removedFiles.append(file.url.lastPathComponent)
            events.append(AuditEvent(
                actor: CardActor.platform.auditName, action: "card.orphan-file-remove", entityType: "card-serial", entityID: file.serial,
                detail: "\(file.url.lastPathComponent): \(file.pending ? "left pending" : "no card recorded with this serial") (sweep)"))
        }
        if !events.isEmpty {
            try await AuditLog(clock: core.clock).record(events, on: core.database.current)
        }
        if !abandoned.isEmpty {
            for slug in Set(abandoned.map(\.issuer)).sorted() {
                try await core.pki.publishCRL(slug)
            }
        }
        return result
    }

    /// Revokes the certificates of blocked cards that are still good: an opposed card's as
    /// `keyCompromise`, a revoked card's as `privilegeWithdrawn`, a superseded card's as
    /// `superseded`, an expired card's (still valid) as `cessationOfOperation`; a suspended
    /// card's are put on hold. Each is audited (actor `platform`, detail `repair`).
    public func repairBlockedCards() async throws -> [Repaired] {
        let found = try await BlockedCardCertificates(database: core.database.current).find(validAt: core.clock.now())
        var repaired: [Repaired] = []
        for item in found {
            let reason: RevocationReason = switch item.cardState {
            case "opposed": .keyCompromise
            case "suspended": .certificateHold
            case "revoked": .privilegeWithdrawn
            case "superseded": .superseded
            default: .cessationOfOperation
            }
            let before = item.held ? "only on hold" : "good"
            _ = try await core.pki.revoke(
                issuer: item.issuer, serialHex: item.serial, reason: reason, actor: CardActor.platform.auditName,
                detail: "repair: card \(item.cardID) is \(item.cardState) but this certificate was \(before)")
            repaired.append(Repaired(cardID: item.cardID, cardState: item.cardState, certificate: "\(item.issuer)/\(item.serial)", reason: "\(reason)"))
        }
        return repaired
    }

    /// A file of the token or letter folders, with the card serial its name carries.
    private struct CardFile {
        var url: URL
        var serial: String
        var pending: Bool
    }

    /// The token, lock and letter files older than `cutoff` whose name carries a card serial:
    /// `<serial>.token`, `.<serial>.token.lock`, `<serial>-lettre-code-porteur.txt`, and their
    /// `.pending-` forms.
    private func orphanCandidates(modifiedBefore cutoff: Date) -> [CardFile] {
        var files: [CardFile] = []
        for folder in [core.tokens.directory, core.letters] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names {
                let url = folder.appendingPathComponent(name)
                let pending = name.hasPrefix(".pending-")
                let bare = pending ? String(name.dropFirst(".pending-".count)) : name.hasPrefix(".") ? String(name.dropFirst()) : name
                let serial = String(bare.prefix { $0.isASCII && $0.isNumber })
                guard serial.count == 10, bare.dropFirst(10).first.map({ $0 == "." || $0 == "-" }) == true,
                      let modified = try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date,
                      modified <= cutoff
                else { continue }
                files.append(CardFile(url: url, serial: serial, pending: pending))
            }
        }
        return files
    }
}
