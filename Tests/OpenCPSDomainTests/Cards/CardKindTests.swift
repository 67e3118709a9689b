import Foundation
import Testing
@testable import OpenCPSDomain

private func profession(_ code: String) -> Profession { try! Profession(code: code) }
private let hospital = StructureIdentifier.finess(try! FINESS("250000700"))
private let company = StructureIdentifier.siret(try! SIRET("49940088500020"))

@Suite("Card kinds and instances")
struct CardKindTests {
    @Test("managers' cards are CPE- and CPA-typed cards with manager rights")
    func managerKinds() throws {
        #expect(CardKind.cde.cardType == .cpe)
        #expect(CardKind.cda.cardType == .cpa)
        #expect(CardKind.cde.cardType.numericCode == 2)
        #expect(CardKind.cda.cardType.numericCode == 3)
        #expect(try CardKind(type: .cpe, managerRights: true) == .cde)
        #expect(try CardKind(type: .cpa, managerRights: true) == .cda)
        #expect(try CardKind(type: .cps) == .cps)
        #expect(CardType.cpe.managerKind == .cde)
        #expect(CardType.cps.managerKind == nil)
        #expect(CardKind.allCases.filter(\.hasManagerRights) == [.cde, .cda])
        let error = try #require(throws: CardLifecycleError.self) { try CardKind(type: .cps, managerRights: true) }
        #expect(error.code == "card.kind-invalid")
    }

    @Test("every kind maps back to its card type code")
    func typeCodes() throws {
        for type in CardType.allCases {
            #expect(try CardKind(type: type).cardType == type)
            #expect(try CardKind(type: type).code == type.code)
        }
    }

    @Test("a CPE or a CDE never carries prescriber rights, even for a médecin")
    func prescriberRights() throws {
        let medecin = profession("10")
        #expect(CardKind.cps.carriesPrescriberRights(for: medecin))
        #expect(!CardKind.cps.carriesPrescriberRights(for: profession("21")))
        for kind in [CardKind.cpe, .cde, .cpa, .cda] {
            #expect(!kind.carriesPrescriberRights(for: medecin))
            let error = try #require(throws: CardLifecycleError.self) {
                try kind.checkPrescriberRights(requested: true, profession: medecin)
            }
            #expect(error.code == "card.prescriber-rights-refused")
            #expect(error.reason.contains("never carries prescriber rights"))
        }
        try CardKind.cps.checkPrescriberRights(requested: true, profession: medecin)
        try CardKind.cpe.checkPrescriberRights(requested: false, profession: medecin)
        #expect(throws: CardLifecycleError.self) { try CardKind.cps.checkPrescriberRights(requested: true, profession: profession("91")) }
    }

    @Test("the order validates ordinal professions, the ARS the others, the manager its staff")
    func competentInstance() throws {
        #expect(try ValidatingInstance.competent(for: .cps, profession: profession("10"), structure: nil) == .ordre(.cnom))
        #expect(try ValidatingInstance.competent(for: .cps, profession: profession("80"), structure: nil) == .ordre(.cnopp))
        #expect(try ValidatingInstance.competent(for: .cpf, profession: profession("60"), structure: nil) == .ordre(.oni))
        #expect(try ValidatingInstance.competent(for: .cps, profession: profession("91"), structure: nil) == .agenceRegionale)
        #expect(try ValidatingInstance.competent(for: .cpe, profession: nil, structure: hospital) == .establishmentManager(hospital))
        #expect(try ValidatingInstance.competent(for: .cpa, profession: nil, structure: company) == .establishmentManager(company))
        #expect(try ValidatingInstance.competent(for: .cde, profession: nil, structure: hospital) == .cardAgency)
        #expect { try ValidatingInstance.competent(for: .cps, profession: nil, structure: hospital) } throws: {
            ($0 as? CardLifecycleError)?.code == "card.instance-undetermined"
        }
        #expect { try ValidatingInstance.competent(for: .cpe, profession: profession("10"), structure: nil) } throws: {
            ($0 as? CardLifecycleError)?.code == "card.instance-undetermined"
        }
    }

    @Test("an instance round-trips through its stable code and JSON")
    func instanceCodes() throws {
        let instances: [ValidatingInstance] = [.ordre(.cnom), .agenceRegionale, .establishmentManager(hospital), .establishmentManager(company), .cardAgency]
        #expect(instances.map(\.code) == ["ordre:CNOM", "ars", "manager:1250000700", "manager:349940088500020", "agency"])
        for instance in instances { #expect(try ValidatingInstance(code: instance.code) == instance) }
        let data = try JSONEncoder().encode(instances)
        #expect(try JSONDecoder().decode([ValidatingInstance].self, from: data) == instances)
        for bad in ["ordre:XYZ", "manager:1250000701", "prefecture", ""] {
            #expect { try ValidatingInstance(code: bad) } throws: { ($0 as? CardLifecycleError)?.code == "card.instance-undetermined" }
        }
    }

    @Test("an order is automatic only for a CPS of an ordinal profession registered by its order")
    func orderMode() throws {
        let cnom = OrderRegistration(ordre: .cnom, registeredOn: try CivilDate("2020-09-01"))
        #expect(OrderMode(kind: .cps, profession: profession("10"), registration: cnom) == .automatic)
        #expect(OrderMode(kind: .cps, profession: profession("10"), registration: nil) == .manual)
        #expect(OrderMode(kind: .cps, profession: profession("21"), registration: cnom) == .manual)
        #expect(OrderMode(kind: .cps, profession: profession("91"), registration: nil) == .manual)
        #expect(OrderMode(kind: .cpf, profession: profession("10"), registration: cnom) == .manual)
        #expect(OrderMode(kind: .cpe, profession: profession("10"), registration: cnom) == .manual)
    }
}
