import CPKCS11
import Foundation
import OpenCPSDomain
import OpenCPSPKCS11
import OpenCPSPKI

/// A card as a PKCS #11 token (one token per card; SoftHSM2 in tests and demos): what card
/// middleware and standard tools (`pkcs11-tool`, OpenSSL's pkcs11 engine) use.
///
/// The token is labelled `OpenCPS <serial>`. Its user PIN is the card PIN and its security
/// officer PIN the PUK. It holds, with matching `CKA_ID` (01 authentication, 02 signature):
/// each key pair, generated on the token (private, sensitive, never extractable), and its X.509
/// certificate; and public data objects (application `OpenCPS`, labelled as the fields of
/// ``CardPublicData``), readable without a PIN.
///
/// The PIN rules: a token that counts tries itself answers `CKR_PIN_LOCKED` and OpenCPS reports
/// the PIN blocked. SoftHSM2 does not count (it accepts the right PIN after any number of
/// wrong ones), so OpenCPS also keeps the counters of ``PINPolicy``, in a public data object
/// `pinCounters` on the token (replaced, not changed: a data object's value is read-only there),
/// written before each answer, and refuses a blocked PIN or a dead
/// card before asking the token. Said plainly: those counters bind whoever uses the card
/// through OpenCPS; a tool that logs in directly to a SoftHSM2 token is bound only by the token,
/// which does not count. A real card counts in hardware.
public final class PKCS11CardToken: CardToken, @unchecked Sendable {
    /// The module.
    public let module: PKCS11Module
    /// The token's label.
    public let tokenLabel: String
    /// The PIN policy of OpenCPS's own counters.
    public let policy: PINPolicy
    /// The public data, read from the token.
    public let publicData: CardPublicData
    private let certificates: [CardKeyRole: String]
    // The token's slot, found by label when the token was opened.
    private let slot: CK_SLOT_ID
    // One presentation at a time per token, whichever object of the process presents it: the
    // module's login state is shared by all the process's sessions on the token.
    private let lock: NSLock

    /// The lock of each token of the process, by module and label.
    private static let locks = TokenLocks()

    /// The `CKA_ID` of a role's key pair and certificate.
    public static func keyID(_ role: CardKeyRole) -> [UInt8] {
        role == .authentication ? [0x01] : [0x02]
    }

    /// The label of a card's token.
    public static func label(cardSerial: String) -> String { "OpenCPS \(cardSerial)" }

    static let application = "OpenCPS"
    static let countersLabel = "pinCounters"

