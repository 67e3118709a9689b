/// A kind of supporting document in a card order's file.
///
/// The raw values are stable snake_case names, safe to store.
public enum DocumentKind: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// An identity document (identity card, passport, residence permit).
    case identity
    /// Proof of registration with the profession's order.
    case orderRegistration = "order_registration"
    /// The diploma, or the entry in the register of the profession, for non-ordinal professions.
    case diplomaOrRegisterEntry = "diploma_or_register_entry"
    /// Proof of activity: an employment contract, an employer certificate, a volunteering or
    /// training agreement, or a manager's appointment.
    case proofOfActivity = "proof_of_activity"
    /// Proof of the postal address the card will be sent to.
    case proofOfAddress = "proof_of_address"
    /// The justification of an emergency, for the express path.
    case emergencyJustification = "emergency_justification"

    /// The kind's stable name.
    public var description: String { rawValue }

    /// The kind in French, for the portal.
    public var frenchLabel: String {
        switch self {
        case .identity: "Pièce d'identité"
        case .orderRegistration: "Attestation d'inscription à l'ordre"
        case .diplomaOrRegisterEntry: "Diplôme ou enregistrement au registre de la profession"
        case .proofOfActivity: "Justificatif d'activité (contrat de travail, attestation employeur)"
        case .proofOfAddress: "Justificatif de domicile ou d'adresse professionnelle"
        case .emergencyJustification: "Justificatif d'urgence"
        }
    }
}

/// The supporting documents a card order needs, by profession, mode of activity and card kind.
///
/// The national list depends on profession and mode of activity; the exact official lists
/// were not published in a form this project could confirm, so these rules are this
/// project's reading of them:
/// - an automatic order (see ``OrderMode``) needs no document: the order already checked;
/// - every manual order needs an ``DocumentKind/identity`` document;
/// - CPS and CPF: the order registration for an ordinal profession, the diploma or register
///   entry otherwise; a libéral activity adds a proof of address (the practice, where the card
///   is sent), any other mode a proof of activity (contract, employer or volunteering
///   certificate);
/// - CPE, CPA, CDE and CDA: a proof of activity (employer certificate or appointment as
///   manager); the card is sent to the structure, so no proof of address;
/// - the express path adds an ``DocumentKind/emergencyJustification``, even for an automatic
///   order.
public struct RequiredDocuments: Hashable, Sendable {
    /// The documents needed, without duplicates, in ``DocumentKind`` declaration order.
    public let kinds: [DocumentKind]

    /// The documents an order needs.
    /// - Parameters:
    ///   - kind: the card ordered.
    ///   - profession: the holder's profession (CPS and CPF); ignored for staff cards.
    ///   - mode: the mode of the activity the card is ordered for.
    ///   - orderMode: automatic or manual (see ``OrderMode``).
    ///   - express: whether the order goes by the express path.
    public init(kind: CardKind, profession: Profession?, mode: ModeOfActivity, orderMode: OrderMode, express: Bool = false) {
        var needed: Set<DocumentKind> = []
        if orderMode == .manual {
            needed.insert(.identity)
            if kind.isStaffCard {
                needed.insert(.proofOfActivity)
            } else {
                needed.insert(profession?.isOrdinal == true ? .orderRegistration : .diplomaOrRegisterEntry)
                needed.insert(mode == .liberal ? .proofOfAddress : .proofOfActivity)
            }
        }
        if express { needed.insert(.emergencyJustification) }
        self.kinds = DocumentKind.allCases.filter(needed.contains)
    }

    /// The needed documents not in `provided`, in ``kinds`` order.
    public func missing(from provided: some Sequence<DocumentKind>) -> [DocumentKind] {
        let have = Set(provided)
        return kinds.filter { !have.contains($0) }
    }

    /// Refuses a file that lacks a needed document.
    /// - Parameter provided: the kinds of the documents in the file.
    /// - Throws: ``CardLifecycleError`` with code `card.documents-missing`, naming each missing kind.
    public func checkComplete(provided: some Sequence<DocumentKind>) throws(CardLifecycleError) {
        let absent = missing(from: provided)
        guard absent.isEmpty else {
            throw CardLifecycleError(
                code: "card.documents-missing",
                reason: "the file lacks " + absent.map(\.rawValue).joined(separator: ", "))
        }
    }
}

