import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSPKI
import OpenCPSPersistence

/// What e-CPS's services share: the database, the clock, the settings, and the checks every
/// one of them makes (an active card, the abuse limits, keys read from the device).
struct ECPSCore: Sendable {
    let database: ServiceDatabase
    let clock: any WallClock
    let random: RandomBytes
    let settings: ECPSSettings

    /// The repository, in the running transaction if there is one.
    var repository: ECPSRepository { ECPSRepository(database: database.current, clock: clock) }

    /// Throws `ecps.no-active-card` unless the holder has a card in the `active` state.
    ///
    /// OpenCPS's choice: e-CPS stands beside the card, not instead of it. A holder whose every
    /// card is opposed, suspended, revoked or expired cannot enrol a device nor log in with
    /// one; a holder with one card opposed and another active still can.
    func requireActiveCard(_ holder: IdNat) async throws {
        let cards = try await CardRepository(database: database.current, clock: clock).cards(holder: holder)
        guard cards.contains(where: { $0.state == .active }) else { throw ECPSRuleError.noActiveCard }
    }

    /// Throws `ecps.too-many-attempts` when `key` has used up its failures for the window.
    func checkLimit(_ key: String) async throws {
        let now = clock.now()
        let (count, ends) = try await repository.failures(key: key, at: now, window: settings.addressWindow)
        if count >= settings.maximumAddressFailures {
            throw ECPSRateLimited(retryAfter: Int(ends.timeIntervalSince(now).rounded(.up)), reason: "too many failed attempts from this address")
        }
    }

    /// A key sent by a device, read to check it is a P-256 public key.
    func publicKey(_ text: String, _ name: String) throws -> P256.Signing.PublicKey {
        do {
            return try ES256.publicKey(base64URLDER: text)
        } catch let error as ECPSError {
            throw ECPSRuleError(code: "ecps.invalid-key", reason: "\(name): \(error.reason)")
        }
    }

    /// A signature sent base64url-encoded.
    func signature(_ text: String) throws -> [UInt8] {
        guard let bytes = Base64URL.decode(text), bytes.count == 64 else {
            throw ECPSRuleError(code: "ecps.invalid-signature", reason: "the signature must be 64 bytes (r || s) in base64url")
        }
        return bytes
    }

    /// Random bytes in base64url.
    func token(bytes count: Int) -> String { Base64URL.encode(random.bytes(count)) }

    /// A new identifier: a lowercase UUID.
    func newID() -> String { UUID().uuidString.lowercased() }

    /// The SHA-256 of a code, lower-case hex.
    static func digest(_ code: String) -> String { SHA256.hash(data: Data(code.utf8)).hexString }

    /// Compares two digests in constant time.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The holder's audit name.
    static func actor(_ holder: IdNat) -> String { CardActor.holder(holder).auditName }
}
