import Foundation
import OpenCPSDomain
import Testing

/// The card aggregate: its transitions, the changes that go with them, and its predicates.
@Suite("Card aggregate")
struct CardTests {
    static let holder = try! IdNat("810100271385")
    static let created = Date(timeIntervalSince1970: 1_795_510_800)
    static let hospital = try! StructureIdentifier(idNatStruct: "1750712184")

    static func order(mode: OrderMode = .manual, reason: OrderReason = .first) -> Card {
        Card(
            id: "9f1c2f3e-0000-4000-8000-000000000001", holder: holder, kind: .cps,
            order: CardOrder(mode: mode, reason: reason, instance: .ordre(.cnom)),
            profession: try! Profession(code: "10"), structure: hospital, createdAt: created)
    }

    static let made = CardManufacture(
        serial: try! CardSerial("3100345668"), expiresOn: try! CivilDate("2031-11-24"),
        certificates: CardCertificates(issuer: "forte-personnes", authentication: "0a", signature: "0b"),
        shippingAddress: "Claire Martin, 1 rue de la Paix, 75002 Paris")

    /// A card walked through `transitions` from its order.
    static func card(after transitions: [CardTransition]) throws -> Card {
        var card = order()
        for transition in transitions { try card.apply(transition) }
        return card
    }

    @Test("a new order is ordered, version 1, not express, with nothing made")
    func newOrder() {
        let card = Self.order()
        #expect(card.state == .ordered && card.version == 1 && !card.isExpress && card.manufacture == nil)
        #expect(card.deliveryPath == .standard && card.acceptsDocuments && !card.isClosed && !card.isIssued)
        #expect(card.context == CardContext(holder: Self.holder, kind: .cps, instance: .ordre(.cnom)))
    }

    @Test("every transition the state table allows is applied, every other is refused and leaves the card as it was")
    func transitionsFollowTheTable() throws {
        for state in CardState.allCases {
            for transition in CardTransition.allCases {
                let card = try Self.card(inState: state)
                if let expected = try? state.applying(transition) {
                    #expect(try card.applying(transition).state == expected)
                } else {
                    var refused = card
                    #expect(throws: CardLifecycleError.self) { try refused.apply(transition) }
                    #expect(refused == card)
                }
            }
        }
    }

    @Test("validation dates the file and sets its due date on its path; a rejection keeps its reason until then")
    func validationAndRejection() throws {
        var card = try Self.card(after: [.submitForValidation])
        try card.reject(reason: "pièce d'identité illisible")
        #expect(card.state == .rejected && card.rejectionReason == "pièce d'identité illisible")
        #expect(card.submission == .resubmit && card.acceptsDocuments && card.isClosed)
        try card.apply(.resubmit)
        let day = try CivilDate("2026-11-24")
        try card.validate(on: day, delay: .standard)
        #expect(card.state == .validated && card.validatedOn == day && card.rejectionReason == nil)
        #expect(card.dueOn == DeliveryDelay.standard.deadline(validatedOn: day, path: .standard).due)
        #expect(!card.acceptsDocuments && card.isInProduction)
    }

