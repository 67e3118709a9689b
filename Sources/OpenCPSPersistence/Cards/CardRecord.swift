import Foundation
import OpenCPSDomain

/// A card as stored: its order file, its state, and once made, its serial and certificates.
public struct CardRecord: Sendable, Equatable, Codable {
    /// The identifier of the file (a UUID), stable from the order to the card's end.
    public var id: String
    /// The holder's idNat.
    public var idNat: String
    /// CPS, CPF, CPE, CPA, CDE or CDA.
    public var kind: String
    /// The lifecycle state (``CardState`` raw value).
    public var state: String
    /// `automatic` or `manual`.
    public var orderMode: String
    /// `first`, `renewal`, `replacement`, `reissue` or `temporary`.
    public var orderReason: String
    /// The competent instance (``ValidatingInstance`` code).
    public var instance: String
    /// The profession the card is for.
    public var professionCode: String?
    /// The structure (idNatStruct) for staff and managers' cards, or the activity's.
    public var structureID: String?
    /// Whether the file is on the express path.
    public var express: Bool
    /// The emergency that justified it.
    public var expressJustification: String?
    /// The card this one replaces or renews.
    public var replacesCardID: String?
    /// Why the file was last rejected.
    public var rejectionReason: String?
    /// When the complete file was validated (`YYYY-MM-DD`).
    public var validatedOn: String?
    /// When the card is due (`YYYY-MM-DD`).
    public var dueOn: String?
    /// The card serial, once manufactured.
    public var serial: String?
    /// The last day of validity, once manufactured.
    public var expiresOn: String?
    /// The CA that issued its certificates.
    public var certificateIssuer: String?
    /// The authentication certificate's serial (hex).
    public var authenticationCertificate: String?
    /// The signature certificate's serial (hex).
    public var signatureCertificate: String?
    /// Where it is shipped (one line).
    public var shippingAddress: String?
    /// Whether it is a temporary card for internal use.
    public var temporary: Bool
    /// A digest of what the card carries (name, profession, structure), to tell when a
    /// registry change needs a new card.
    public var contentDigest: String?
    /// Created (ISO 8601).
    public var createdAt: String
    /// Last changed (ISO 8601).
    public var updatedAt: String
    /// Incremented by every change.
    public var version: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, state, instance, express, serial, temporary, version
        case idNat = "id_nat"
        case orderMode = "order_mode"
        case orderReason = "order_reason"
        case professionCode = "profession_code"
        case structureID = "structure_id"
        case expressJustification = "express_justification"
        case replacesCardID = "replaces_card_id"
        case rejectionReason = "rejection_reason"
        case validatedOn = "validated_on"
        case dueOn = "due_on"
        case expiresOn = "expires_on"
        case certificateIssuer = "certificate_issuer"
        case authenticationCertificate = "authentication_certificate"
        case signatureCertificate = "signature_certificate"
        case shippingAddress = "shipping_address"
        case contentDigest = "content_digest"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// A new file in the `ordered` state.
    public init(
        id: String, idNat: String, kind: String, orderMode: String, orderReason: String, instance: String,
        professionCode: String?, structureID: String?, replacesCardID: String? = nil, temporary: Bool = false, now: Date
    ) {
        self.id = id
        self.idNat = idNat
        self.kind = kind
        self.state = "ordered"
        self.orderMode = orderMode
        self.orderReason = orderReason
        self.instance = instance
        self.professionCode = professionCode
        self.structureID = structureID
        self.express = false
        self.replacesCardID = replacesCardID
        self.temporary = temporary
        self.createdAt = StoredTimestamp.string(now)
        self.updatedAt = self.createdAt
        self.version = 1
    }

    /// A digest of the record, for the audit log (the before and after of each change): every
    /// field but the bookkeeping ones (version, last change).
    public var digest: String {
        FieldDigest.sha256([
            id, idNat, kind, state, orderMode, orderReason, instance, professionCode, structureID, String(express),
            expressJustification, replacesCardID, rejectionReason, validatedOn, dueOn, serial, expiresOn, certificateIssuer,
            authenticationCertificate, signatureCertificate, shippingAddress, String(temporary), contentDigest, createdAt,
        ])
    }
}

// The one place where a card's stored text becomes typed values and back.
extension CardRecord {
    /// The record of a card. `createdAt` is written from the card's date; a repository that
    /// rewrites a stored row keeps the row's own text instead (see ``rewriting(_:)``).
    public init(_ card: Card) {
        self.init(
            id: card.id, idNat: card.holder.value, kind: card.kind.rawValue, orderMode: card.order.mode.rawValue,
            orderReason: card.order.reason.rawValue, instance: card.order.instance.code, professionCode: card.profession?.code,
            structureID: card.structure?.idNatStruct, replacesCardID: card.order.replaces, temporary: card.temporary,
            now: card.createdAt)
        fill(from: card)
    }

