import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import OpenCPSTokens

/// The demo's cards: one active card of every type, each made the way a real one is
/// (ordered, documented, validated by its instance, manufactured, delivered, activated with
/// the PIN from its letter), so that `opencps card` and the revocation endpoints can be
/// tried at once.
public enum DemoCards {
    /// The demo's actors and their tokens (`demo-<actor>`, such as `demo-ars-84` for the agency of
    /// Auvergne-Rhône-Alpes), accepted only with `--demo`.
    public static var actorTokens: [String: CardActor] {
        var actors: [CardActor] = [
            .ordre(.cnom), .ordre(.cnop), .ordre(.oni), .ordre(.cnomk), .ordre(.cnosf), .helpDesk,
            .agencyOperator(.production), .agencyOperator(.security), .agencyOperator(.registration),
        ]
        actors += Region.allCases.map { .agenceRegionale($0) }
        actors += DemoData.establishments.map { .establishmentManager($0.identifier) }
        actors += DemoData.professionals.map { .holder($0.idNat) }
        return Dictionary(uniqueKeysWithValues: actors.map { ("demo-" + $0.auditName.replacingOccurrences(of: ":", with: "-"), $0) })
    }

    /// Makes the cards unless the demo holders have some already.
    /// - Returns: one line per card: kind, serial, holder.
    public static func create(cards: CardServices, letters: URL, tokens: URL) async throws -> [String] {
        let people = DemoData.professionals
        if try await !cards.reading.cards(of: people[0].idNat, actor: .holder(people[0].idNat)).isEmpty { return [] }
        let hospital = DemoData.establishments[0].identifier
        let clinic = DemoData.establishments[1].identifier
        let centre = DemoData.establishments[2].identifier
        let production = CardActor.agencyOperator(.production)
        var lines: [String] = []

        func finish(_ id: String, holder: IdNat) async throws {
            let made = try await cards.production.manufacture(id, actor: production)
            _ = try await cards.production.deliver(id, actor: production)
            let serial = made.manufacture?.serial.value ?? ""
            let pin = try pinFromLetter(letters, serial: serial)
            let active = try await cards.secrets.activate(id, pin: pin, actor: .holder(holder))
            let token = FileManager.default.fileExists(atPath: tokens.appendingPathComponent("\(serial).token").path)
                ? "token data/tokens/\(serial).token" : "PKCS #11 token \"\(PKCS11CardToken.label(cardSerial: serial))\""
            lines.append("\(active.kind) n° \(serial) for \(holder.value), \(token)")
        }
        func documented(_ id: String, by actor: CardActor) async throws {
            let file = try await cards.reading.file(id, actor: actor)
            for kind in file.missingDocuments {
                _ = try await cards.ordering.addDocument(to: id, kind: kind, mediaType: "application/pdf", content: Array("%PDF-1.4\n% pièce de démonstration\n%%EOF\n".utf8), actor: actor)
            }
            _ = try await cards.ordering.submit(id, actor: actor)
        }

        // CPS of an ordinal professional: ordered automatically by the order's registration.
        if let card = try await cards.ordering.orderAutomatically(for: people[0], professionCode: "10") {
            try await finish(card.id, holder: people[0].idNat)
        }
        // CPS of a non-ordinal professional: applied for, documented, validated by the ARS.
        let orthophoniste = try await cards.ordering.apply(idNat: people[4].idNat, kind: .cps, professionCode: "91", structureID: nil, actor: .holder(people[4].idNat))
        try await documented(orthophoniste.id, by: .holder(people[4].idNat))
        _ = try await cards.ordering.validate(orthophoniste.id, actor: .agenceRegionale(.auvergneRhoneAlpes))
        try await finish(orthophoniste.id, holder: people[4].idNat)
        // CPF: a pharmacist in training, validated by the order of pharmacists.
        let cpf = try await cards.ordering.apply(idNat: people[1].idNat, kind: .cpf, professionCode: "21", structureID: nil, actor: .holder(people[1].idNat))
        try await documented(cpf.id, by: .holder(people[1].idNat))
        _ = try await cards.ordering.validate(cpf.id, actor: .ordre(.cnop))
        try await finish(cpf.id, holder: people[1].idNat)
        // CPE and CPA: staff cards ordered and validated by the manager of the structure where
        // the registry shows them working.
        for (person, kind, structure) in [(people[2], CardKind.cpe, clinic), (people[5], CardKind.cpa, centre)] {
            let manager = CardActor.establishmentManager(structure)
            let card = try await cards.ordering.apply(idNat: person.idNat, kind: kind, professionCode: nil, structureID: structure.idNatStruct, actor: manager)
            try await documented(card.id, by: manager)
            _ = try await cards.ordering.validate(card.id, actor: manager)
            try await finish(card.id, holder: person.idNat)
        }
        // CDE and CDA: managers' cards, validated by the card agency's registration desk.
        for (person, kind, structure) in [(people[3], CardKind.cde, hospital), (people[3], CardKind.cda, centre)] {
            let card = try await cards.ordering.apply(idNat: person.idNat, kind: kind, professionCode: nil, structureID: structure.idNatStruct, actor: .holder(person.idNat))
            try await documented(card.id, by: .holder(person.idNat))
            _ = try await cards.ordering.validate(card.id, actor: .agencyOperator(.registration))
            try await finish(card.id, holder: person.idNat)
        }
        return lines
    }

    /// The PIN printed in a card's letter.
    public static func pinFromLetter(_ letters: URL, serial: String) throws -> String {
        let text = try String(contentsOf: letters.appendingPathComponent("\(serial)-lettre-code-porteur.txt"), encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(PINLetter.pinLabel) }) else {
            throw CardLifecycleError(code: "demo.letter", reason: "no PIN in the letter of card \(serial)")
        }
        return line.dropFirst(PINLetter.pinLabel.count).trimmingCharacters(in: .whitespaces)
    }
}
