/// The rules of a card's secrets: the PIN (*code porteur*) and the unblocking code (PUK,
/// *code de déblocage*).
///
/// A PIN has exactly 4 digits and a PUK exactly 8. Three wrong PIN entries in a row block the
/// PIN; the PUK then unblocks it and sets a new PIN. The number of PUK tries
/// (``maximumPUKTries``, 10 by default) is a configurable default, not an official value; when
/// they are used up the card is dead for good.
///
/// This type holds no secret: the token compares the secrets, and these rules only say what
/// the comparison means for the counters (see ``CardSecretCounters``).
public struct PINPolicy: Hashable, Sendable {
    /// The number of digits of a PIN.
    public static let pinLength = 4
    /// The number of digits of a PUK.
    public static let pukLength = 8
    /// The wrong PIN entries in a row that block the PIN.
    public static let defaultMaximumPINTries = 3
    /// The default number of PUK tries (a configurable default, not an official value).
    public static let defaultMaximumPUKTries = 10

    /// The wrong PIN entries in a row that block the PIN.
    public let maximumPINTries: Int
    /// The wrong PUK entries in a row that kill the card.
    public let maximumPUKTries: Int

    /// Creates a policy.
    /// - Parameters:
    ///   - maximumPINTries: the wrong PIN entries that block the PIN (3 on CPS cards).
    ///   - maximumPUKTries: the wrong PUK entries that kill the card (default 10).
    /// - Throws: ``CardLifecycleError`` with code `card.configuration-invalid` when a limit is
    ///   below 1.
    public init(
        maximumPINTries: Int = PINPolicy.defaultMaximumPINTries,
        maximumPUKTries: Int = PINPolicy.defaultMaximumPUKTries
    ) throws(CardLifecycleError) {
        guard maximumPINTries >= 1, maximumPUKTries >= 1 else {
            throw .configuration("PIN and PUK tries are at least 1, got \(maximumPINTries) and \(maximumPUKTries)")
        }
        self.maximumPINTries = maximumPINTries
        self.maximumPUKTries = maximumPUKTries
    }

    /// The default policy: 3 PIN tries, 10 PUK tries.
    public static let standard = try! PINPolicy()

    /// The counters of a newly personalised card: every try available.
    public var freshCounters: CardSecretCounters {
        CardSecretCounters(pinTriesLeft: maximumPINTries, pukTriesLeft: maximumPUKTries)
    }

    /// Refuses a PIN that is not exactly 4 ASCII digits. The error never contains the PIN.
    /// - Throws: ``CardLifecycleError`` with code `card.pin-length` or `card.pin-characters`.
    public static func checkPINFormat(_ pin: String) throws(CardLifecycleError) {
        try checkFormat(pin, length: pinLength, name: "PIN", codePrefix: "card.pin")
    }

    /// Refuses a PUK that is not exactly 8 ASCII digits. The error never contains the PUK.
    /// - Throws: ``CardLifecycleError`` with code `card.puk-length` or `card.puk-characters`.
    public static func checkPUKFormat(_ puk: String) throws(CardLifecycleError) {
        try checkFormat(puk, length: pukLength, name: "PUK", codePrefix: "card.puk")
    }

    private static func checkFormat(_ secret: String, length: Int, name: String, codePrefix: String) throws(CardLifecycleError) {
        guard secret.count == length else {
            throw CardLifecycleError(
                code: codePrefix + "-length", reason: "a \(name) has exactly \(length) digits, got \(secret.count) characters")
        }
        guard secret.utf8.count == length, secret.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw CardLifecycleError(code: codePrefix + "-characters", reason: "a \(name) has the digits 0 to 9 only")
        }
    }
}

/// The try counters of a card's PIN and PUK: the only state the secrets leave.
///
/// Pure values: every operation returns the new counters, which the token must store before
/// it answers, so that pulling the card out cannot save a try.
public struct CardSecretCounters: Hashable, Sendable, Codable {
    /// The PIN entries left before the PIN blocks (0: blocked).
    public let pinTriesLeft: Int
    /// The PUK entries left before the card dies (0: dead).
    public let pukTriesLeft: Int

    /// Creates counters, as read back from storage.
    public init(pinTriesLeft: Int, pukTriesLeft: Int) {
        self.pinTriesLeft = max(0, pinTriesLeft)
        self.pukTriesLeft = max(0, pukTriesLeft)
    }

    /// Where the secrets stand.
    public var status: CardSecretStatus {
        if pukTriesLeft == 0 { return .pukExhausted }
        if pinTriesLeft == 0 { return .pinBlocked }
        return .usable
    }

