import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// What a card carries, taken from the registry: the holder's names, the profession's title,
/// the structure, and the verified postal address it is shipped to.
struct CardPersonalisation: Sendable, Equatable {
    var givenName: String
    var surname: String
    var title: String
    var structureName: String
    var structureIdentifier: String
    var address: String

    /// A digest of what the card shows; a registry change that alters it calls for a new card.
    var digest: String {
        SHA256.hash(data: Data("\(givenName)|\(surname)|\(title)|\(structureName)|\(structureIdentifier)".utf8)).hexString
    }

    /// The personalisation of `card` for its holder as the registry has them.
    /// - Throws: `registry.not-found` without a holder; `card.no-postal-address` when the
    ///   registry has no verified postal address to ship to.
    init(card: Card, holder: Professional?) throws {
        guard let professional = holder else { throw PersistenceError.notFound("professional \(card.holder)") }
        let exercise = professional.exercises.first { $0.profession == card.profession } ?? professional.exercises.first
        let activities = exercise?.activities ?? []
        let activity = activities.first { $0.structure == card.structure } ?? activities.first
        guard let activity, let address = activity.address, let postalCode = address.postalCode, let city = address.city else {
            throw CardLifecycleError(
                code: "card.no-postal-address",
                reason: "\(card.holder) has no verified postal address in the registry: the card cannot be shipped")
        }
        let structureName = activity.structureName ?? "\(professional.lastName) \(professional.firstName)"
        givenName = professional.firstName
        surname = professional.lastName
        title = exercise?.profession.label ?? card.kind.frenchLabel
        self.structureName = structureName
        structureIdentifier = activity.structure?.idNatStruct ?? card.structure?.idNatStruct ?? card.holder.value
        self.address = [professional.firstName + " " + professional.lastName, structureName, address.line, "\(postalCode) \(city)"]
            .compactMap { $0 }.joined(separator: ", ")
    }
}
