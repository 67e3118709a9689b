import FluentKit
import OpenCPSDomain
import SQLKit

/// Which card a certificate belongs to, for the rules that depend on it (a hold placed by a
/// card's suspension is released only by the card's reinstatement).
public struct CardCertificateOwner: Sendable {
    private let database: any Database

    /// Creates the lookup; give it the running transaction's database.
    public init(database: any Database) {
        self.database = database
    }

    /// The card holding certificate `serial` of `issuer`, if any, read under the audit log's
    /// write lock: no card change can slip between this read and what the transaction writes
    /// next (every card change takes the same lock first).
    public func lockedCard(certificateIssuer issuer: String, serial: String) async throws -> Card? {
        let sql = database.sql
        _ = try await AuditLog.lock(sql)
        return try await sql.select().columns("*").from("cards").where("certificate_issuer", .equal, issuer)
            .where { $0.where("authentication_certificate", .equal, serial).orWhere("signature_certificate", .equal, serial) }
            .first(decoding: CardRecord.self)?.card()
    }
}
