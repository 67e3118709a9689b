/// A card's whole file as its readers see it: the card, its documents and shipments, what is
/// still missing, and whether it is late.
public struct CardFile: Sendable, Equatable {
    /// The card.
    public var card: Card
    /// Its documents (without content).
    public var documents: [CardDocument]
    /// Its shipments.
    public var shipments: [CardShipment]
    /// The documents still required before validation.
    public var missingDocuments: [DocumentKind]
    /// Whether the file is past its due date.
    public var isOverdue: Bool

    /// Creates a file.
    public init(card: Card, documents: [CardDocument], shipments: [CardShipment], missingDocuments: [DocumentKind], isOverdue: Bool) {
        self.card = card
        self.documents = documents
        self.shipments = shipments
        self.missingDocuments = missingDocuments
        self.isOverdue = isOverdue
    }

    /// Why the file is where it is, in French, for the help desk and the holder.
    public var diagnosis: String {
        switch card.state {
        case .ordered, .awaitingDocuments:
            return missingDocuments.isEmpty
                ? "Dossier complet, en attente d'envoi à l'instance."
                : "Pièces manquantes : \(missingDocuments.map(\.frenchLabel).joined(separator: ", "))."
        case .awaitingValidation: return "En attente de validation par l'instance compétente (\(card.order.instance.code))."
        case .rejected: return "Dossier rejeté : \(card.rejectionReason ?? "motif non précisé"). Il peut être complété et renvoyé."
        case .validated, .inManufacture:
            let due = card.dueOn?.description ?? ""
            return isOverdue ? "En retard : la date prévue (\(due)) est dépassée." : "En fabrication, date prévue le \(due)."
        case .shipped: return "Expédiée : carte et lettre du code porteur envoyées séparément."
        case .delivered: return "Livrée, en attente d'activation par le porteur."
        default: return "Carte à l'état « \(card.state.frenchLabel) »."
        }
    }
}
