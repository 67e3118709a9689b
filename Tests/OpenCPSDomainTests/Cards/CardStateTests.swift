import Testing
@testable import OpenCPSDomain

/// The lifecycle table, written out independently of the implementation.
private let allowed: [CardState: [CardTransition: CardState]] = [
    .ordered: [.requestDocuments: .awaitingDocuments, .submitForValidation: .awaitingValidation],
    .awaitingDocuments: [.submitDocuments: .awaitingValidation],
    .awaitingValidation: [.validate: .validated, .reject: .rejected, .requestDocuments: .awaitingDocuments],
    .rejected: [.resubmit: .awaitingValidation],
    .validated: [.startManufacture: .inManufacture],
    .inManufacture: [.ship: .shipped, .failManufacture: .validated],
    .shipped: [.deliver: .delivered, .oppose: .opposed, .revoke: .revoked, .expire: .expired],
    .delivered: [.activate: .active, .oppose: .opposed, .revoke: .revoked, .expire: .expired, .supersede: .superseded],
    .active: [.suspend: .suspended, .oppose: .opposed, .revoke: .revoked, .expire: .expired, .supersede: .superseded],
    .suspended: [.reinstate: .active, .oppose: .opposed, .revoke: .revoked, .expire: .expired],
    .opposed: [:],
    .revoked: [:],
    .expired: [:],
    .superseded: [:],
]

private struct Pair: Sendable, CustomTestStringConvertible {
    let state: CardState
    let transition: CardTransition
    var testDescription: String { "\(state) × \(transition)" }
}

private let allPairs = CardState.allCases.flatMap { state in CardTransition.allCases.map { Pair(state: state, transition: $0) } }

@Suite("Card lifecycle")
struct CardStateTests {
    @Test("every allowed transition leads to the listed state")
    func allowedTransitions() throws {
        var count = 0
        for (state, transitions) in allowed {
            for (transition, next) in transitions {
                #expect(try state.applying(transition) == next, "\(state) × \(transition)")
                count += 1
            }
        }
        #expect(count == 28)
    }

    @Test("every pair outside the table is refused with card.transition-refused", arguments: allPairs)
    fileprivate func everyPair(pair: Pair) throws {
        if let next = allowed[pair.state]?[pair.transition] {
            #expect(try pair.state.applying(pair.transition) == next)
        } else {
            let error = try #require(throws: CardLifecycleError.self) { try pair.state.applying(pair.transition) }
            #expect(error.code == "card.transition-refused")
            #expect(error.reason.contains("\"\(pair.state.rawValue)\""))
            #expect(error.reason.contains("\"\(pair.transition.rawValue)\""))
        }
    }

    @Test("the refusal names the state, the transition and what is allowed instead")
    func refusalReason() throws {
        let error = try #require(throws: CardLifecycleError.self) { try CardState.awaitingDocuments.applying(.validate) }
        #expect(error.reason == #"a card in state "awaiting_documents" cannot be validated (transition "validate"); allowed from awaiting documents: "submit_documents""#)
        let terminal = try #require(throws: CardLifecycleError.self) { try CardState.revoked.applying(.reinstate) }
        #expect(terminal.reason.hasSuffix("revoked is a terminal state"))
    }

    @Test("a full life goes from order to activation, suspension, reinstatement and expiry")
    func fullLife() throws {
        let path: [CardTransition] = [
            .requestDocuments, .submitDocuments, .reject, .resubmit, .validate, .startManufacture, .failManufacture,
            .startManufacture, .ship, .deliver, .activate, .suspend, .reinstate, .expire,
        ]
        var state = CardState.ordered
        for transition in path { state = try state.applying(transition) }
        #expect(state == .expired)
    }

    @Test("rejected is not terminal; opposed, revoked, expired and superseded are")
    func terminalStates() {
        #expect(CardState.allCases.filter(\.isTerminal) == [.opposed, .revoked, .expired, .superseded])
        #expect(CardState.rejected.allowedTransitions == [.resubmit])
        #expect(CardState.allCases.filter(\.isInService) == [.active])
    }

    @Test("opposition is possible from shipped, delivered, active and suspended only")
    func opposition() {
        #expect(CardState.allCases.filter { (try? $0.applying(.oppose)) != nil } == [.shipped, .delivered, .active, .suspended])
    }

    @Test("states and transitions have stable snake_case names and French labels")
    func names() throws {
        #expect(CardState.awaitingDocuments.rawValue == "awaiting_documents")
        #expect(CardState.inManufacture.rawValue == "in_manufacture")
        #expect(CardState(rawValue: "awaiting_validation") == .awaitingValidation)
        #expect(CardTransition.submitForValidation.rawValue == "submit_for_validation")
        #expect(CardState.opposed.frenchLabel == "En opposition")
        for state in CardState.allCases {
            #expect(state.rawValue.allSatisfy { $0.isLowercase || $0 == "_" })
            #expect(!state.frenchLabel.isEmpty)
        }
        for transition in CardTransition.allCases {
            #expect(transition.rawValue.allSatisfy { $0.isLowercase || $0 == "_" })
            #expect(!transition.frenchLabel.isEmpty)
        }
        #expect(Set(CardState.allCases.map(\.frenchLabel)).count == CardState.allCases.count)
    }

    @Test("states before shipping are the ordering ones")
    func beforeShipping() {
        #expect(CardState.allCases.filter(\.isBeforeShipping)
            == [.ordered, .awaitingDocuments, .awaitingValidation, .rejected, .validated, .inManufacture])
    }
}
