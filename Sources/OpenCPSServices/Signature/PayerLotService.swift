import Foundation
import OpenCPSDomain
import OpenCPSPKI

/// One signed care sheet of a lot: the FSE's bytes and their detached CMS signature, as sent.
public struct SignedCareSheet: Sendable, Hashable {
    /// The care sheet's JSON bytes (``CareSheet/canonicalJSON()`` when made by OpenCPS).
    public var document: [UInt8]
    /// The detached CAdES signature (DER).
    public var signature: [UInt8]

    /// Creates a sheet.
    public init(document: [UInt8], signature: [UInt8]) {
        self.document = document
        self.signature = signature
    }
}

/// Why a sheet of a lot was refused: a stable code and a reason.
public struct LotRefusalReason: Sendable, Hashable, Codable {
    /// The code: a signature verdict's (`signature.integrity.document-altered`) or a care sheet's (`care-sheet.nir.invalid-key`).
    public var code: String
    /// Why, for people.
    public var reason: String
}

/// The payer's answer to one sheet.
public struct LotSheetOutcome: Sendable, Hashable {
    /// The sheet's position in the lot, from 0.
    public var index: Int
    /// The signer's idNat, when the signature certificate was found.
    public var signerIdNat: String?
    /// The care sheet's total, when it could be read.
    public var totalCents: Int?
    /// Why the sheet was refused; empty when it was accepted.
    public var reasons: [LotRefusalReason]
}

/// The acknowledgment of a lot (*accusé de réception*).
public struct LotAcknowledgment: Sendable, Hashable {
    /// The lot's identifier, given by the payer.
    public var lotId: UUID
    /// When the lot was received.
    public var receivedAt: Date
    /// The sheets accepted.
    public var accepted: [LotSheetOutcome]
    /// The sheets refused, each with its reasons.
    public var refused: [LotSheetOutcome]
}

/// A lot the payer does not read at all.
public struct LotError: DomainError, Equatable {
    /// The stable code, such as `lot.too-large`.
    public let code: String
    /// Why.
    public let reason: String
}

/// A DEMONSTRATION relying service: a payer (such as the Assurance Maladie, which runs its own)
/// receiving lots of signed care sheets, so that a billing workflow can be tried end to end.
///
/// Each sheet is accepted when its signature verifies as a `care-sheet` (every verdict of
/// ``SignatureService/verify(document:signature:as:)``), its content is a valid ``CareSheet``, and
/// its signer (the certificate's idNat) is the sheet's executing professional. Nothing is stored.
public struct PayerLotService: Sendable {
    /// The largest lot OpenCPS accepts by default; OpenCPS's choice, not the payer's rule.
    public static let defaultMaximumSheets = 500
    private let signatures: SignatureService
    private let clock: any WallClock
    private let random: RandomBytes
    /// The largest lot accepted.
    public let maximumSheets: Int

    /// Creates the service.
    /// - Parameters:
    ///   - signatures: the verifier.
    ///   - clock: the time of receipt.
    ///   - random: the source of lot identifiers.
    ///   - maximumSheets: the largest lot accepted.
    public init(signatures: SignatureService, clock: any WallClock, random: RandomBytes = .system, maximumSheets: Int = defaultMaximumSheets) {
        self.signatures = signatures
        self.clock = clock
        self.random = random
        self.maximumSheets = maximumSheets
    }

    /// Verifies every sheet of a lot and acknowledges it.
    /// - Throws: ``LotError`` `lot.empty` or `lot.too-large`.
    public func receive(_ sheets: [SignedCareSheet]) async throws(LotError) -> LotAcknowledgment {
        guard !sheets.isEmpty else { throw LotError(code: "lot.empty", reason: "a lot holds at least one care sheet") }
        guard sheets.count <= maximumSheets else {
            throw LotError(code: "lot.too-large", reason: "a lot holds at most \(maximumSheets) care sheets, not \(sheets.count)")
        }
        let receivedAt = clock.now()
        var accepted: [LotSheetOutcome] = []
        var refused: [LotSheetOutcome] = []
        for (index, sheet) in sheets.enumerated() {
            let outcome = await judge(sheet, index: index)
            if outcome.reasons.isEmpty { accepted.append(outcome) } else { refused.append(outcome) }
        }
        var bytes = random.bytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let lotId = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return LotAcknowledgment(lotId: lotId, receivedAt: receivedAt, accepted: accepted, refused: refused)
    }

    private func judge(_ sheet: SignedCareSheet, index: Int) async -> LotSheetOutcome {
        let verification = await signatures.verify(document: sheet.document, signature: sheet.signature, as: .careSheet)
        let verdicts = [verification.integrity, verification.chain, verification.revocationAtSigningTime, verification.revocationNow,
                        verification.policy] + (verification.timeStamp.map { [$0] } ?? [])
        var reasons = verdicts.filter { $0.status != .passed }.map { LotRefusalReason(code: $0.code, reason: $0.reason) }
        var careSheet: CareSheet?
        do throws(CareSheetError) {
            careSheet = try CareSheet.parse(sheet.document)
        } catch {
            reasons.append(LotRefusalReason(code: error.code, reason: error.reason))
        }
        let signer = verification.signer?.idNat
        if let careSheet, let signer, careSheet.professionalIdNat != signer {
            reasons.append(LotRefusalReason(
                code: "lot.signer-not-professional",
                reason: "the care sheet's executing professional is \(careSheet.professionalIdNat) but \(signer) signed it"))
        }
        return LotSheetOutcome(index: index, signerIdNat: signer, totalCents: careSheet?.totalCents, reasons: reasons)
    }
}
