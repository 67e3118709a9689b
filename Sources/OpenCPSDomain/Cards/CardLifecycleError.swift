/// Why the card domain refused something: a stable code and a human reason.
///
/// Codes, grouped by subject:
/// - lifecycle: `card.transition-refused`;
/// - authorisation: `card.forbidden`;
/// - kinds and instances: `card.kind-invalid`, `card.instance-undetermined`,
///   `card.prescriber-rights-refused`;
/// - documents: `card.documents-missing`, `card.document-empty`, `card.document-too-large`,
///   `card.document-media-type`, `card.document-content-mismatch`;
/// - secrets: `card.pin-length`, `card.pin-characters`, `card.puk-length`, `card.puk-characters`;
/// - serial: `card.serial-length`, `card.serial-characters`;
/// - configuration: `card.configuration-invalid`.
///
/// Reasons never contain a PIN, a PUK or a document's content.
public struct CardLifecycleError: DomainError, Equatable {
    /// A stable code, such as `card.transition-refused`, that clients may compare.
    public let code: String
    /// A sentence in English that says what is wrong.
    public let reason: String

    /// Creates a card error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    static func configuration(_ reason: String) -> CardLifecycleError {
        CardLifecycleError(code: "card.configuration-invalid", reason: reason)
    }
}
