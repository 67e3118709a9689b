import Testing
@testable import OpenCPSDomain

private func profession(_ code: String) -> Profession { try! Profession(code: code) }

@Suite("Required documents")
struct RequiredDocumentsTests {
    @Test("an automatic order needs no document, unless it goes express")
    func automatic() {
        #expect(RequiredDocuments(kind: .cps, profession: profession("10"), mode: .liberal, orderMode: .automatic).kinds == [])
        #expect(RequiredDocuments(kind: .cps, profession: profession("10"), mode: .liberal, orderMode: .automatic, express: true).kinds
            == [.emergencyJustification])
    }

    @Test("a manual order depends on the profession and the mode of activity")
    func byProfessionAndMode() {
        #expect(RequiredDocuments(kind: .cps, profession: profession("10"), mode: .salarie, orderMode: .manual).kinds
            == [.identity, .orderRegistration, .proofOfActivity])
        #expect(RequiredDocuments(kind: .cps, profession: profession("10"), mode: .liberal, orderMode: .manual).kinds
            == [.identity, .orderRegistration, .proofOfAddress])
        #expect(RequiredDocuments(kind: .cps, profession: profession("91"), mode: .liberal, orderMode: .manual).kinds
            == [.identity, .diplomaOrRegisterEntry, .proofOfAddress])
        #expect(RequiredDocuments(kind: .cps, profession: profession("91"), mode: .benevole, orderMode: .manual).kinds
            == [.identity, .diplomaOrRegisterEntry, .proofOfActivity])
        #expect(RequiredDocuments(kind: .cpf, profession: profession("60"), mode: .salarie, orderMode: .manual, express: true).kinds
            == [.identity, .orderRegistration, .proofOfActivity, .emergencyJustification])
    }

    @Test("staff and managers' cards need an identity and a proof of activity")
    func staffCards() {
        for kind in [CardKind.cpe, .cpa, .cde, .cda] {
            #expect(RequiredDocuments(kind: kind, profession: nil, mode: .salarie, orderMode: .manual).kinds == [.identity, .proofOfActivity])
        }
    }

    @Test("a file lacking a document is refused, naming what is missing")
    func completeness() throws {
        let required = RequiredDocuments(kind: .cps, profession: profession("10"), mode: .salarie, orderMode: .manual)
        #expect(required.missing(from: [.identity]) == [.orderRegistration, .proofOfActivity])
        let error = try #require(throws: CardLifecycleError.self) { try required.checkComplete(provided: [.proofOfActivity, .identity]) }
        #expect(error.code == "card.documents-missing")
        #expect(error.reason == "the file lacks order_registration")
        try required.checkComplete(provided: [.identity, .orderRegistration, .proofOfActivity, .proofOfAddress])
    }

    @Test("PDF, JPEG and PNG up to 10 MiB are accepted, whatever the case and parameters")
    func acceptedDocuments() throws {
        let policy = DocumentPolicy.standard
        #expect(policy.maximumByteCount == 10_485_760)
        #expect(try policy.check(mediaType: "application/pdf", byteCount: 10_485_760) == "application/pdf")
        #expect(try policy.check(mediaType: " Image/JPEG ; name=scan.jpg", byteCount: 1) == "image/jpeg")
        #expect(try policy.check(mediaType: "image/png", byteCount: 8, leadingBytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == "image/png")
        #expect(try policy.check(mediaType: "application/pdf", byteCount: 9, leadingBytes: Array("%PDF-1.7\n".utf8)) == "application/pdf")
    }

    @Test("other types, empty or oversized files and mislabelled content are refused precisely")
    func refusedDocuments() throws {
        let policy = DocumentPolicy.standard
        let tooLarge = try #require(throws: CardLifecycleError.self) { try policy.check(mediaType: "application/pdf", byteCount: 10_485_761) }
        #expect(tooLarge.code == "card.document-too-large")
        #expect(tooLarge.reason == "the document has 10485761 bytes, more than the 10485760 bytes (10 MiB) accepted")
        let type = try #require(throws: CardLifecycleError.self) { try policy.check(mediaType: "image/gif", byteCount: 10) }
        #expect(type.code == "card.document-media-type")
        #expect(type.reason == #"documents of type "image/gif" are not accepted; send application/pdf, image/jpeg, image/png"#)
        #expect { try policy.check(mediaType: "application/pdf", byteCount: 0) } throws: { ($0 as? CardLifecycleError)?.code == "card.document-empty" }
        #expect { try policy.check(mediaType: "", byteCount: 3) } throws: { ($0 as? CardLifecycleError)?.code == "card.document-media-type" }
        let mismatch = try #require(throws: CardLifecycleError.self) {
            try policy.check(mediaType: "image/png", byteCount: 4, leadingBytes: Array("%PDF".utf8))
        }
        #expect(mismatch.code == "card.document-content-mismatch")
        #expect { try policy.check(mediaType: "image/jpeg", byteCount: 2, leadingBytes: [0xFF, 0xD8]) } throws: {
            ($0 as? CardLifecycleError)?.code == "card.document-content-mismatch"
        }
    }

    @Test("the size limit and media types are configurable, and nonsense is refused")
    func configuration() throws {
        let policy = try DocumentPolicy(allowedMediaTypes: ["Application/PDF"], maximumByteCount: 1024)
        #expect(try policy.check(mediaType: "application/pdf", byteCount: 1024) == "application/pdf")
        let error = try #require(throws: CardLifecycleError.self) { try policy.check(mediaType: "application/pdf", byteCount: 1025) }
        #expect(error.reason.contains("(1 KiB)"))
        #expect { try policy.check(mediaType: "image/png", byteCount: 10) } throws: { ($0 as? CardLifecycleError)?.code == "card.document-media-type" }
        #expect { try DocumentPolicy(maximumByteCount: 0) } throws: { ($0 as? CardLifecycleError)?.code == "card.configuration-invalid" }
        #expect { try DocumentPolicy(allowedMediaTypes: []) } throws: { ($0 as? CardLifecycleError)?.code == "card.configuration-invalid" }
    }
}