    @Test("the express path recomputes a validated file's due date, and comes too late once the card has left")
    func express() throws {
        let day = try CivilDate("2026-11-24")
        var card = try Self.card(after: [.submitForValidation])
        try card.validate(on: day, delay: .standard)
        try card.moveToExpress(justification: "remplacement urgent", delay: .standard)
        #expect(card.isExpress && card.deliveryPath == .express)
        #expect(card.dueOn == DeliveryDelay.standard.deadline(validatedOn: day, path: .express).due)
        var waiting = Self.order()
        try waiting.moveToExpress(justification: "urgence", delay: .standard)
        #expect(waiting.isExpress && waiting.dueOn == nil)
        var shipped = try Self.card(inState: .shipped)
        #expect(throws: CardLifecycleError(code: "card.express-too-late", reason: "a card in state shipped is past the point where express helps")) {
            try shipped.moveToExpress(justification: "trop tard", delay: .standard)
        }
    }

    @Test("shipping records what the card carries and passes through manufacture")
    func shipping() throws {
        var card = try Self.card(after: [.submitForValidation, .validate])
        try card.ship(Self.made, contentDigest: "abc")
        #expect(card.state == .shipped && card.manufacture == Self.made && card.contentDigest == "abc")
        #expect(card.isIssued && !card.isInService && !card.isWithHolder)
        var notValidated = Self.order()
        #expect(throws: CardLifecycleError.self) { try notValidated.ship(Self.made, contentDigest: "abc") }
        #expect(notValidated.manufacture == nil)
    }

    @Test("predicates by state: in production, issued, renewable, with the holder, closed")
    func predicates() throws {
        let expectations: [(CardState, inProduction: Bool, issued: Bool, renewable: Bool, withHolder: Bool, closed: Bool)] = [
            (.ordered, false, false, false, false, false), (.validated, true, false, false, false, false),
            (.inManufacture, true, false, false, false, false), (.shipped, false, true, false, false, false),
            (.delivered, false, true, true, true, false), (.active, false, true, true, true, false),
            (.suspended, false, true, true, false, false), (.rejected, false, false, false, false, true),
            (.opposed, false, false, false, false, true), (.revoked, false, false, false, false, true),
            (.expired, false, false, false, false, true), (.superseded, false, false, false, false, true),
        ]
        for (state, inProduction, issued, renewable, withHolder, closed) in expectations {
            let card = try Self.card(inState: state)
            #expect(card.isInProduction == inProduction, "\(state)")
            #expect(card.isIssued == issued, "\(state)")
            #expect(card.isInService == renewable, "\(state)")
            #expect(card.isWithHolder == withHolder, "\(state)")
            #expect(card.isClosed == closed, "\(state)")
        }
    }

    @Test("a file is overdue only in production and past its due date; a card has expired after its last day")
    func overdueAndExpiry() throws {
        var card = try Self.card(after: [.submitForValidation])
        let day = try CivilDate("2026-11-24")
        try card.validate(on: day, delay: .standard)
        let due = try #require(card.dueOn)
        #expect(!card.isOverdue(on: due) && card.isOverdue(on: due.adding(days: 1)))
        try card.ship(Self.made, contentDigest: "abc")
        #expect(!card.isOverdue(on: due.adding(days: 100)))
        #expect(!card.hasExpired(on: Self.made.expiresOn) && card.hasExpired(on: Self.made.expiresOn.adding(days: 1)))
    }

    @Test("the submission transition depends on where the file stands")
    func submission() throws {
        #expect(Self.order().submission == .submitForValidation)
        #expect(try Self.card(after: [.requestDocuments]).submission == .submitDocuments)
        #expect(try Self.card(after: [.submitForValidation, .reject]).submission == .resubmit)
    }

    /// A card in `state`, reached by the shortest path of the state table.
    @Test("renewal: a delivered or active card, from 3 months before expiry; never a blocked card")
    func renewal() throws {
        func made(_ state: CardState) throws -> Card {
            var card = try Self.card(inState: state)
            card.manufacture = Self.made
            return card
        }
        let opens = try CivilDate("2031-08-24")
        for state in [CardState.delivered, .active] {
            let card = try made(state)
            #expect(throws: Never.self) { try card.checkRenewal(on: opens) }
            #expect(throws: Never.self) { try card.checkRenewal(on: try CivilDate("2031-11-24")) }
            #expect(throws: CardLifecycleError(
                code: "card.renewal-not-open",
                reason: "the renewal of a card expiring on 2031-11-24 opens on 2031-08-24; "
                    + "before that, a card is replaced only after an opposition or a change in the registry")) {
                try card.checkRenewal(on: opens.adding(days: -1))
            }
            // The window is configurable: 6 months opens it on 2031-05-24.
            #expect(throws: Never.self) { try card.checkRenewal(on: try CivilDate("2031-05-24"), windowMonths: 6) }
        }
        let suspended = try made(.suspended)
        #expect(throws: CardLifecycleError(
            code: "card.not-renewable",
            reason: "a suspended card is blocked and is not renewed: its review ends in a reinstatement or a revocation")) {
            try suspended.checkRenewal(on: opens)
        }
        for state in [CardState.validated, .shipped, .opposed, .revoked, .expired, .superseded] {
            #expect(throws: CardLifecycleError.self, "\(state)") { try made(state).checkRenewal(on: opens) }
        }
    }

    @Test("a temporary card is for the establishment's salaried staff only")
    func temporaryCardHolders() throws {
        let clinic = try StructureIdentifier(idNatStruct: "1750712184")
        let other = try StructureIdentifier(idNatStruct: "1250000700")
        func professional(_ activities: [Activity]) throws -> Professional {
            Professional(idNat: Self.holder, lastName: "MARTIN", firstName: "CLAIRE",
                         exercises: [Exercise(profession: try Profession(code: "10"), activities: activities)])
        }
        let salaried = try professional([Activity(mode: .liberal, structure: other), Activity(mode: .salarie, structure: clinic)])
        #expect(throws: Never.self) { try CardAuthorization.checkTemporaryCard(for: salaried, in: clinic) }
        let liberal = try professional([Activity(mode: .liberal, structure: clinic)])
        func code(_ holder: Professional, _ structure: StructureIdentifier) -> String? {
            do { try CardAuthorization.checkTemporaryCard(for: holder, in: structure) } catch { return error.code }
            return nil
        }
        #expect(code(liberal, clinic) == "card.temporary-not-salaried")
        #expect(code(salaried, try StructureIdentifier(idNatStruct: "1130786049")) == "card.forbidden")
    }

    @Test("certificate titles: the profession on personal cards, the role on staff cards, never a profession there")
    func certificateTitles() throws {
        let doctor = try Profession(code: "10")
        #expect(CardKind.cps.certificateTitle(profession: doctor) == doctor.label)
        #expect(CardKind.cpf.certificateTitle(profession: doctor) == doctor.label)
        for kind in [CardKind.cpe, .cde, .cpa, .cda] {
            #expect(kind.certificateTitle(profession: doctor) != doctor.label)
            #expect(!kind.carriesPrescriberRights(for: doctor))
        }
        #expect(CardKind.cpe.certificateTitle(profession: doctor, temporary: true) == "Personnel d'établissement (carte temporaire)")
    }

    static func card(inState state: CardState) throws -> Card {
        let paths: [CardState: [CardTransition]] = [
            .ordered: [], .awaitingDocuments: [.requestDocuments], .awaitingValidation: [.submitForValidation],
            .rejected: [.submitForValidation, .reject], .validated: [.submitForValidation, .validate],
            .inManufacture: [.submitForValidation, .validate, .startManufacture],
            .shipped: [.submitForValidation, .validate, .startManufacture, .ship],
            .delivered: [.submitForValidation, .validate, .startManufacture, .ship, .deliver],
            .active: [.submitForValidation, .validate, .startManufacture, .ship, .deliver, .activate],
            .suspended: [.submitForValidation, .validate, .startManufacture, .ship, .deliver, .activate, .suspend],
            .opposed: [.submitForValidation, .validate, .startManufacture, .ship, .oppose],
            .revoked: [.submitForValidation, .validate, .startManufacture, .ship, .revoke],
            .expired: [.submitForValidation, .validate, .startManufacture, .ship, .expire],
            .superseded: [.submitForValidation, .validate, .startManufacture, .ship, .deliver, .supersede],
        ]
        let card = try self.card(after: try #require(paths[state]))
        #expect(card.state == state)
        return card
    }
}

