import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// A document sent from a portal page's upload form (the applicant's file, the manager's staff
/// order): read by the server's own multipart reader, never Vapor's decoder; the CSRF token,
/// a part of the body, checked before anything else; what is missing said in French and tied
/// to its field. The document itself goes through ``CardOrdering/addDocument(to:kind:mediaType:content:actor:)``,
/// which decides who may add it and whether its type and size are accepted.
struct PortalDocumentForm: Sendable {
    /// What the document proves, if the form named a known kind.
    var kind: DocumentKind?
    /// The document's media type, as the browser gave it.
    var mediaType = "application/octet-stream"
    /// The document's bytes, if a file was chosen.
    var content: [UInt8]?
    /// The kind as sent, to keep the choice after an error.
    var selectedKind: String
    /// The errors of the two fields.
    var kindError: String?
    var fileError: String?

    /// Reads the form and checks its CSRF token against the session's.
    /// - Throws: ``PortalPageError`` (400 for an unreadable body, 403 for a wrong token).
    init(_ request: Request, session: PortalSession) throws {
        guard let boundary = request.headers.contentType?.parameters["boundary"], request.headers.contentType?.type == "multipart",
              let form = try? MultipartFormData(bytes: request.body.data.map { Array($0.readableBytesView) } ?? [], boundary: boundary)
        else {
            throw PortalPageError(status: .badRequest, title: "Envoi illisible", text: "Le fichier n'a pas pu être lu. Revenez au dossier et recommencez.")
        }
        try PortalCSRF.check(token: form.part(named: "csrf")?.text ?? "", session)
        kind = form.part(named: "piece").flatMap { DocumentKind(rawValue: $0.text) }
        selectedKind = kind?.rawValue ?? ""
        if let file = form.part(named: "fichier"), !(file.body.isEmpty && (file.filename ?? "").isEmpty) {
            content = file.body
            mediaType = file.contentType ?? "application/octet-stream"
        }
        if kind == nil { kindError = "Choisissez la pièce que vous envoyez." }
        if content == nil { fileError = "Choisissez le fichier à envoyer." }
    }

    /// Adds the document through `add` (the card services, as the page's actor), or ties the
    /// services' refusal to the file field.
    /// - Returns: whether the document was added.
    mutating func add(maximum: Int, _ add: @Sendable (DocumentKind, String, [UInt8]) async throws -> Void) async throws -> Bool {
        guard let kind, let content else { return false }
        do {
            try await add(kind, mediaType, content)
            return true
        } catch let error as CardLifecycleError {
            fileError = Self.refusal(error, maximum: maximum)
            return false
        }
    }

    /// Why a document was refused, in French, tied to the file field.
    static func refusal(_ error: CardLifecycleError, maximum: Int) -> String {
        switch error.code {
        case "card.document-empty": "Le fichier est vide : choisissez le bon fichier."
        case "card.document-too-large": "Le fichier est trop volumineux : \(maximum / (1024 * 1024)) Mio au plus. Réduisez sa taille (un scan en 150 ppp suffit)."
        case "card.document-media-type": "Ce type de fichier n'est pas accepté : envoyez un PDF, un JPEG ou un PNG."
        case "card.document-content-mismatch": "Le contenu du fichier ne correspond pas à son type : envoyez un vrai PDF, JPEG ou PNG."
        case "card.documents-too-many": "Le dossier compte déjà le nombre maximal de pièces."
        case "card.documents-closed": "Ce dossier ne reçoit plus de pièces : il est en cours d'examen ou terminé."
        default: "Cette pièce n'a pas pu être ajoutée au dossier."
        }
    }

    /// The kinds the form offers: those the file needs first, then the others a file may hold.
    static func choices(required: [DocumentKind]) -> [DocumentChoice] {
        (required + DocumentKind.allCases.filter { !required.contains($0) && $0 != .emergencyJustification })
            .map { DocumentChoice(value: $0.rawValue, label: $0.frenchLabel) }
    }
}

/// A kind of document in an upload form's list.
struct DocumentChoice: Encodable, Sendable {
    var value: String
    var label: String
}
