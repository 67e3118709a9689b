import Testing
@testable import OpenCPSDomain

private let alice = IdNat.rpps(try! RPPS("10000000009"))
private let bob = IdNat.rpps(try! RPPS("10000000017"))
private let hospital = StructureIdentifier.finess(try! FINESS("250000700"))
private let otherHospital = StructureIdentifier.finess(try! FINESS("250000452"))
private let nurse = try! IdNat.establishmentStaff(finess: FINESS("250000700"), localID: "IDE-042")

/// Alice's CPS as a médecin: validated by the CNOM.
private let alicesCPS = try! CardContext(holder: alice, kind: .cps, profession: Profession(code: "10"), structure: nil)
/// Bob's CPS as an orthophoniste: validated by the ARS.
private let bobsCPS = try! CardContext(holder: bob, kind: .cps, profession: Profession(code: "91"), structure: nil)
/// A nurse's CPE at the hospital: validated by the hospital's manager.
private let nursesCPE = try! CardContext(holder: nurse, kind: .cpe, profession: nil, structure: hospital)
/// Alice's CDE as the hospital's manager: validated by the card agency.
private let alicesCDE = try! CardContext(holder: alice, kind: .cde, profession: nil, structure: hospital)

private let everyAction: [CardAction] = [.view, .order, .moveToExpress] + CardTransition.allCases.map(CardAction.transition)

/// The actions an actor may take on a card in its scope.
private func allowedActions(_ actor: CardActor, on card: CardContext) -> Set<CardAction> {
    Set(everyAction.filter { CardAuthorization.isAllowed(actor, $0, on: card) })
}

private func expectForbidden(_ actor: CardActor, _ action: CardAction, on card: CardContext, because why: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(sourceLocation: sourceLocation) { try CardAuthorization.check(actor, action, on: card) } throws: { error in
        guard let error = error as? CardLifecycleError else { return false }
        return error.code == "card.forbidden" && error.reason.contains(why)
    }
}

@Suite("Card authorisation")
struct CardAuthorizationTests {
    @Test("a holder sees, orders, documents, activates and opposes their own card, nothing more")
    func holder() throws {
        #expect(allowedActions(.holder(alice), on: alicesCPS) == [
            .view, .order, .transition(.submitDocuments), .transition(.submitForValidation), .transition(.resubmit),
            .transition(.activate), .transition(.oppose),
        ])
        try CardAuthorization.check(.holder(alice), .declareOpposition, on: alicesCPS)
        expectForbidden(.holder(alice), .transition(.validate), on: alicesCPS, because: "not a right of the holder")
        expectForbidden(.holder(alice), .moveToExpress, on: alicesCPS, because: "not a right of the holder")
    }

    @Test("a holder cannot touch another person's card")
    func otherHolder() {
        for action in everyAction {
            expectForbidden(.holder(bob), action, on: alicesCPS, because: "a holder acts only on their own cards")
        }
    }

    @Test("a CPE holder activates and opposes their card but its file belongs to the manager")
    func staffHolder() {
        #expect(allowedActions(.holder(nurse), on: nursesCPE) == [.view, .transition(.activate), .transition(.oppose)])
    }

    @Test("an order decides on its own profession's cards only")
    func ordre() throws {
        #expect(allowedActions(.ordre(.cnom), on: alicesCPS) == [
            .view, .order, .transition(.submitForValidation), .transition(.requestDocuments), .transition(.validate),
            .transition(.reject), .transition(.revoke),
        ])
        try CardAuthorization.check(.ordre(.cnom), .transition(.validate), on: alicesCPS)
        expectForbidden(.ordre(.cnop), .transition(.validate), on: alicesCPS, because: "outside its scope")
        expectForbidden(.ordre(.cnom), .view, on: bobsCPS, because: "outside its scope")
        expectForbidden(.ordre(.cnom), .transition(.suspend), on: alicesCPS, because: "not a right of the order")
    }

    @Test("the ARS decides on non-ordinal professions' cards only, and does not order them")
    func agenceRegionale() {
        #expect(allowedActions(.agenceRegionale(.bretagne), on: bobsCPS) == [
            .view, .transition(.requestDocuments), .transition(.validate), .transition(.reject), .transition(.revoke),
        ])
        #expect(allowedActions(.agenceRegionale(.bretagne), on: alicesCPS).isEmpty)
        #expect(allowedActions(.agenceRegionale(.bretagne), on: nursesCPE).isEmpty)
    }

    @Test("a manager runs its own staff's cards, not another establishment's")
    func establishmentManager() {
        #expect(allowedActions(.establishmentManager(hospital), on: nursesCPE) == [
            .view, .order, .transition(.submitDocuments), .transition(.submitForValidation), .transition(.requestDocuments),
            .transition(.validate), .transition(.reject), .transition(.resubmit), .transition(.oppose), .transition(.revoke),
        ])
        #expect(allowedActions(.establishmentManager(otherHospital), on: nursesCPE).isEmpty)
        #expect(allowedActions(.establishmentManager(hospital), on: alicesCPS).isEmpty)
        // A manager does not validate their own manager's card.
        #expect(allowedActions(.establishmentManager(hospital), on: alicesCDE).isEmpty)
    }

    @Test("the help desk sees every file, declares oppositions and moves orders to express")
    func helpDesk() {
        for card in [alicesCPS, bobsCPS, nursesCPE, alicesCDE] {
            #expect(allowedActions(.helpDesk, on: card) == [.view, .moveToExpress, .transition(.oppose)])
        }
        expectForbidden(.helpDesk, .transition(.validate), on: alicesCPS, because: "not a right of the help desk")
    }

    @Test("agency operators act within their role")
    func operators() {
        #expect(allowedActions(.agencyOperator(.production), on: alicesCPS) == [
            .view, .transition(.startManufacture), .transition(.failManufacture), .transition(.ship), .transition(.deliver),
        ])
        #expect(allowedActions(.agencyOperator(.security), on: nursesCPE) == [
            .view, .transition(.suspend), .transition(.reinstate), .transition(.oppose), .transition(.revoke),
        ])
        #expect(allowedActions(.agencyOperator(.registration), on: alicesCDE) == [
            .view, .transition(.requestDocuments), .transition(.validate), .transition(.reject), .transition(.revoke),
        ])
        #expect(allowedActions(.agencyOperator(.registration), on: alicesCPS).isEmpty)
        expectForbidden(.agencyOperator(.production), .transition(.revoke), on: alicesCPS, because: "not a right of the production operators")
    }

    @Test("the platform expires and supersedes cards")
    func platform() {
        #expect(allowedActions(.platform, on: alicesCPS) == [.view, .transition(.expire), .transition(.supersede)])
    }

    @Test("a managers' card holder orders it and provides its documents")
    func managerCardHolder() {
        #expect(allowedActions(.holder(alice), on: alicesCDE).isSuperset(of: [.order, .transition(.submitDocuments)]))
    }

    @Test("the refusal says who, what and why")
    func reason() throws {
        let error = try #require(throws: CardLifecycleError.self) {
            try CardAuthorization.check(.ordre(.oni), .transition(.validate), on: alicesCPS)
        }
        #expect(error.reason == #"order ONI may not perform "validate" on this card: the card is outside its scope"#)
    }
}
