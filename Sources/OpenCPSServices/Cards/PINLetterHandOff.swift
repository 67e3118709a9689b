import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSTokens
import X509

/// Hands the PIN letters to the print service: every letter waiting in the letters folder is
/// exported once, enveloped (CMS EnvelopedData, ``CMSEnvelopedData``) to the print service's
/// certificate, then removed from the folder, with an audit entry naming the cards.
///
/// Only letters of cards the database has recorded are exported: a letter under its final
/// name whose card is not committed yet (the rename happens inside the recording transaction)
/// or never was (a crash) is left to that transaction or to the sweep.
public final class PINLetterHandOff: Sendable {
    private let core: CardCore

    init(core: CardCore) {
        self.core = core
    }

    /// The name of the letter files the print service receives (`<serial>-lettre-code-porteur.txt`).
    static let suffix = "-lettre-code-porteur.txt"

    /// Exports the waiting letters to `out` (created, never overwritten, readable by the owner
    /// only), enveloped to `recipient`, then removes them. The enveloped content is the letters
    /// one after the other, each preceded by a line `--- <file name> ---`.
    /// - Returns: the serials of the cards whose letters were exported (none: no file written).
    /// - Throws: `card.letter-export-failed` when the file cannot be written (nothing is removed
    ///   then); ``PKIError`` for a recipient without an RSA key.
    public func export(to recipient: Certificate, writingTo out: URL, actor: String) async throws -> [String] {
        let folder = core.letters
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { !$0.hasPrefix(".") && $0.hasSuffix(Self.suffix) }.sorted()
        let serialOf = { (name: String) in String(name.dropLast(Self.suffix.count)) }
        let known = try await core.cards.takenSerials(names.map(serialOf))
        var content = Data()
        var exported: [(name: String, serial: String)] = []
        for name in names where known.contains(serialOf(name)) {
            guard let letter = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { continue }
            content.append(Data("--- \(name) ---\n".utf8))
            content.append(letter)
            exported.append((name, serialOf(name)))
        }
        guard !exported.isEmpty else { return [] }
        let envelope = try CMSEnvelopedData.envelop(Array(content), to: recipient)
        if let failure = PrivateFile.create(out, contents: Data(envelope), durable: true) {
            throw CardLifecycleError(
                code: "card.letter-export-failed",
                reason: "the export file \(out.lastPathComponent) cannot be written: \(String(cString: strerror(failure)))")
        }
        try await AuditLog(clock: core.clock).record(
            exported.map {
                AuditEvent(actor: actor, action: "card.pin-letter-export", entityType: "card-serial", entityID: $0.serial,
                           detail: "PIN letter handed to the print service in \(out.lastPathComponent)")
            },
            on: core.database.current)
        for letter in exported {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(letter.name))
        }
        _ = PrivateFile.flushDirectories([folder])
        return exported.map(\.serial)
    }
}
