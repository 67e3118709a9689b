import Foundation
import OpenCPSDomain

/// "Mes demandes de carte": the files going on, and the professions a card may be applied for.
struct ApplicationsPage: Encodable, Sendable {
    var title = "Mes demandes de carte"
    var csrf: String
    var loggedIn = true
    var files: [ApplicationSummary] = []
    var hasFiles = false
    var choices: [ApplicationChoice] = []
    var hasChoices = false
    /// The error of the profession's choice.
    var professionError: String?

    init(csrf: String) {
        self.csrf = csrf
    }
}

/// A file in the list.
struct ApplicationSummary: Encodable, Sendable {
    var id: String
    var kind: String
    var profession: String
    var state: String

    init(_ card: Card) {
        id = card.id
        kind = card.kind.frenchLabel
        profession = card.profession?.label ?? ""
        state = card.state.frenchLabel
    }
}

/// A profession a card may be applied for, with the documents it will need.
struct ApplicationChoice: Encodable, Sendable {
    var code: String
    var label: String
    var mode: String
    /// The documents it will need, in one sentence.
    var documents: String
}

/// One application: where it stands, what is sent, what is missing, what to do next.
struct ApplicationPage: Encodable, Sendable {
    var title = "Ma demande de carte"
    var csrf: String
    var loggedIn = true
    var notice: String?
    /// An error for the page as a whole (a refused submission).
    var message: String?
    var id: String
    var kind: String
    var profession: String
    var state: String
    var instance: String
    /// The instance's reason, while the file stands rejected.
    var rejection: String?
    /// What happens next, in one sentence.
    var status: String
    var required: [RequiredLine]
    var sentCount: Int
    var requiredCount: Int
    var missing: [String]
    var documents: [DocumentLine]
    var hasDocuments: Bool
    var acceptsDocuments: Bool
    var isResubmission: Bool
    /// The upload form: where it goes, its choices and its errors.
    var uploadAction: String
    var kinds: [DocumentChoice]
    var selectedKind = ""
    var kindError: String?
    var fileError: String?
    var maximumSize: String

    struct RequiredLine: Encodable, Sendable {
        var label: String
        var sent: Bool
    }

    struct DocumentLine: Encodable, Sendable {
        var kind: String
        var mediaType: String
        var size: String
        var uploadedAt: String
    }

    init(file: CardFile, required: [DocumentKind], csrf: String, maximumByteCount: Int = DocumentPolicy.standard.maximumByteCount) {
        let card = file.card
        self.csrf = csrf
        id = card.id
        kind = card.kind.frenchLabel
        profession = card.profession?.label ?? ""
        state = card.state.frenchLabel
        instance = Self.instanceName(card.order.instance)
        rejection = card.state == .rejected ? (card.rejectionReason ?? "motif non précisé") : nil
        let provided = Set(file.documents.compactMap { DocumentKind(rawValue: $0.kind) })
        self.required = required.map { RequiredLine(label: $0.frenchLabel, sent: provided.contains($0)) }
        requiredCount = required.count
        sentCount = required.filter(provided.contains).count
        missing = file.missingDocuments.map(\.frenchLabel)
        documents = file.documents.map {
            DocumentLine(
                kind: DocumentKind(rawValue: $0.kind)?.frenchLabel ?? $0.kind, mediaType: Self.mediaName($0.mediaType), size: Self.size($0.byteCount),
                uploadedAt: French.timestamp($0.uploadedAt))
        }
        hasDocuments = !documents.isEmpty
        acceptsDocuments = card.acceptsDocuments
        isResubmission = card.state == .rejected
        uploadAction = "/portail/demandes/\(card.id)/pieces"
        kinds = PortalDocumentForm.choices(required: required)
        maximumSize = "\(maximumByteCount / (1024 * 1024)) Mio"
        status = switch card.state {
        case .ordered, .awaitingDocuments:
            file.missingDocuments.isEmpty ? "Votre dossier est complet : envoyez-le à \(instance)." : "Ajoutez les pièces manquantes, puis envoyez votre dossier."
        case .rejected: "Complétez ou corrigez votre dossier, puis renvoyez-le."
        case .awaitingValidation: "Votre dossier est en cours d'examen par \(instance)."
        case .validated, .inManufacture:
            "Votre dossier est validé : votre carte est en fabrication" + (card.dueOn.map { ", date prévue le \(French.date($0))." } ?? ".")
        default: "Votre carte : \(card.state.frenchLabel)."
        }
    }

    /// The confirmations a finished action leaves (`?fait=`).
    static func notices(_ key: String) -> String? {
        switch key {
        case "demande": "Votre demande est créée. Ajoutez les pièces justificatives demandées."
        case "piece": "La pièce est ajoutée à votre dossier."
        case "envoi": "Votre dossier est envoyé. Vous serez informé de la décision."
        default: nil
        }
    }

    static func instanceName(_ instance: ValidatingInstance) -> String {
        switch instance {
        case .ordre(let ordre): "l'ordre (\(ordre.abbreviation))"
        case .agenceRegionale: "l'agence régionale de santé"
        case .establishmentManager: "le responsable de votre structure"
        case .cardAgency: "l'agence des cartes"
        }
    }

    static func mediaName(_ mediaType: String) -> String {
        switch mediaType {
        case "application/pdf": "PDF"
        case "image/jpeg": "JPEG"
        case "image/png": "PNG"
        default: mediaType
        }
    }

    static func size(_ bytes: Int) -> String {
        bytes < 1024 ? "\(bytes) octets" : bytes < 1024 * 1024 ? "\(bytes / 1024) Kio" : String(format: "%.1f Mio", Double(bytes) / 1_048_576)
    }
}