    /// This stored row with the card's changes: every field but the creation date and the
    /// bookkeeping, which the repository sets.
    func rewriting(_ card: Card) -> CardRecord {
        var row = self
        row.idNat = card.holder.value
        row.kind = card.kind.rawValue
        row.orderMode = card.order.mode.rawValue
        row.orderReason = card.order.reason.rawValue
        row.instance = card.order.instance.code
        row.professionCode = card.profession?.code
        row.structureID = card.structure?.idNatStruct
        row.replacesCardID = card.order.replaces
        row.temporary = card.temporary
        row.fill(from: card)
        return row
    }

    private mutating func fill(from card: Card) {
        state = card.state.rawValue
        express = card.isExpress
        expressJustification = card.expressJustification
        rejectionReason = card.rejectionReason
        validatedOn = card.validatedOn?.description
        dueOn = card.dueOn?.description
        serial = card.manufacture?.serial.value
        expiresOn = card.manufacture?.expiresOn.description
        certificateIssuer = card.manufacture?.certificates.issuer
        authenticationCertificate = card.manufacture?.certificates.authentication
        signatureCertificate = card.manufacture?.certificates.signature
        shippingAddress = card.manufacture?.shippingAddress
        contentDigest = card.contentDigest
        version = card.version
    }

    /// The card this row stores.
    /// - Throws: `storage.corrupt-row` when a field does not read as its type.
    public func card() throws(PersistenceError) -> Card {
        func read<T>(_ field: String, _ text: String, _ make: (String) throws -> T) throws(PersistenceError) -> T {
            do {
                return try make(text)
            } catch {
                throw PersistenceError.corrupt("card \(id)", "\(field) \"\(text)\" is not valid: \(error)")
            }
        }
        func readDate(_ field: String, _ text: String?) throws(PersistenceError) -> CivilDate? {
            guard let text else { return nil }
            return try read(field, text) { try CivilDate($0) }
        }
        guard let state = CardState(rawValue: state) else { throw PersistenceError.corrupt("card \(id)", "unknown state \(state)") }
        guard let kind = CardKind(rawValue: kind) else { throw PersistenceError.corrupt("card \(id)", "unknown kind \(kind)") }
        guard let mode = OrderMode(rawValue: orderMode) else {
            throw PersistenceError.corrupt("card \(id)", "unknown order mode \(orderMode)")
        }
        guard let reason = OrderReason(rawValue: orderReason) else {
            throw PersistenceError.corrupt("card \(id)", "unknown order reason \(orderReason)")
        }
        guard let created = StoredTimestamp.date(createdAt) else {
            throw PersistenceError.corrupt("card \(id)", "created_at \"\(createdAt)\" is not a timestamp")
        }
        var manufacture: CardManufacture?
        if let serial {
            guard let expiresOn, let certificateIssuer, let authenticationCertificate, let signatureCertificate else {
                throw PersistenceError.corrupt("card \(id)", "a made card has its expiry and both certificates")
            }
            manufacture = CardManufacture(
                serial: try read("serial", serial) { try CardSerial($0) },
                expiresOn: try read("expires_on", expiresOn) { try CivilDate($0) },
                certificates: CardCertificates(
                    issuer: certificateIssuer, authentication: authenticationCertificate, signature: signatureCertificate),
                shippingAddress: shippingAddress ?? "")
        }
        return Card(
            id: id, holder: try read("id_nat", idNat) { try IdNat($0) }, kind: kind, state: state,
            order: CardOrder(
                mode: mode, reason: reason, instance: try read("instance", instance) { try ValidatingInstance(code: $0) },
                replaces: replacesCardID),
            profession: try professionCode.map { code throws(PersistenceError) in try read("profession_code", code) { try Profession(code: $0) } },
            structure: try structureID.map { id throws(PersistenceError) in try read("structure_id", id) { try StructureIdentifier(idNatStruct: $0) } },
            expressJustification: express ? (expressJustification ?? "") : nil, rejectionReason: rejectionReason,
            validatedOn: try readDate("validated_on", validatedOn), dueOn: try readDate("due_on", dueOn),
            manufacture: manufacture, temporary: temporary, contentDigest: contentDigest, createdAt: created, version: version)
    }
}
