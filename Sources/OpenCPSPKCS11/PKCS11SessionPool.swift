import CPKCS11
import Foundation

/// Sessions on one token, logged in as the user, shared by the threads of the process.
///
/// A session runs one operation at a time, so each caller borrows one (``withSession(_:)``)
/// and gives it back; new ones are opened when all are busy. Logging in is done once: the
/// login state belongs to the token, for every session of the process.
public final class PKCS11SessionPool: @unchecked Sendable {
    /// The module.
    public let module: PKCS11Module
    /// The token's slot.
    public let slot: CK_SLOT_ID
    private let pin: String
    private let lock = NSLock()
    // Guarded by lock.
    private var idle: [PKCS11Session] = []

    /// Opens a first session and logs in, so that a wrong PIN is known at once.
    /// - Parameters:
    ///   - module: the module.
    ///   - slot: the token's slot.
    ///   - pin: the user PIN (kept in memory to log in again should the token forget the login).
    public init(module: PKCS11Module, slot: CK_SLOT_ID, pin: String) throws(PKCS11Error) {
        self.module = module
        self.slot = slot
        self.pin = pin
        let session = try module.openSession(slot: slot, readWrite: true)
        try session.login(pin: pin)
        idle.append(session)
    }

    /// Runs `body` with a session of its own, logged in.
    public func withSession<R>(_ body: (PKCS11Session) throws -> R) throws -> R {
        let session = try borrow()
        do {
            let result = try body(session)
            giveBack(session)
            return result
        } catch let error as PKCS11Error where error.returnValue == CK_RV(CKR_USER_NOT_LOGGED_IN) {
            // The token forgot the login (it was removed and put back, or its sessions were all
            // closed): log in again once and retry.
            try session.login(pin: pin)
            let result = try body(session)
            giveBack(session)
            return result
        } catch let error as PKCS11Error where error.returnValue == CK_RV(CKR_SESSION_HANDLE_INVALID) {
            // A broken session is dropped rather than given back.
            throw error
        } catch {
            giveBack(session)
            throw error
        }
    }

    private func borrow() throws(PKCS11Error) -> PKCS11Session {
        if let session = lock.withLock({ idle.popLast() }) { return session }
        let session = try module.openSession(slot: slot, readWrite: true)
        try session.login(pin: pin)
        return session
    }

    private func giveBack(_ session: PKCS11Session) {
        lock.withLock { idle.append(session) }
    }
}
