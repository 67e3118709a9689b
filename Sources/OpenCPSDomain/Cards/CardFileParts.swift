import Foundation

/// A document of an order file.
public struct CardDocument: Sendable, Equatable, Codable {
    /// Its identifier.
    public var id: String
    /// The file it belongs to.
    public var cardID: String
    /// Its kind (``DocumentKind`` raw value).
    public var kind: String
    /// Its media type.
    public var mediaType: String
    /// Its size.
    public var byteCount: Int
    /// Its SHA-256, hex.
    public var sha256: String
    /// When it was uploaded.
    public var uploadedAt: String
    /// Who uploaded it.
    public var uploadedBy: String

    /// Creates a document record.
    public init(id: String, cardID: String, kind: String, mediaType: String, byteCount: Int, sha256: String, uploadedAt: String, uploadedBy: String) {
        self.id = id
        self.cardID = cardID
        self.kind = kind
        self.mediaType = mediaType
        self.byteCount = byteCount
        self.sha256 = sha256
        self.uploadedAt = uploadedAt
        self.uploadedBy = uploadedBy
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, sha256
        case cardID = "card_id"
        case mediaType = "media_type"
        case byteCount = "byte_count"
        case uploadedAt = "uploaded_at"
        case uploadedBy = "uploaded_by"
    }
}

/// A shipment: the card, or its PIN letter, each with its own tracking number.
public struct CardShipment: Sendable, Equatable, Codable {
    /// The carrier's tracking number.
    public var trackingNumber: String
    /// The card.
    public var cardID: String
    /// `card` or `pin_letter`.
    public var kind: String
    /// The postal address.
    public var address: String
    /// When it left.
    public var shippedAt: String

    /// Creates a shipment.
    /// - Parameter shippedAt: when it left, as stored (ISO 8601, UTC, milliseconds).
    public init(trackingNumber: String, cardID: String, kind: String, address: String, shippedAt: String) {
        self.trackingNumber = trackingNumber
        self.cardID = cardID
        self.kind = kind
        self.address = address
        self.shippedAt = shippedAt
    }

    enum CodingKeys: String, CodingKey {
        case kind, address
        case trackingNumber = "tracking_number"
        case cardID = "card_id"
        case shippedAt = "shipped_at"
    }
}

/// A notification in the outbox.
public struct CardNotification: Sendable, Equatable, Codable {
    /// Its identifier.
    public var id: String
    /// The card it is about.
    public var cardID: String
    /// Its kind (`renewal-m3`, `renewal-m1`, `renewal-w1`, `overdue`...): one per card and kind, ever.
    public var kind: String
    /// The idNat it is for.
    public var recipient: String
    /// The message, in French.
    public var message: String
    /// When it was put in the outbox.
    public var createdAt: String
    /// When it was handed to the sender.
    public var sentAt: String?

    /// Creates a notification.
    public init(id: String, cardID: String, kind: String, recipient: String, message: String, createdAt: String, sentAt: String?) {
        self.id = id
        self.cardID = cardID
        self.kind = kind
        self.recipient = recipient
        self.message = message
        self.createdAt = createdAt
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, recipient, message
        case cardID = "card_id"
        case createdAt = "created_at"
        case sentAt = "sent_at"
    }
}