    /// Opens the token of a card.
    /// - Throws: `token.not-found` when no token of the module carries the card's label.
    public init(module: PKCS11Module, cardSerial: String, policy: PINPolicy = .standard) throws {
        self.module = module
        self.tokenLabel = Self.label(cardSerial: cardSerial)
        self.policy = policy
        self.lock = Self.locks.lock(for: "\(module.path)|\(Self.label(cardSerial: cardSerial))")
        do {
            slot = try module.slot(tokenLabel: tokenLabel)
            let session = try module.openSession(slot: slot, readWrite: false)
            var fields: [String: String] = [:]
            for object in try session.findObjects(Self.dataTemplate(label: nil)) {
                if let label = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), of: object),
                   let value = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: object) {
                    fields[String(decoding: label, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
                }
            }
            guard let serial = fields["cardSerial"], let idNat = fields["holderIdNat"], let name = fields["holderName"],
                  let kind = fields["kind"], let code = fields["cardTypeCode"].flatMap(Int.init), let expires = fields["expiresOn"] else {
                throw TokenError(code: "token.corrupt", reason: "the token '\(tokenLabel)' lacks the card's public data")
            }
            publicData = CardPublicData(cardSerial: serial, holderIdNat: idNat, holderName: name, kind: kind, cardTypeCode: code, expiresOn: expires)
            var certificates: [CardKeyRole: String] = [:]
            for role in CardKeyRole.allCases {
                let found = try session.findObjects([
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_CERTIFICATE)),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: Self.keyID(role)),
                ])
                if let object = found.first, let der = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: object) {
                    certificates[role] = PEMText.certificate(der)
                }
            }
            self.certificates = certificates
        } catch let error as PKCS11Error where error.code == "pkcs11.token-not-found" {
            throw TokenError(code: "token.not-found", reason: "no PKCS #11 token is labelled '\(tokenLabel)' in \(module.path)")
        } catch let error as PKCS11Error {
            throw TokenError(code: "token.unavailable", reason: "the token '\(tokenLabel)' cannot be read: \(error.reason)")
        }
    }

    /// The template of OpenCPS's public data objects (all, or the one labelled `label`).
    static func dataTemplate(label: String?) -> [PKCS11Attribute] {
        var template = [
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_DATA)),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_APPLICATION), text: application),
        ]
        if let label { template.append(PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: label)) }
        return template
    }

    /// The certificate of a key, PEM.
    public func certificatePEM(_ role: CardKeyRole) -> String { certificates[role] ?? "" }

    /// The PIN and PUK counters: OpenCPS's own, and a lock the token reports itself.
    public func counters() throws -> CardSecretCounters {
        try exclusively { session in try stored(session) }
    }

    /// Presents the PIN (`C_Login`): 3 wrong tries block it.
    public func verifyPIN(_ pin: String) throws -> TokenSecretResult {
        try exclusively { session in
            let (result, _) = try presentPIN(pin, session: session)
            try session.logout()
            return result
        }
    }

    /// Changes the PIN (`C_SetPIN`) after presenting the current one.
    public func changePIN(current: String, new: String) throws -> TokenSecretResult {
        try PINPolicy.checkPINFormat(new)
        return try exclusively { session in
            let (result, accepted) = try presentPIN(current, session: session)
            defer { try? session.logout() }
            guard accepted else { return result }
            try Self.tokenCall { try session.setPIN(old: current, new: new) }
            return .accepted
        }
    }

    /// Unblocks with the PUK (`C_Login` as the security officer, then `C_InitPIN` with the new
    /// PIN); the PUK has its own limit, then the card is dead.
    public func unblock(puk: String, newPIN: String) throws -> TokenSecretResult {
        try PINPolicy.checkPINFormat(newPIN)
        return try exclusively { session in
            let counters = try stored(session)
            if counters.status == .pukExhausted { return .pukExhausted }
            var matches = false
            if (try? PINPolicy.checkPUKFormat(puk)) != nil {
                switch try login(session, pin: puk, securityOfficer: true) {
                case .accepted: matches = true
                case .incorrect: matches = false
                case .locked:
                    try store(CardSecretCounters(pinTriesLeft: counters.pinTriesLeft, pukTriesLeft: 0), session: session)
                    return .pukExhausted
                }
            }
            defer { try? session.logout() }
            let check = try counters.unblock(pukMatches: matches, newPIN: newPIN, policy: policy)
            if case .unblocked = check.outcome {
                try Self.tokenCall { try session.initUserPIN(newPIN) }
            }
            // Written before the answer, whatever it is.
            try store(check.counters, session: session)
            switch check.outcome {
            case .unblocked: return .accepted
            case .wrongPUK(let left): return .wrong(triesLeft: left)
            case .exhaustedNow, .pukExhausted: return .pukExhausted
            }
        }
    }

    /// Signs on the token after presenting the PIN: `CKM_SHA256_RSA_PKCS` or ECDSA over SHA-256.
    public func sign(_ message: [UInt8], with role: CardKeyRole, pin: String) throws -> Result<[UInt8], TokenRefusal> {
        try exclusively { session in
            let (result, accepted) = try presentPIN(pin, session: session)
            defer { try? session.logout() }
            guard accepted else { return .failure(TokenRefusal(result: result)) }
            let privateKeys = try Self.tokenCall {
                try session.findObjects([
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_PRIVATE_KEY)),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: Self.keyID(role)),
                ])
            }
            let publicKeys = try Self.tokenCall {
                try session.findObjects([
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_PUBLIC_KEY)),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: Self.keyID(role)),
                ])
            }
            guard let privateKey = privateKeys.first, let publicKey = publicKeys.first else {
                throw TokenError(code: "token.corrupt", reason: "the token '\(tokenLabel)' has no \(role.rawValue) key")
            }
            let algorithm = try PKCS11Keys.algorithm(on: session, privateKey: privateKey, publicKey: publicKey)
            return .success(try PKCS11Keys.sign(message, on: session, key: privateKey, algorithm: algorithm))
        }
    }

    // MARK: Internals (called holding the lock)

    /// Runs `body` with a read-write session on the token, one presentation at a time.
    private func exclusively<T>(_ body: (PKCS11Session) throws -> T) throws -> T {
        try lock.withLock {
            let session = try Self.tokenCall { try module.openSession(slot: slot, readWrite: true) }
            return try body(session)
        }
    }

    /// Presents the user PIN: refused without asking the token when OpenCPS's counters say
    /// blocked or dead, the counters written before the answer. Leaves the session logged in
    /// when accepted.
    private func presentPIN(_ pin: String, session: PKCS11Session) throws -> (TokenSecretResult, accepted: Bool) {
        let counters = try stored(session)
        switch counters.status {
        case .pinBlocked: return (.pinBlocked, false)
        case .pukExhausted: return (.pukExhausted, false)
        case .usable: break
        }
        var matches = false
        if (try? PINPolicy.checkPINFormat(pin)) != nil {
            switch try login(session, pin: pin, securityOfficer: false) {
            case .accepted: matches = true
            case .incorrect: matches = false
            case .locked:
                // The token counts too, and has locked its PIN: so do the counters.
                try store(CardSecretCounters(pinTriesLeft: 0, pukTriesLeft: counters.pukTriesLeft), session: session)
                return (.pinBlocked, false)
            }
        }
        let check = counters.verifyPIN(matches: matches, policy: policy)
        if check.counters != counters {
            // Written before the answer is given.
            try store(check.counters, session: session)
        }
        switch check.outcome {
        case .accepted: return (.accepted, true)
        case .wrongPIN(let left): return (.wrong(triesLeft: left), false)
        case .blockedNow, .pinBlocked: return (.pinBlocked, false)
        case .pukExhausted: return (.pukExhausted, false)
        }
    }

    /// What the token answered to a PIN or PUK.
    private enum LoginAnswer {
        case accepted, incorrect, locked
    }

    /// Logs in as the user or the SO, never counting an existing login as one.
    private func login(_ session: PKCS11Session, pin: String, securityOfficer: Bool) throws -> LoginAnswer {
        do {
            try session.login(pin: pin, securityOfficer: securityOfficer, acceptingExistingLogin: false)
            return .accepted
        } catch {
            switch error.returnValue {
            case CK_RV(CKR_PIN_INCORRECT), CK_RV(CKR_PIN_LEN_RANGE): return .incorrect
            case CK_RV(CKR_PIN_LOCKED): return .locked
            default: throw TokenError(code: "token.unavailable", reason: "the token '\(tokenLabel)' cannot check a PIN: \(error.reason)")
            }
        }
    }

    /// The counters on the token, with what the token itself says of its locks. Should two
    /// counter objects be there (a write interrupted between its two steps), the lower tries
    /// of each hold: an interruption never gives a try back.
    private func stored(_ session: PKCS11Session) throws -> CardSecretCounters {
        let info = try Self.tokenCall { try module.tokenInfo(slot: session.slot) }
        var found: [CardSecretCounters] = []
        for object in try Self.tokenCall({ try session.findObjects(Self.dataTemplate(label: Self.countersLabel)) }) {
            if let value = try Self.tokenCall({ try session.attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: object) }),
               let counters = try? JSONDecoder().decode(CardSecretCounters.self, from: Data(value)) {
                found.append(counters)
            }
        }
        guard let pinTries = found.map(\.pinTriesLeft).min(), let pukTries = found.map(\.pukTriesLeft).min() else {
            throw TokenError(code: "token.corrupt", reason: "the token '\(tokenLabel)' has no PIN counters")
        }
        return CardSecretCounters(pinTriesLeft: info.isUserPINLocked ? 0 : pinTries, pukTriesLeft: info.isSOPINLocked ? 0 : pukTries)
    }

    /// Writes the counters. A data object's value cannot be changed (SoftHSM2 answers
    /// `CKR_ATTRIBUTE_READ_ONLY`), so the new object is made first and the old ones destroyed after.
    private func store(_ counters: CardSecretCounters, session: PKCS11Session) throws {
        let value = try JSONEncoder().encode(counters)
        try Self.tokenCall {
            let old = try session.findObjects(Self.dataTemplate(label: Self.countersLabel))
            try session.createObject(Self.dataObject(label: Self.countersLabel, value: Array(value)))
            for object in old { try session.destroyObject(object) }
        }
    }

    /// The template of a public data object of OpenCPS on the token.
    static func dataObject(label: String, value: [UInt8]) -> [PKCS11Attribute] {
        [
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_DATA)),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: false),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_APPLICATION), text: application),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: label),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), bytes: value),
        ]
    }

    /// Runs a PKCS #11 call, its failure becoming a ``TokenError``.
    @discardableResult
    static func tokenCall<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PKCS11Error {
            throw TokenError(code: "token.unavailable", reason: "the PKCS #11 token failed: \(error.reason)")
        }
    }
}

/// One lock per token, made on first use.
final class TokenLocks: @unchecked Sendable {
    private let guardLock = NSLock()
    // Guarded by guardLock.
    private var locks: [String: NSLock] = [:]

    func lock(for key: String) -> NSLock {
        guardLock.withLock {
            if let lock = locks[key] { return lock }
            let lock = NSLock()
            locks[key] = lock
            return lock
        }
    }
}

/// PEM text of DER bytes.
enum PEMText {
    /// A certificate's DER as PEM.
    static func certificate(_ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN CERTIFICATE-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END CERTIFICATE-----")
        return lines.joined(separator: "\n") + "\n"
    }
}
