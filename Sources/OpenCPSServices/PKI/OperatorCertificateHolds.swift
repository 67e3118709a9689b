import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// An operator's release of a certificate hold, apart from the card lifecycle.
///
/// A card's suspension holds its certificates and its reinstatement releases them, in the card's
/// transaction (``CardBlocking``). Such a hold belongs to the card: an operator who released it
/// would leave a suspended card whose certificates OCSP calls good. So an operator may release
/// only holds no suspended card owns — holds they placed themselves on a certificate whose card
/// is not suspended (or that belongs to no card).
public struct OperatorCertificateHolds: Sendable {
    private let pki: PKIService
    private let database: ServiceDatabase

    /// Creates the service.
    public init(pki: PKIService, database: ServiceDatabase) {
        self.pki = pki
        self.database = database
    }

    /// Releases a hold for an operator, as ``PKIService/releaseHold(issuer:serialHex:actor:detail:)`` does.
    /// - Throws: ``CardLifecycleError`` `certificate.hold-owned-by-card` when the certificate's card
    ///   is suspended (the reason names neither the card nor its holder); the service's errors otherwise.
    public func release(issuer: String, serialHex: String, actor: String, detail: String?) async throws -> CertificateView {
        try await database.transaction { db in
            // Read under the audit lock that the card's reinstatement also takes first.
            if let card = try await CardCertificateOwner(database: db).lockedCard(certificateIssuer: issuer, serial: serialHex),
               card.state == .suspended {
                throw CardLifecycleError(
                    code: "certificate.hold-owned-by-card",
                    reason: "this hold was placed by the suspension of the certificate's card: only the card's reinstatement releases it")
            }
            return try await self.pki.releaseHold(issuer: issuer, serialHex: serialHex, actor: actor, detail: detail)
        }
    }
}