/// The PIN letter: the text the holder receives.
@Suite("PIN letter")
struct PINLetterTests {
    @Test("known answer: the letter's text, file name and the labels the demo reads")
    func knownAnswer() throws {
        let letter = PINLetter(
            cardSerial: try CardSerial("3100345668"), address: "Claire Martin, 1 rue de la Paix, 75002 Paris",
            trackingNumber: "OC123456789012", pin: "1234", puk: "12345678")
        #expect(letter.fileName == "3100345668-lettre-code-porteur.txt")
        #expect(letter.text == """
            OpenCPS — Lettre du code porteur (pli confidentiel)
            Envoi n° OC123456789012
            Destinataire : Claire Martin, 1 rue de la Paix, 75002 Paris

            Madame, Monsieur,

            Voici les codes de votre carte n° 3100345668. Ils vous sont adressés séparément de la carte.
            Conservez-les en lieu sûr et ne les communiquez à personne.

            Code porteur : 1234
            Code de déblocage : 12345678

            Le code porteur vous sera demandé pour activer la carte à sa réception puis à chaque usage.
            Après trois codes porteur erronés, la carte se bloque : le code de déblocage permet alors
            de choisir un nouveau code porteur.

            """)
        let lines = letter.text.split(separator: "\n")
        #expect(lines.contains { $0 == PINLetter.pinLabel + "1234" } && lines.contains { $0 == PINLetter.pukLabel + "12345678" })
    }
}
