/// The kinds of document a professional signs with the card (DESIGN.md §5).
public enum SignedDocumentType: String, Sendable, Codable, CaseIterable, Hashable, CustomStringConvertible {
    /// A prescription (*ordonnance*).
    case prescription
    /// A medical certificate (*certificat médical*).
    case medicalCertificate = "medical-certificate"
    /// A care sheet (*feuille de soins électronique*, FSE) sent to a payer.
    case careSheet = "care-sheet"

    /// The stable code, such as `care-sheet`.
    public var code: String { rawValue }

    /// The French name.
    public var frenchLabel: String {
        switch self {
        case .prescription: "Ordonnance"
        case .medicalCertificate: "Certificat médical"
        case .careSheet: "Feuille de soins électronique"
        }
    }

    /// The code.
    public var description: String { rawValue }

    /// The type with this code.
    /// - Throws: ``SigningPolicyError`` with code `signature.document-type-unknown`.
    public init(code: String) throws(SigningPolicyError) {
        guard let type = SignedDocumentType(rawValue: code) else {
            let known = SignedDocumentType.allCases.map(\.code).joined(separator: ", ")
            throw SigningPolicyError(code: "signature.document-type-unknown", reason: "\"\(code)\" is not a document type (\(known))")
        }
        self = type
    }
}

/// What the signing policy knows of a signer: what the signature certificate says.
public struct SignerQualification: Sendable, Hashable {
    /// The card type (the certificate's card type extension).
    public var cardType: CardType
    /// The profession, when the certificate names one of the nomenclature.
    public var profession: Profession?

    /// Creates the facts.
    public init(cardType: CardType, profession: Profession?) {
        self.cardType = cardType
        self.profession = profession
    }
}

/// A refusal of the signing policy, or a document type that does not exist.
public struct SigningPolicyError: DomainError, Equatable {
    /// The stable code, such as `signature.policy.prescriber-required`.
    public let code: String
    /// Why.
    public let reason: String

    /// Creates an error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// Who may sign which document type: the rule `opencps card sign` applies before asking for the
/// PIN and the verifier applies to every signature.
///
/// - A prescription: a prescribing profession (``Profession/isPrescriber``) on a CPS or a CPF,
///   never a CPE or a CPA (``CardKind/carriesPrescriberRights(for:)``).
/// - A medical certificate: a médecin (profession 10) on a CPS or a CPF; certificates written by
///   other professions (sages-femmes, chirurgiens-dentistes) exist but are not modelled.
/// - A care sheet: a professional with a billing activity. A card certificate says nothing of the
///   holder's activities, so OpenCPS reads "billing activity" as a CPS of a health profession of
///   TRE_G15 (a CPF holder in training, and staff cards, do not bill the Assurance Maladie in
///   their own name). This reading is OpenCPS's choice, not an official rule.
public enum SigningPolicy {
    /// Whether `signer` may sign a document of `type`.
    /// - Throws: ``SigningPolicyError`` naming the rule the signer fails.
    public static func check(_ signer: SignerQualification, maySign type: SignedDocumentType) throws(SigningPolicyError) {
        let kind = CardKind(cardType: signer.cardType)
        let profession = signer.profession.map(\.description) ?? "no profession of the nomenclature"
        switch type {
        case .prescription:
            guard kind.carriesPrescriberRights(for: signer.profession) else {
                let why = kind.isStaffCard
                    ? "a \(kind.code) never carries prescriber rights"
                    : "\(profession) is not a prescribing profession"
                throw SigningPolicyError(code: "signature.policy.prescriber-required", reason: "a prescription is signed by a prescriber: \(why)")
            }
        case .medicalCertificate:
            guard !kind.isStaffCard, signer.profession?.code == "10" else {
                throw SigningPolicyError(
                    code: "signature.policy.physician-required",
                    reason: "a medical certificate is signed by a médecin with a CPS or CPF, not \(profession) with a \(kind.code)")
            }
        case .careSheet:
            guard kind == .cps, let holder = signer.profession, holder.codeSystem == .g15ProfessionSante else {
                throw SigningPolicyError(
                    code: "signature.policy.billing-activity-required",
                    reason: "a care sheet is signed by a health professional who bills (a CPS), not \(profession) with a \(kind.code)")
            }
        }
    }
}

extension CardKind {
    /// The kind a card type shows in certificates, without manager rights (a CDE shows as a CPE).
    init(cardType: CardType) {
        switch cardType {
        case .cps: self = .cps
        case .cpf: self = .cpf
        case .cpe: self = .cpe
        case .cpa: self = .cpa
        }
    }
}
