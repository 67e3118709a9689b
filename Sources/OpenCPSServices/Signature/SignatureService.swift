import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence
import X509

/// Verifies document signatures against the platform's own revocation data, and runs the
/// time-stamping authority (DESIGN.md §5).
public final class SignatureService: Sendable {
    /// The time-stamping authority, when the hierarchy has one.
    public let timeStampAuthority: TimeStampAuthority?
    private let verifier: CAdESVerifier
    private let clock: any WallClock

    /// Creates the service.
    /// - Parameters:
    ///   - hierarchy: the CAs (trust anchors) and the TSA certificate.
    ///   - keyStore: where the TSA's key is; nil for a service that only verifies (`opencps signature verify`).
    ///   - database: where the certificates' revocations are.
    ///   - clock: the time of verifications and time-stamps.
    ///   - random: the source of time-stamp serial numbers.
    public init(hierarchy: PKIHierarchy, keyStore: (any KeyStore)?, database: ServiceDatabase, clock: any WallClock, random: RandomBytes = .system) throws {
        self.clock = clock
        timeStampAuthority = try keyStore.flatMap { keyStore in
            try hierarchy.timeStamping.map { try TimeStampAuthority(authority: $0, keyStore: keyStore, random: random) }
        }
        verifier = CAdESVerifier(
            hierarchy: hierarchy, timeStampAuthorities: hierarchy.timeStamping.map { [$0.certificate] } ?? [],
            status: { issuer, serial in
                let state = try await CertificateRepository(database: database.current, clock: clock).status(issuer: issuer, serial: serial.hex)
                guard state.issued else { return .notIssued }
                guard let revocation = state.revocation, let reason = RevocationReason(rawValue: revocation.reason) else { return .good }
                return .revoked(RevocationRecord(serialNumber: serial, revokedAt: revocation.revokedAt, reason: reason, releasedAt: revocation.releasedAt))
            })
    }

    /// Verifies a detached signature of `document` as a document of `type`, now.
    public func verify(document: [UInt8], signature: [UInt8], as type: SignedDocumentType) async -> SignatureVerification {
        await verifier.verify(document: document, signature: signature, as: type, now: clock.now())
    }

    /// Answers a DER `TimeStampReq` with a DER `TimeStampResp`.
    /// - Throws: ``PKIError`` `pki.tsa.unavailable` when the hierarchy has no TSA.
    public func timeStamp(_ request: [UInt8]) throws -> [UInt8] {
        guard let timeStampAuthority else {
            throw PKIError(code: "pki.tsa.unavailable", reason: "This PKI has no time-stamping authority: run `opencps pki init` or restart to add one.")
        }
        return timeStampAuthority.respond(to: request, now: clock.now())
    }
}