    /// The result of a PIN entry.
    ///
    /// A blocked PIN or a dead card is refused without spending a try.
    /// - Parameters:
    ///   - matches: whether the token found the entered PIN right.
    ///   - policy: the tries limits.
    /// - Returns: the outcome and the counters to store.
    public func verifyPIN(matches: Bool, policy: PINPolicy = .standard) -> SecretCheck<PINOutcome> {
        switch status {
        case .pukExhausted: return SecretCheck(outcome: .pukExhausted, counters: self)
        case .pinBlocked: return SecretCheck(outcome: .pinBlocked, counters: self)
        case .usable: break
        }
        if matches {
            return SecretCheck(outcome: .accepted, counters: with(pinTriesLeft: policy.maximumPINTries))
        }
        let left = pinTriesLeft - 1
        return SecretCheck(outcome: left == 0 ? .blockedNow : .wrongPIN(triesLeft: left), counters: with(pinTriesLeft: left))
    }

    /// The result of a PIN change: the current PIN is checked as by ``verifyPIN(matches:policy:)``,
    /// and on ``PINOutcome/accepted`` the token writes the new PIN.
    /// - Parameters:
    ///   - currentMatches: whether the token found the current PIN right.
    ///   - newPIN: the new PIN, checked for format only; it is not kept.
    ///   - policy: the tries limits.
    /// - Returns: the outcome and the counters to store.
    /// - Throws: ``CardLifecycleError`` with code `card.pin-length` or `card.pin-characters`
    ///   when the new PIN is malformed, before any try is spent.
    public func changePIN(currentMatches: Bool, newPIN: String, policy: PINPolicy = .standard) throws(CardLifecycleError) -> SecretCheck<PINOutcome> {
        try PINPolicy.checkPINFormat(newPIN)
        return verifyPIN(matches: currentMatches, policy: policy)
    }

    /// The result of an unblocking: a right PUK resets both counters and the token writes the
    /// new PIN; a wrong one spends a PUK try, and the last one kills the card.
    ///
    /// The PUK may also be used while the PIN is not blocked, to replace a forgotten PIN.
    /// - Parameters:
    ///   - pukMatches: whether the token found the entered PUK right.
    ///   - newPIN: the new PIN, checked for format only; it is not kept.
    ///   - policy: the tries limits.
    /// - Returns: the outcome and the counters to store.
    /// - Throws: ``CardLifecycleError`` with code `card.pin-length` or `card.pin-characters`
    ///   when the new PIN is malformed, before any try is spent.
    public func unblock(pukMatches: Bool, newPIN: String, policy: PINPolicy = .standard) throws(CardLifecycleError) -> SecretCheck<PUKOutcome> {
        try PINPolicy.checkPINFormat(newPIN)
        if status == .pukExhausted { return SecretCheck(outcome: .pukExhausted, counters: self) }
        if pukMatches {
            return SecretCheck(outcome: .unblocked, counters: policy.freshCounters)
        }
        let left = pukTriesLeft - 1
        return SecretCheck(
            outcome: left == 0 ? .exhaustedNow : .wrongPUK(triesLeft: left),
            counters: CardSecretCounters(pinTriesLeft: pinTriesLeft, pukTriesLeft: left))
    }

    private func with(pinTriesLeft: Int) -> CardSecretCounters {
        CardSecretCounters(pinTriesLeft: pinTriesLeft, pukTriesLeft: pukTriesLeft)
    }
}

/// Where a card's secrets stand.
public enum CardSecretStatus: String, Hashable, Sendable, Codable {
    /// The PIN can be entered.
    case usable
    /// The PIN is blocked; only the PUK can unblock it.
    case pinBlocked = "pin_blocked"
    /// The PUK tries are used up: the card can never be used again.
    case pukExhausted = "puk_exhausted"
}

/// The outcome of a secret check and the counters to store before answering.
public struct SecretCheck<Outcome: Hashable & Sendable>: Hashable, Sendable {
    /// What the check means for the person at the card.
    public let outcome: Outcome
    /// The counters after the check.
    public let counters: CardSecretCounters

    /// Creates a result.
    public init(outcome: Outcome, counters: CardSecretCounters) {
        self.outcome = outcome
        self.counters = counters
    }
}

/// What a PIN entry (or the current-PIN check of a change) leads to.
public enum PINOutcome: Hashable, Sendable {
    /// The PIN is right; the PIN counter is reset.
    case accepted
    /// The PIN is wrong; `triesLeft` entries remain before it blocks.
    case wrongPIN(triesLeft: Int)
    /// The PIN is wrong and that was the last try: the PIN is now blocked.
    case blockedNow
    /// The PIN was already blocked: refused without checking.
    case pinBlocked
    /// The card is dead (PUK tries used up): refused without checking.
    case pukExhausted
}

/// What an unblocking with the PUK leads to.
public enum PUKOutcome: Hashable, Sendable {
    /// The PUK is right: the new PIN is set and both counters are reset.
    case unblocked
    /// The PUK is wrong; `triesLeft` entries remain before the card dies.
    case wrongPUK(triesLeft: Int)
    /// The PUK is wrong and that was the last try: the card is now dead.
    case exhaustedNow
    /// The card was already dead: refused without checking.
    case pukExhausted
}
