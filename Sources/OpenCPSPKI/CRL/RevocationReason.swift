import Foundation
import X509

/// RFC 5280 §5.3.1 CRLReason codes (7 is unused).
public enum RevocationReason: Int, Sendable, Codable, CaseIterable, Hashable {
    /// unspecified (0): written as no reason code, as RFC 5280 recommends.
    case unspecified = 0
    /// keyCompromise (1).
    case keyCompromise = 1
    /// cACompromise (2).
    case caCompromise = 2
    /// affiliationChanged (3).
    case affiliationChanged = 3
    /// superseded (4).
    case superseded = 4
    /// cessationOfOperation (5).
    case cessationOfOperation = 5
    /// certificateHold (6): a suspension that can be released.
    case certificateHold = 6
    /// removeFromCRL (8): only in delta CRLs, for a released hold.
    case removeFromCRL = 8
    /// privilegeWithdrawn (9).
    case privilegeWithdrawn = 9
    /// aACompromise (10).
    case aaCompromise = 10
}

/// One line of a CRL: a serial number, when it was revoked and why.
public struct CRLEntry: Sendable, Hashable {
    /// The revoked certificate's serial number.
    public var serialNumber: Certificate.SerialNumber
    /// When it was revoked (or put on hold, or released for `removeFromCRL`).
    public var revocationDate: Date
    /// The reason; `nil` or `.unspecified` writes no reason code.
    public var reason: RevocationReason?

    /// Creates an entry.
    public init(serialNumber: Certificate.SerialNumber, revocationDate: Date, reason: RevocationReason?) {
        self.serialNumber = serialNumber
        self.revocationDate = revocationDate
        self.reason = reason
    }
}

/// A revocation as the database keeps it: revoked (or held) at a time, maybe released later.
///
/// The pure functions below turn a list of these into full-CRL entries, delta-CRL entries and
/// OCSP statuses, so every channel says the same thing.
public struct RevocationRecord: Sendable, Hashable {
    /// The certificate's serial number.
    public var serialNumber: Certificate.SerialNumber
    /// When it was revoked or put on hold.
    public var revokedAt: Date
    /// Why (`certificateHold` for a suspension).
    public var reason: RevocationReason
    /// When a hold was released (only for `certificateHold`); then the certificate is good again.
    public var releasedAt: Date?

    /// Creates a record.
    public init(serialNumber: Certificate.SerialNumber, revokedAt: Date, reason: RevocationReason, releasedAt: Date? = nil) {
        self.serialNumber = serialNumber
        self.revokedAt = revokedAt
        self.reason = reason
        self.releasedAt = releasedAt
    }

    /// Whether the certificate is revoked or on hold at `date`.
    public func isRevoked(at date: Date) -> Bool {
        guard revokedAt <= date else { return false }
        if let releasedAt, releasedAt <= date { return false }
        return true
    }

    /// The entries of a full CRL at `thisUpdate`: every record revoked or held then and not released.
    public static func fullCRLEntries(_ records: [RevocationRecord], at thisUpdate: Date) -> [CRLEntry] {
        records.filter { $0.isRevoked(at: thisUpdate) }
            .map { CRLEntry(serialNumber: $0.serialNumber, revocationDate: $0.revokedAt, reason: $0.reason) }
    }

    /// The entries of a delta CRL against a base CRL issued at `baseThisUpdate`: revocations and holds
    /// made since the base, and `removeFromCRL` for holds on the base that were released since.
    public static func deltaCRLEntries(_ records: [RevocationRecord], since baseThisUpdate: Date, at thisUpdate: Date) -> [CRLEntry] {
        records.compactMap { record in
            let onBase = record.isRevoked(at: baseThisUpdate)
            let now = record.isRevoked(at: thisUpdate)
            switch (onBase, now) {
            case (false, true):
                return CRLEntry(serialNumber: record.serialNumber, revocationDate: record.revokedAt, reason: record.reason)
            case (true, false):
                return CRLEntry(serialNumber: record.serialNumber, revocationDate: record.releasedAt ?? thisUpdate, reason: .removeFromCRL)
            default:
                return nil
            }
        }
    }
}
