import Testing
@testable import OpenCPSDomain

@Suite("PIN and PUK")
struct PINPolicyTests {
    @Test("three wrong PINs block the card, and a blocked PIN is refused without spending a try")
    func blocking() {
        let fresh = PINPolicy.standard.freshCounters
        #expect(fresh == CardSecretCounters(pinTriesLeft: 3, pukTriesLeft: 10))
        let first = fresh.verifyPIN(matches: false)
        #expect(first.outcome == .wrongPIN(triesLeft: 2))
        let second = first.counters.verifyPIN(matches: false)
        #expect(second.outcome == .wrongPIN(triesLeft: 1))
        let third = second.counters.verifyPIN(matches: false)
        #expect(third.outcome == .blockedNow)
        #expect(third.counters.status == .pinBlocked)
        let fourth = third.counters.verifyPIN(matches: true)
        #expect(fourth.outcome == .pinBlocked)
        #expect(fourth.counters == third.counters)
    }

    @Test("a right PIN resets the counter")
    func reset() {
        let twoWrong = PINPolicy.standard.freshCounters.verifyPIN(matches: false).counters.verifyPIN(matches: false).counters
        let right = twoWrong.verifyPIN(matches: true)
        #expect(right.outcome == .accepted)
        #expect(right.counters.pinTriesLeft == 3)
    }

    @Test("the PUK unblocks the PIN, sets a new one and resets both counters")
    func unblock() throws {
        let blocked = CardSecretCounters(pinTriesLeft: 0, pukTriesLeft: 7)
        let result = try blocked.unblock(pukMatches: true, newPIN: "4821")
        #expect(result.outcome == .unblocked)
        #expect(result.counters == CardSecretCounters(pinTriesLeft: 3, pukTriesLeft: 10))
        #expect(result.counters.verifyPIN(matches: true).outcome == .accepted)
    }

    @Test("ten wrong PUKs kill the card for good")
    func pukExhaustion() throws {
        var counters = CardSecretCounters(pinTriesLeft: 0, pukTriesLeft: 10)
        for left in stride(from: 9, through: 1, by: -1) {
            let result = try counters.unblock(pukMatches: false, newPIN: "1234")
            #expect(result.outcome == .wrongPUK(triesLeft: left))
            counters = result.counters
        }
        let last = try counters.unblock(pukMatches: false, newPIN: "1234")
        #expect(last.outcome == .exhaustedNow)
        #expect(last.counters.status == .pukExhausted)
        #expect(try last.counters.unblock(pukMatches: true, newPIN: "1234").outcome == .pukExhausted)
        #expect(last.counters.verifyPIN(matches: true).outcome == .pukExhausted)
    }

    @Test("the PUK tries are configurable")
    func configuration() throws {
        let policy = try PINPolicy(maximumPUKTries: 2)
        let once = try policy.freshCounters.unblock(pukMatches: false, newPIN: "0000", policy: policy)
        #expect(once.outcome == .wrongPUK(triesLeft: 1))
        #expect(try once.counters.unblock(pukMatches: false, newPIN: "0000", policy: policy).outcome == .exhaustedNow)
        #expect { try PINPolicy(maximumPINTries: 0) } throws: { ($0 as? CardLifecycleError)?.code == "card.configuration-invalid" }
    }

    @Test("changing the PIN checks the current one like an entry")
    func change() throws {
        let fresh = PINPolicy.standard.freshCounters
        #expect(try fresh.changePIN(currentMatches: true, newPIN: "9876").outcome == .accepted)
        let wrong = try fresh.changePIN(currentMatches: false, newPIN: "9876")
        #expect(wrong.outcome == .wrongPIN(triesLeft: 2))
        let blocked = CardSecretCounters(pinTriesLeft: 0, pukTriesLeft: 10)
        #expect(try blocked.changePIN(currentMatches: true, newPIN: "9876").outcome == .pinBlocked)
    }

    @Test("a malformed new PIN is refused before any try is spent")
    func malformedNewPIN() throws {
        let counters = CardSecretCounters(pinTriesLeft: 0, pukTriesLeft: 1)
        let error = try #require(throws: CardLifecycleError.self) { try counters.unblock(pukMatches: false, newPIN: "12a4") }
        #expect(error.code == "card.pin-characters")
        #expect(!error.reason.contains("12a4"))
        #expect { try counters.changePIN(currentMatches: false, newPIN: "12345") } throws: {
            ($0 as? CardLifecycleError)?.code == "card.pin-length"
        }
    }

    @Test("a PIN has exactly 4 ASCII digits and a PUK exactly 8", arguments: [
        ("1234", nil), ("0000", nil), ("123", "card.pin-length"), ("12345", "card.pin-length"), ("", "card.pin-length"),
        ("12 4", "card.pin-characters"), ("١٢٣٤", "card.pin-characters"), ("１２３４", "card.pin-characters"), ("abcd", "card.pin-characters"),
    ] as [(String, String?)])
    func pinFormat(pin: String, code: String?) {
        if let code {
            #expect { try PINPolicy.checkPINFormat(pin) } throws: { ($0 as? CardLifecycleError)?.code == code }
        } else {
            #expect(throws: Never.self) { try PINPolicy.checkPINFormat(pin) }
        }
    }

    @Test("a PUK is refused when it is not 8 digits, without echoing it")
    func pukFormat() throws {
        try PINPolicy.checkPUKFormat("12345678")
        let length = try #require(throws: CardLifecycleError.self) { try PINPolicy.checkPUKFormat("1234567") }
        #expect(length.code == "card.puk-length")
        #expect(length.reason == "a PUK has exactly 8 digits, got 7 characters")
        let characters = try #require(throws: CardLifecycleError.self) { try PINPolicy.checkPUKFormat("1234567x") }
        #expect(characters.code == "card.puk-characters")
        #expect(!characters.reason.contains("1234567x"))
    }

    @Test("counters read back from storage never go negative")
    func clamping() {
        #expect(CardSecretCounters(pinTriesLeft: -1, pukTriesLeft: 3) == CardSecretCounters(pinTriesLeft: 0, pukTriesLeft: 3))
    }
}
