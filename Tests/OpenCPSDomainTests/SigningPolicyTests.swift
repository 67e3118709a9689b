import OpenCPSDomain
import Testing

@Suite("Signing policy: who may sign which document")
struct SigningPolicyTests {
    func signer(_ type: CardType, _ code: String?) throws -> SignerQualification {
        SignerQualification(cardType: type, profession: try code.map { try Profession(code: $0) })
    }

    func code(_ signer: SignerQualification, _ document: SignedDocumentType) -> String? {
        do {
            try SigningPolicy.check(signer, maySign: document)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("a prescription: a prescriber on a CPS or CPF, never a CPE or CPA, never a non-prescriber")
    func prescription() throws {
        #expect(code(try signer(.cps, "10"), .prescription) == nil)
        #expect(code(try signer(.cpf, "40"), .prescription) == nil)
        #expect(code(try signer(.cps, "50"), .prescription) == nil)
        #expect(code(try signer(.cpe, "10"), .prescription) == "signature.policy.prescriber-required")
        #expect(code(try signer(.cpa, "10"), .prescription) == "signature.policy.prescriber-required")
        #expect(code(try signer(.cps, "21"), .prescription) == "signature.policy.prescriber-required")
        #expect(code(try signer(.cps, nil), .prescription) == "signature.policy.prescriber-required")
    }

    @Test("a medical certificate: a médecin on a personal card")
    func medicalCertificate() throws {
        #expect(code(try signer(.cps, "10"), .medicalCertificate) == nil)
        #expect(code(try signer(.cpf, "10"), .medicalCertificate) == nil)
        #expect(code(try signer(.cps, "60"), .medicalCertificate) == "signature.policy.physician-required")
        #expect(code(try signer(.cpe, "10"), .medicalCertificate) == "signature.policy.physician-required")
    }

    @Test("a care sheet: a CPS of a health profession, not a CPF, CPE or CPA")
    func careSheet() throws {
        #expect(code(try signer(.cps, "60"), .careSheet) == nil)
        #expect(code(try signer(.cps, "21"), .careSheet) == nil)
        #expect(code(try signer(.cpf, "10"), .careSheet) == "signature.policy.billing-activity-required")
        #expect(code(try signer(.cpe, "10"), .careSheet) == "signature.policy.billing-activity-required")
        #expect(code(try signer(.cps, nil), .careSheet) == "signature.policy.billing-activity-required")
    }

    @Test("document types read from their codes; an unknown code is refused with the list")
    func documentTypes() throws {
        #expect(try SignedDocumentType(code: "care-sheet") == .careSheet)
        #expect(throws: SigningPolicyError.self) { try SignedDocumentType(code: "invoice") }
    }
}
