import CPKCS11
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PKCS #11 module (a vendor's shared library, SoftHSM2's `libsofthsm2.so` in tests) loaded
/// at run time with `dlopen`, its function list taken from `C_GetFunctionList`.
///
/// A module is initialised once per process and stays loaded: the specification makes
/// `C_Initialize`/`C_Finalize` process-wide (a second `C_Initialize` answers
/// `CKR_CRYPTOKI_ALREADY_INITIALIZED`, and `C_Finalize` would end every other user's sessions),
/// so ``load(path:)`` hands out one object per path. It is initialised with
/// `CKF_OS_LOCKING_OK`, which makes the module safe to call from several threads; a session
/// (``PKCS11Session``) is still used by one thread at a time.
public final class PKCS11Module: @unchecked Sendable {
    /// The library's path, as configured.
    public let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    // The dlopen handle is kept for the life of the process (modules are never unloaded).
    private let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>) {
        self.path = path
        self.handle = handle
        self.functions = functions
    }

    /// The modules loaded by this process, by path (see the type's comment for why one per path).
    private static let loaded = LockedDictionary<String, PKCS11Module>()

    /// Loads and initialises the module at `path`, or returns the one this process loaded already.
    /// - Parameter path: the shared library, such as `/usr/lib/softhsm/libsofthsm2.so`.
    /// - Returns: the module.
    /// - Throws: ``PKCS11Error`` `pkcs11.module-not-loaded` when the file is missing or is not a
    ///   PKCS #11 module, or the code of a failed `C_Initialize`.
    public static func load(path: String) throws(PKCS11Error) -> PKCS11Module {
        try loaded.value(for: path) { () throws(PKCS11Error) -> PKCS11Module in
            guard FileManager.default.fileExists(atPath: path) else {
                throw PKCS11Error(code: "pkcs11.module-not-loaded", reason: "no PKCS #11 module at \(path)")
            }
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                let detail = dlerror().map { String(cString: $0) } ?? "unknown reason"
                throw PKCS11Error(code: "pkcs11.module-not-loaded", reason: "\(path) cannot be loaded: \(detail)")
            }
            guard let symbol = dlsym(handle, "C_GetFunctionList") else {
                dlclose(handle)
                throw PKCS11Error(code: "pkcs11.module-not-loaded", reason: "\(path) has no C_GetFunctionList: not a PKCS #11 module")
            }
            let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
            var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
            let rv = getFunctionList(&list)
            guard rv == CK_RV(CKR_OK), let list, list.pointee.version.major >= 2 else {
                dlclose(handle)
                throw PKCS11Error(code: "pkcs11.module-not-loaded", reason: "\(path): C_GetFunctionList gave no usable function list")
            }
            var arguments = CK_C_INITIALIZE_ARGS(
                CreateMutex: nil, DestroyMutex: nil, LockMutex: nil, UnlockMutex: nil, flags: CK_FLAGS(CKF_OS_LOCKING_OK), pReserved: nil)
            let initialised = withUnsafeMutablePointer(to: &arguments) { list.pointee.C_Initialize(UnsafeMutableRawPointer($0)) }
            // Another library of this process (or an earlier load under another path name) may
            // have initialised it: the module is then usable as it is.
            guard initialised == CK_RV(CKR_OK) || initialised == CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED) else {
                throw PKCS11Error(function: "C_Initialize", rv: initialised)
            }
            return PKCS11Module(path: path, handle: handle, functions: list)
        }
    }

    /// The module's own description (`C_GetInfo`): manufacturer and library description.
    public func info() throws(PKCS11Error) -> (manufacturer: String, library: String, version: String) {
        var info = CK_INFO()
        try check(functions.pointee.C_GetInfo(&info), "C_GetInfo")
        return (
            PKCS11Text.read(info.manufacturerID), PKCS11Text.read(info.libraryDescription),
            "\(info.cryptokiVersion.major).\(info.cryptokiVersion.minor)")
    }

    /// The slots, all or only those holding a token.
    public func slots(withToken: Bool = true) throws(PKCS11Error) -> [CK_SLOT_ID] {
        // The list may grow between the two calls (a module adding a slot): ask again then.
        while true {
            var count: CK_ULONG = 0
            try check(functions.pointee.C_GetSlotList(withToken ? CK_BBOOL(CK_TRUE) : CK_BBOOL(CK_FALSE), nil, &count), "C_GetSlotList")
            var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
            let rv = functions.pointee.C_GetSlotList(withToken ? CK_BBOOL(CK_TRUE) : CK_BBOOL(CK_FALSE), &slots, &count)
            if rv == CK_RV(CKR_BUFFER_TOO_SMALL) { continue }
            try check(rv, "C_GetSlotList")
            return Array(slots.prefix(Int(count)))
        }
    }

    /// What the token in `slot` says about itself.
    public func tokenInfo(slot: CK_SLOT_ID) throws(PKCS11Error) -> PKCS11TokenInfo {
        var info = CK_TOKEN_INFO()
        try check(functions.pointee.C_GetTokenInfo(slot, &info), "C_GetTokenInfo")
        return PKCS11TokenInfo(
            slot: slot, label: PKCS11Text.read(info.label), serialNumber: PKCS11Text.read(info.serialNumber),
            model: PKCS11Text.read(info.model), flags: info.flags)
    }

    /// The slot of the initialised token labelled `label`.
    /// - Throws: `pkcs11.token-not-found` when no token has the label, or more than one does.
    public func slot(tokenLabel label: String) throws(PKCS11Error) -> CK_SLOT_ID {
        var found: [CK_SLOT_ID] = []
        for slot in try slots() {
            let info = try tokenInfo(slot: slot)
            if info.isInitialized, info.label == label { found.append(slot) }
        }
        guard found.count == 1 else {
            throw PKCS11Error(
                code: "pkcs11.token-not-found",
                reason: found.isEmpty ? "no initialised token is labelled '\(label)' in \(path)" : "\(found.count) tokens are labelled '\(label)' in \(path)")
        }
        return found[0]
    }

    /// A slot whose token is not initialised yet (SoftHSM2 always keeps one), for a new token.
    /// - Throws: `pkcs11.token-not-found` when every token is initialised.
    public func freeSlot() throws(PKCS11Error) -> CK_SLOT_ID {
        for slot in try slots() where !(try tokenInfo(slot: slot)).isInitialized {
            return slot
        }
        throw PKCS11Error(code: "pkcs11.token-not-found", reason: "\(path) has no uninitialised token left")
    }

    /// Initialises (or re-initialises, destroying its objects) the token in `slot`: `C_InitToken`.
    /// - Parameters:
    ///   - slot: the slot.
    ///   - soPIN: the security officer's PIN it gets (or, for an initialised token, has).
    ///   - label: its label (at most 32 bytes of UTF-8).
    public func initToken(slot: CK_SLOT_ID, soPIN: String, label: String) throws(PKCS11Error) {
        var labelBytes = try PKCS11Text.padded(label, length: 32)
        var pin = Array(soPIN.utf8)
        try check(functions.pointee.C_InitToken(slot, &pin, CK_ULONG(pin.count), &labelBytes), "C_InitToken")
    }

    // Held while a free slot is chosen and initialised, so that two threads never take the same one.
    private let newTokenLock = NSLock()

    /// Initialises a new token in a free slot, with its user PIN: `C_InitToken` with `soPIN`,
    /// then, logged in as the security officer, `C_InitPIN` with `userPIN`.
    /// - Parameters:
    ///   - label: the new token's label, which no other token may have.
    ///   - soPIN: the security officer's PIN.
    ///   - userPIN: the user PIN.
    /// - Returns: the slot the token is in afterwards (a module may move it, as SoftHSM2 does).
    /// - Throws: `pkcs11.token-exists` when a token has the label already; `pkcs11.token-not-found`
    ///   when no slot is free.
    public func initializeNewToken(label: String, soPIN: String, userPIN: String) throws(PKCS11Error) -> CK_SLOT_ID {
        newTokenLock.lock()
        defer { newTokenLock.unlock() }
        for slot in try slots() {
            let info = try tokenInfo(slot: slot)
            if info.isInitialized, info.label == label {
                throw PKCS11Error(code: "pkcs11.token-exists", reason: "a token is labelled '\(label)' already in \(path)")
            }
        }
        try initToken(slot: try freeSlot(), soPIN: soPIN, label: label)
        let slot = try self.slot(tokenLabel: label)
        let session = try openSession(slot: slot, readWrite: true)
        try session.login(pin: soPIN, securityOfficer: true)
        try session.initUserPIN(userPIN)
        try session.logout()
        return slot
    }

    /// Opens a session on the token in `slot`.
    /// - Parameters:
    ///   - slot: the slot.
    ///   - readWrite: whether the session may create, change and destroy token objects.
    public func openSession(slot: CK_SLOT_ID, readWrite: Bool) throws(PKCS11Error) -> PKCS11Session {
        var handle: CK_SESSION_HANDLE = 0
        let flags = CK_FLAGS(CKF_SERIAL_SESSION) | (readWrite ? CK_FLAGS(CKF_RW_SESSION) : 0)
        try check(functions.pointee.C_OpenSession(slot, flags, nil, nil, &handle), "C_OpenSession")
        return PKCS11Session(module: self, slot: slot, handle: handle)
    }
}

