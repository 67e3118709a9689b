import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// What a card carries, taken from the registry: the holder's names, the certificates' title,
/// the structure (staff cards only), and the verified postal address it is shipped to.
struct CardPersonalisation: Sendable, Equatable {
    var givenName: String
    var surname: String
    var title: String
    /// The structure's name, in staff cards' certificates only (personal cards carry no O/OU).
    var structureName: String?
    /// The structure's identifier, with ``structureName``.
    var structureIdentifier: String?
    var address: String

    /// A digest of what the card shows; a registry change that alters it calls for a new card.
    /// (A personal card shows no structure, so moving to another structure does not reissue it.)
    var digest: String {
        SHA256.hash(data: Data("\(givenName)|\(surname)|\(title)|\(structureName ?? "")|\(structureIdentifier ?? "")".utf8)).hexString
    }

    /// The personalisation of `card` for its holder as the registry has them.
    /// - Parameters:
    ///   - card: the card.
    ///   - holder: its holder, from the registry.
    ///   - structure: the card's structure, from the registry, for a staff card.
    /// - Throws: `registry.not-found` without a holder; `card.no-postal-address` when the
    ///   registry has no verified postal address to ship to; `card.structure-required` for a
    ///   staff card without a structure.
    init(card: Card, holder: Professional?, structure registered: Structure? = nil) throws {
        guard let professional = holder else { throw PersistenceError.notFound("professional \(card.holder)") }
        let exercise = professional.exercises.first { $0.profession == card.profession } ?? professional.exercises.first
        let activities = exercise?.activities ?? []
        let activity = activities.first { $0.structure == card.structure } ?? activities.first
        guard let activity, let address = activity.address, let postalCode = address.postalCode, let city = address.city else {
            throw CardLifecycleError(
                code: "card.no-postal-address",
                reason: "\(card.holder) has no verified postal address in the registry: the card cannot be shipped")
        }
        givenName = professional.firstName
        surname = professional.lastName
        title = card.kind.certificateTitle(profession: exercise?.profession, temporary: card.temporary)
        if card.kind.isStaffCard {
            guard let structure = card.structure ?? activity.structure else {
                throw CardLifecycleError(code: "card.structure-required", reason: "a \(card.kind) card belongs to a structure")
            }
            structureIdentifier = structure.idNatStruct
            structureName = registered?.name ?? (activity.structure == structure ? activity.structureName : nil) ?? structure.idNatStruct
        } else {
            structureName = nil
            structureIdentifier = nil
        }
        self.address = [professional.firstName + " " + professional.lastName, activity.structureName, address.line, "\(postalCode) \(city)"]
            .compactMap { $0 }.joined(separator: ", ")
    }
}