/// What a supporting document's file may be: its media types and its largest size.
///
/// The contents are never read beyond their first bytes, and never put in an error.
public struct DocumentPolicy: Hashable, Sendable {
    /// The media types accepted by default: PDF, JPEG and PNG.
    public static let defaultMediaTypes: Set<String> = ["application/pdf", "image/jpeg", "image/png"]
    /// The largest file accepted by default: 10 MiB.
    public static let defaultMaximumByteCount = 10 * 1024 * 1024

    /// The accepted media types, lowercase, without parameters.
    public let allowedMediaTypes: Set<String>
    /// The largest accepted size, in bytes.
    public let maximumByteCount: Int

    /// Creates a policy.
    /// - Parameters:
    ///   - allowedMediaTypes: the accepted media types (compared without case or parameters).
    ///   - maximumByteCount: the largest accepted size, in bytes.
    /// - Throws: ``CardLifecycleError`` with code `card.configuration-invalid` when no media type
    ///   is allowed or the size is not positive.
    public init(
        allowedMediaTypes: Set<String> = DocumentPolicy.defaultMediaTypes,
        maximumByteCount: Int = DocumentPolicy.defaultMaximumByteCount
    ) throws(CardLifecycleError) {
        let normalized = Set(allowedMediaTypes.map(DocumentPolicy.essence))
        guard !normalized.isEmpty, !normalized.contains("") else {
            throw .configuration("a document policy allows at least one media type, and no empty one")
        }
        guard maximumByteCount > 0 else {
            throw .configuration("the largest document size must be positive, got \(maximumByteCount)")
        }
        self.allowedMediaTypes = normalized
        self.maximumByteCount = maximumByteCount
    }

    /// The default policy: PDF, JPEG or PNG, up to 10 MiB.
    public static let standard = try! DocumentPolicy()

    /// Checks an uploaded document.
    /// - Parameters:
    ///   - mediaType: the declared media type, such as `application/pdf` or
    ///     `image/JPEG; name=scan.jpg` (case and parameters are ignored).
    ///   - byteCount: the size of the file, in bytes.
    ///   - leadingBytes: the first bytes of the file, when available, to check that they match
    ///     the declared type (`%PDF-`, the JPEG SOI marker, the PNG signature).
    /// - Returns: the media type, normalised (lowercase, no parameters).
    /// - Throws: ``CardLifecycleError`` with code `card.document-empty`,
    ///   `card.document-too-large`, `card.document-media-type` or `card.document-content-mismatch`.
    @discardableResult
    public func check(mediaType: String, byteCount: Int, leadingBytes: [UInt8]? = nil) throws(CardLifecycleError) -> String {
        guard byteCount > 0 else {
            throw CardLifecycleError(code: "card.document-empty", reason: "the document is empty")
        }
        guard byteCount <= maximumByteCount else {
            throw CardLifecycleError(
                code: "card.document-too-large",
                reason: "the document has \(byteCount) bytes, more than the \(maximumByteCount) bytes (\(DocumentPolicy.humanSize(maximumByteCount))) accepted")
        }
        let essence = DocumentPolicy.essence(mediaType)
        guard allowedMediaTypes.contains(essence) else {
            throw CardLifecycleError(
                code: "card.document-media-type",
                reason: "documents of type \"\(essence)\" are not accepted; send " + allowedMediaTypes.sorted().joined(separator: ", "))
        }
        if let leadingBytes, let signature = DocumentPolicy.signatures[essence], !leadingBytes.starts(with: signature) {
            throw CardLifecycleError(
                code: "card.document-content-mismatch",
                reason: "the document is declared \"\(essence)\" but its content does not start like one")
        }
        return essence
    }

    private static let signatures: [String: [UInt8]] = [
        "application/pdf": Array("%PDF-".utf8),
        "image/jpeg": [0xFF, 0xD8, 0xFF],
        "image/png": [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
    ]

    /// The media type without parameters, trimmed and lowercased (`type/subtype`).
    private static func essence(_ mediaType: String) -> String {
        let bare = mediaType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(bare.trimmingASCIIWhitespace()).lowercased()
    }

    private static func humanSize(_ bytes: Int) -> String {
        let mebibyte = 1024 * 1024
        if bytes % mebibyte == 0 { return "\(bytes / mebibyte) MiB" }
        if bytes % 1024 == 0 { return "\(bytes / 1024) KiB" }
        return "\(bytes) bytes"
    }
}

extension Substring {
    fileprivate func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        let end = lastIndex(where: { !isSpace($0) })!
        return self[start...end]
    }
}