/// A token's description (`CK_TOKEN_INFO`), the parts OpenCPS reads.
public struct PKCS11TokenInfo: Sendable, Equatable {
    /// The slot it is in.
    public var slot: CK_SLOT_ID
    /// Its label, without the padding.
    public var label: String
    /// Its serial number.
    public var serialNumber: String
    /// Its model.
    public var model: String
    /// Its flags (`CKF_...`).
    public var flags: CK_FLAGS

    /// Whether `C_InitToken` has run on it.
    public var isInitialized: Bool { flags & CK_FLAGS(CKF_TOKEN_INITIALIZED) != 0 }
    /// Whether its user PIN is set.
    public var isUserPINInitialized: Bool { flags & CK_FLAGS(CKF_USER_PIN_INITIALIZED) != 0 }
    /// Whether the token itself locked its user PIN.
    public var isUserPINLocked: Bool { flags & CK_FLAGS(CKF_USER_PIN_LOCKED) != 0 }
    /// Whether the token itself locked its security officer PIN.
    public var isSOPINLocked: Bool { flags & CK_FLAGS(CKF_SO_PIN_LOCKED) != 0 }
}

/// The blank-padded text fields of PKCS #11 structures.
enum PKCS11Text {
    /// Reads a fixed-size field (a C array imported as a tuple), dropping the trailing blanks.
    static func read<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { bytes in
            String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        }
    }

    /// `text` blank-padded to `length` bytes.
    static func padded(_ text: String, length: Int) throws(PKCS11Error) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard bytes.count <= length else {
            throw PKCS11Error(code: "pkcs11.label-too-long", reason: "'\(text)' is longer than \(length) bytes")
        }
        return bytes + [UInt8](repeating: 0x20, count: length - bytes.count)
    }
}

/// A dictionary behind a lock whose values are made once.
final class LockedDictionary<Key: Hashable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by lock.
    private var values: [Key: Value] = [:]

    /// The value for `key`, made by `make` the first time (under the lock, so only once).
    func value(for key: Key, make: () throws(PKCS11Error) -> Value) throws(PKCS11Error) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[key] { return value }
        let value = try make()
        values[key] = value
        return value
    }
}
