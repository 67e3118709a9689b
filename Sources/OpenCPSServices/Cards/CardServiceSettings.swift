import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSTokens

/// The settings of the card lifecycle. Defaults marked "OpenCPS's choice" are not official
/// figures: they are configurable because no public source settles them.
public struct CardServiceSettings: Sendable {
    /// The delivery delay (8 to 15 working days after validation; express 2, OpenCPS's choice).
    public var delay: DeliveryDelay
    /// Card validity (5 years by default, DESIGN.md).
    public var validity: CardValidity
    /// Validity of a temporary card, in days (30, OpenCPS's choice).
    public var temporaryValidityDays: Int
    /// How many months before expiry a holder's renewal opens (3, DESIGN.md §1).
    public var renewalWindowMonths: Int
    /// The key algorithm of card keys: RSA-2048 (IGC-Santé compatible) or P-256.
    public var keyAlgorithm: KeyAlgorithm
    /// PIN and PUK tries.
    public var pinPolicy: PINPolicy
    /// Accepted documents.
    public var documentPolicy: DocumentPolicy
    /// The most documents one file holds (20, OpenCPS's choice: the longest list a profession
    /// requires is a handful, and a file is re-documented after a rejection).
    public var maximumDocumentsPerFile: Int
    /// The issuer identifier written in certificates with the card serial (`issuerId/serial`).
    public var cardIssuerIdentifier: String
    /// The domain of the authentication certificate's UPN (`idNat@domain`).
    public var cardDomain: String
    /// The prefix of tracking numbers (OpenCPS's own format: prefix + 12 digits).
    public var trackingPrefix: String
    /// Cards made per transaction in a production run (OpenCPS's choice; a tuning knob, not a rule).
    public var manufactureBatchSize: Int

    /// Creates the settings.
    public init(
        delay: DeliveryDelay = .standard, validity: CardValidity = .standard, temporaryValidityDays: Int = 30,
        keyAlgorithm: KeyAlgorithm = .rsa2048, pinPolicy: PINPolicy = .standard, documentPolicy: DocumentPolicy = .standard,
        cardIssuerIdentifier: String = "80276", cardDomain: String = "cps.opencps.invalid", trackingPrefix: String = "OC",
        manufactureBatchSize: Int = 128, maximumDocumentsPerFile: Int = 20,
        renewalWindowMonths: Int = RenewalSchedule.standardWindowMonths
    ) {
        self.renewalWindowMonths = renewalWindowMonths
        self.maximumDocumentsPerFile = maximumDocumentsPerFile
        self.delay = delay
        self.validity = validity
        self.temporaryValidityDays = temporaryValidityDays
        self.keyAlgorithm = keyAlgorithm
        self.pinPolicy = pinPolicy
        self.documentPolicy = documentPolicy
        self.cardIssuerIdentifier = cardIssuerIdentifier
        self.cardDomain = cardDomain
        self.trackingPrefix = trackingPrefix
        self.manufactureBatchSize = manufactureBatchSize
    }
}

extension CardActor {
    /// The actor as the audit log names it: `holder:<idNat>`, `ordre:CNOM`, `ars:<region code>`,
    /// `manager:<idNatStruct>`, `helpdesk`, `operator:<role>`, `platform`. When a staff member
    /// acts for an instance or a desk (``StaffDirectory/acting(_:as:_:)``), the person follows
    /// the role: `ordre:CNOM;person:<idNat>`.
    public var auditName: String {
        switch self {
        case .holder, .platform: auditRole
        default: StaffAuditContext.person.map { "\(auditRole);person:\($0.value)" } ?? auditRole
        }
    }

    /// Reads an actor written as ``auditName``.
    public init?(auditName written: String) {
        // The person of a staff action (`;person:<idNat>`) is not part of the role.
        let text = written.split(separator: ";", maxSplits: 1).first.map(String.init) ?? written
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("holder", 2): guard let idNat = try? IdNat(parts[1]) else { return nil }; self = .holder(idNat)
        case ("ordre", 2): guard let ordre = Ordre(rawValue: parts[1]) else { return nil }; self = .ordre(ordre)
        case ("ars", 2): guard let region = Region(rawValue: parts[1]) else { return nil }; self = .agenceRegionale(region)
        case ("manager", 2):
            guard let structure = try? StructureIdentifier(idNatStruct: parts[1]) else { return nil }
            self = .establishmentManager(structure)
        case ("helpdesk", 1): self = .helpDesk
        case ("operator", 2): guard let role = AgencyOperatorRole(rawValue: parts[1]) else { return nil }; self = .agencyOperator(role)
        case ("platform", 1): self = .platform
        default: return nil
        }
    }
}
