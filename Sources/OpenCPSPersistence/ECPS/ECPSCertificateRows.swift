import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// A device certificate's link to its device, login and card (`ecps_certificates`, M0020).
public struct ECPSCertificateLink: Sendable, Equatable, Codable {
    /// The approved login request it was asked after (one certificate per login).
    public var requestID: String
    /// The issuing CA's slug.
    public var issuer: String
    /// The serial number, lower-case hex.
    public var serial: String
    /// The device whose key it certifies.
    public var deviceID: String
    /// The holder's idNat.
    public var holder: String
    /// The serial of the card whose holder's name it carries.
    public var cardSerial: String
    /// End of validity (ISO 8601).
    public var notAfter: String
    /// When it was issued (ISO 8601).
    public var issuedAt: String

    /// Creates a link.
    public init(requestID: String, issuer: String, serial: String, deviceID: String, holder: String, cardSerial: String, notAfter: Date, issuedAt: Date) {
        self.requestID = requestID
        self.issuer = issuer
        self.serial = serial
        self.deviceID = deviceID
        self.holder = holder
        self.cardSerial = cardSerial
        self.notAfter = StoredTimestamp.string(notAfter)
        self.issuedAt = StoredTimestamp.string(issuedAt)
    }

    enum CodingKeys: String, CodingKey {
        case issuer, serial, holder
        case requestID = "request_id"
        case deviceID = "device_id"
        case cardSerial = "card_serial"
        case notAfter = "not_after"
        case issuedAt = "issued_at"
    }
}

extension ECPSRepository {
    /// Which of a device certificate's links to read.
    public enum CertificateSelection: Sendable {
        /// The certificates of one device.
        case device(String)
        /// The certificates naming one card.
        case card(String)
        /// Every certificate of a holder.
        case holder(IdNat)
    }

    /// Stores a device certificate's link (in the transaction that stores the certificate).
    public func insert(_ link: ECPSCertificateLink) async throws {
        try await sql.insert(into: "ecps_certificates").model(link).run()
    }

    /// The certificate asked after a login request, if there is one.
    public func certificateLink(requestID: String) async throws -> ECPSCertificateLink? {
        try await sql.select().columns("*").from("ecps_certificates").where("request_id", .equal, requestID).first(decoding: ECPSCertificateLink.self)
    }

    /// The links selected, whose certificates are still within their validity at `now`.
    public func unexpiredCertificates(_ selection: CertificateSelection, at now: Date) async throws -> [ECPSCertificateLink] {
        let query = sql.select().columns("*").from("ecps_certificates").where("not_after", .greaterThan, StoredTimestamp.string(now))
        switch selection {
        case .device(let id): query.where("device_id", .equal, id)
        case .card(let serial): query.where("card_serial", .equal, serial)
        case .holder(let idNat): query.where("holder", .equal, idNat.value)
        }
        return try await query.orderBy("issued_at").all(decoding: ECPSCertificateLink.self)
    }
}
