import Foundation
import OpenCPSDomain
import OpenCPSPKI
import X509

/// The public data objects of a card: what anyone holding it can read without a PIN.
public struct CardPublicData: Sendable, Codable, Equatable {
    /// The card's 10-digit serial.
    public var cardSerial: String
    /// The holder's idNat.
    public var holderIdNat: String
    /// The holder's name as printed.
    public var holderName: String
    /// The card kind (`CPS`, `CPF`, `CPE`, `CPA`, `CDE`, `CDA`).
    public var kind: String
    /// The card type code carried in certificates (0 CPS, 1 CPF, 2 CPE, 3 CPA).
    public var cardTypeCode: Int
    /// The last day of validity.
    public var expiresOn: String

    /// Creates the public data.
    public init(cardSerial: String, holderIdNat: String, holderName: String, kind: String, cardTypeCode: Int, expiresOn: String) {
        self.cardSerial = cardSerial
        self.holderIdNat = holderIdNat
        self.holderName = holderName
        self.kind = kind
        self.cardTypeCode = cardTypeCode
        self.expiresOn = expiresOn
    }
}

/// Which of the card's two key pairs.
public enum CardKeyRole: String, Sendable, Codable, CaseIterable {
    /// The authentication key (TLS client authentication, login challenges).
    case authentication
    /// The signature key (CMS signatures of prescriptions, care sheets).
    case signature
}

/// What the token says to a PIN or PUK presentation.
public enum TokenSecretResult: Sendable, Equatable {
    /// Accepted.
    case accepted
    /// Wrong; this many tries are left before the PIN (or PUK) is blocked.
    case wrong(triesLeft: Int)
    /// The PIN is blocked: unblock it with the PUK.
    case pinBlocked
    /// The PUK is used up: the card is dead and must be replaced.
    case pukExhausted
}

/// A card as a token (DESIGN.md §3): two key pairs that never leave it, their certificates,
/// PIN/PUK counters that are written before a check is answered, and public data.
/// Software tokens implement it today; PKCS#11 tokens will implement it too.
public protocol CardToken: Sendable {
    /// The public data.
    var publicData: CardPublicData { get }
    /// The certificate of a key, PEM.
    func certificatePEM(_ role: CardKeyRole) -> String
    /// The PIN and PUK counters.
    func counters() throws -> CardSecretCounters
    /// Presents the PIN.
    func verifyPIN(_ pin: String) throws -> TokenSecretResult
    /// Changes the PIN after presenting the current one.
    func changePIN(current: String, new: String) throws -> TokenSecretResult
    /// Unblocks the PIN with the PUK and sets a new PIN.
    func unblock(puk: String, newPIN: String) throws -> TokenSecretResult
    /// Signs with a key after presenting the PIN.
    /// - Returns: the signature, or the PIN result that refused it.
    func sign(_ message: [UInt8], with role: CardKeyRole, pin: String) throws -> Result<[UInt8], TokenRefusal>
}

/// Why a token refused to use a key.
public struct TokenRefusal: Error, Sendable, Equatable {
    /// The PIN result.
    public let result: TokenSecretResult
}
