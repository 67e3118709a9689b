import CPKCS11

/// One attribute of a template, as PKCS #11 takes it: a type and its value's bytes.
public struct PKCS11Attribute: Sendable, Equatable {
    /// `CKA_...`.
    public var type: CK_ATTRIBUTE_TYPE
    /// The value's bytes, in the module's native layout for numbers and booleans.
    public var value: [UInt8]

    /// An attribute holding bytes (labels, IDs, DER values).
    public init(_ type: CK_ATTRIBUTE_TYPE, bytes: [UInt8]) {
        self.type = type
        self.value = bytes
    }

    /// An attribute holding a `CK_BBOOL`.
    public init(_ type: CK_ATTRIBUTE_TYPE, bool: Bool) {
        self.init(type, bytes: [bool ? UInt8(CK_TRUE) : UInt8(CK_FALSE)])
    }

    /// An attribute holding a `CK_ULONG` (classes, key types, sizes).
    public init(_ type: CK_ATTRIBUTE_TYPE, ulong: CK_ULONG) {
        self.init(type, bytes: withUnsafeBytes(of: ulong) { Array($0) })
    }

    /// An attribute holding UTF-8 text (labels, applications).
    public init(_ type: CK_ATTRIBUTE_TYPE, text: String) {
        self.init(type, bytes: Array(text.utf8))
    }
}

/// A session on one token (`C_OpenSession`), closed when the object goes.
///
/// A session is used by one thread at a time (PKCS #11 §5.6: a session's operations are not
/// interleaved); the module's login state is shared by every session of the process on the
/// same token.
public final class PKCS11Session {
    /// The module.
    public let module: PKCS11Module
    /// The token's slot.
    public let slot: CK_SLOT_ID
    let handle: CK_SESSION_HANDLE
    private var functions: CK_FUNCTION_LIST { module.functions.pointee }

    init(module: PKCS11Module, slot: CK_SLOT_ID, handle: CK_SESSION_HANDLE) {
        self.module = module
        self.slot = slot
        self.handle = handle
    }

    deinit {
        _ = module.functions.pointee.C_CloseSession(handle)
    }

    // MARK: Logging in

    /// Logs in (`C_Login`) as the user or the security officer.
    /// - Parameters:
    ///   - pin: the PIN.
    ///   - securityOfficer: whether to log in as the SO (whose PIN a card calls its PUK).
    ///   - acceptingExistingLogin: whether an existing login of the same user by another session
    ///     of this process counts as success (the token then checks no PIN: a card never accepts it).
    /// - Throws: `pkcs11.ckr-pin-incorrect`, `pkcs11.ckr-pin-locked`, ...
    public func login(pin: String, securityOfficer: Bool = false, acceptingExistingLogin: Bool = true) throws(PKCS11Error) {
        var bytes = Array(pin.utf8)
        let rv = functions.C_Login(handle, securityOfficer ? CK_USER_TYPE(CKU_SO) : CK_USER_TYPE(CKU_USER), &bytes, CK_ULONG(bytes.count))
        if rv == CK_RV(CKR_USER_ALREADY_LOGGED_IN), acceptingExistingLogin { return }
        try check(rv, "C_Login")
    }

    /// Logs out (`C_Logout`); not being logged in is not an error.
    public func logout() throws(PKCS11Error) {
        let rv = functions.C_Logout(handle)
        if rv == CK_RV(CKR_USER_NOT_LOGGED_IN) { return }
        try check(rv, "C_Logout")
    }

    /// Sets the user PIN (`C_InitPIN`): the session must be logged in as the security officer.
    public func initUserPIN(_ pin: String) throws(PKCS11Error) {
        var bytes = Array(pin.utf8)
        try check(functions.C_InitPIN(handle, &bytes, CK_ULONG(bytes.count)), "C_InitPIN")
    }

    /// Changes the logged-in user's PIN (`C_SetPIN`).
    public func setPIN(old: String, new: String) throws(PKCS11Error) {
        var oldBytes = Array(old.utf8)
        var newBytes = Array(new.utf8)
        try check(functions.C_SetPIN(handle, &oldBytes, CK_ULONG(oldBytes.count), &newBytes, CK_ULONG(newBytes.count)), "C_SetPIN")
    }

    // MARK: Objects

    /// Creates an object (`C_CreateObject`) from `template`.
    /// - Returns: its handle.
    @discardableResult
    public func createObject(_ template: [PKCS11Attribute]) throws(PKCS11Error) -> CK_OBJECT_HANDLE {
        var object: CK_OBJECT_HANDLE = 0
        let rv = Self.withTemplate(template) { attributes, count in functions.C_CreateObject(handle, attributes, count, &object) }
        try check(rv, "C_CreateObject")
        return object
    }

    /// The handles of the objects matching every attribute of `template`.
    public func findObjects(_ template: [PKCS11Attribute]) throws(PKCS11Error) -> [CK_OBJECT_HANDLE] {
        try check(Self.withTemplate(template) { attributes, count in functions.C_FindObjectsInit(handle, attributes, count) }, "C_FindObjectsInit")
        var found: [CK_OBJECT_HANDLE] = []
        var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 32)
        var failure: PKCS11Error?
        while true {
            var count: CK_ULONG = 0
            let rv = functions.C_FindObjects(handle, &batch, CK_ULONG(batch.count), &count)
            guard rv == CK_RV(CKR_OK) else {
                failure = PKCS11Error(function: "C_FindObjects", rv: rv)
                break
            }
            if count == 0 { break }
            found += batch.prefix(Int(count))
        }
        // The search is ended even after a failure, so that the session can be used again.
        let finalRV = functions.C_FindObjectsFinal(handle)
        if let failure { throw failure }
        try check(finalRV, "C_FindObjectsFinal")
        return found
    }

    /// The value of one attribute of an object, or nil when the object has no such attribute.
    /// - Throws: `pkcs11.ckr-attribute-sensitive` for a value the token will not reveal.
    public func attribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> [UInt8]? {
        var attribute = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
        let sizeRV = functions.C_GetAttributeValue(handle, object, &attribute, 1)
        if sizeRV == CK_RV(CKR_ATTRIBUTE_TYPE_INVALID) { return nil }
        try check(sizeRV, "C_GetAttributeValue")
        guard attribute.ulValueLen != CK_UNAVAILABLE_INFORMATION else { return nil }
        var value = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        let rv = value.withUnsafeMutableBytes { buffer in
            attribute.pValue = buffer.baseAddress
            return functions.C_GetAttributeValue(handle, object, &attribute, 1)
        }
        try check(rv, "C_GetAttributeValue")
        return Array(value.prefix(Int(attribute.ulValueLen)))
    }

    /// A boolean attribute of an object, or nil when it has none.
    public func boolAttribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> Bool? {
        try attribute(type, of: object).map { $0.first == UInt8(CK_TRUE) }
    }

    /// Changes attributes of an object (`C_SetAttributeValue`).
    public func setAttributes(_ template: [PKCS11Attribute], of object: CK_OBJECT_HANDLE) throws(PKCS11Error) {
        try check(Self.withTemplate(template) { attributes, count in functions.C_SetAttributeValue(handle, object, attributes, count) }, "C_SetAttributeValue")
    }

    /// Destroys an object (`C_DestroyObject`).
    public func destroyObject(_ object: CK_OBJECT_HANDLE) throws(PKCS11Error) {
        try check(functions.C_DestroyObject(handle, object), "C_DestroyObject")
    }

    // MARK: Cryptography

    /// Generates a key pair on the token (`C_GenerateKeyPair`).
    /// - Returns: the public and private keys' handles.
    public func generateKeyPair(
        mechanism: CK_MECHANISM_TYPE, publicTemplate: [PKCS11Attribute], privateTemplate: [PKCS11Attribute]
    ) throws(PKCS11Error) -> (publicKey: CK_OBJECT_HANDLE, privateKey: CK_OBJECT_HANDLE) {
        var mechanismValue = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
        var publicKey: CK_OBJECT_HANDLE = 0
        var privateKey: CK_OBJECT_HANDLE = 0
        let rv = Self.withTemplate(publicTemplate) { publicAttributes, publicCount in
            Self.withTemplate(privateTemplate) { privateAttributes, privateCount in
                functions.C_GenerateKeyPair(handle, &mechanismValue, publicAttributes, publicCount, privateAttributes, privateCount, &publicKey, &privateKey)
            }
        }
        try check(rv, "C_GenerateKeyPair")
        return (publicKey, privateKey)
    }

    /// Signs `data` in one part (`C_SignInit`, `C_Sign`).
    /// - Parameters:
    ///   - data: the bytes to sign (for `CKM_ECDSA` and `CKM_RSA_PKCS`, the digest or DigestInfo).
    ///   - key: the private key.
    ///   - mechanism: `CKM_SHA256_RSA_PKCS`, `CKM_ECDSA`, ...
    /// - Returns: the signature as the mechanism defines it (raw `r‖s` for ECDSA).
    public func sign(_ data: [UInt8], key: CK_OBJECT_HANDLE, mechanism: CK_MECHANISM_TYPE) throws(PKCS11Error) -> [UInt8] {
        var mechanismValue = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
        try check(functions.C_SignInit(handle, &mechanismValue, key), "C_SignInit")
        var input = data
        // RSA-4096 is the longest signature OpenCPS makes; the module says so when more is needed.
        var output = [UInt8](repeating: 0, count: 1024)
        var length = CK_ULONG(output.count)
        let rv = functions.C_Sign(handle, &input, CK_ULONG(input.count), &output, &length)
        try check(rv, "C_Sign")
        return Array(output.prefix(Int(length)))
    }

    /// Verifies a signature in one part (`C_VerifyInit`, `C_Verify`).
    /// - Returns: whether the signature holds (`CKR_SIGNATURE_INVALID` gives false).
    public func verify(_ signature: [UInt8], of data: [UInt8], key: CK_OBJECT_HANDLE, mechanism: CK_MECHANISM_TYPE) throws(PKCS11Error) -> Bool {
        var mechanismValue = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
        try check(functions.C_VerifyInit(handle, &mechanismValue, key), "C_VerifyInit")
        var input = data
        var signatureBytes = signature
        let rv = functions.C_Verify(handle, &input, CK_ULONG(input.count), &signatureBytes, CK_ULONG(signatureBytes.count))
        // CKR_SIGNATURE_INVALID (0xC0) and CKR_SIGNATURE_LEN_RANGE (0xC1): the signature does not hold.
        if rv == 0xC0 || rv == 0xC1 { return false }
        try check(rv, "C_Verify")
        return true
    }

    /// Hashes `data` in one part (`C_DigestInit`, `C_Digest`).
    public func digest(_ data: [UInt8], mechanism: CK_MECHANISM_TYPE) throws(PKCS11Error) -> [UInt8] {
        var mechanismValue = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
        try check(functions.C_DigestInit(handle, &mechanismValue), "C_DigestInit")
        var input = data
        var output = [UInt8](repeating: 0, count: 64)
        var length = CK_ULONG(output.count)
        try check(functions.C_Digest(handle, &input, CK_ULONG(input.count), &output, &length), "C_Digest")
        return Array(output.prefix(Int(length)))
    }

    /// Bytes from the token's generator (`C_GenerateRandom`).
    public func random(_ count: Int) throws(PKCS11Error) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        try check(functions.C_GenerateRandom(handle, &output, CK_ULONG(count)), "C_GenerateRandom")
        return output
    }

    // MARK: Templates

    /// Lays `template` out as a `CK_ATTRIBUTE` array whose values stay valid during `body`.
    static func withTemplate<R>(_ template: [PKCS11Attribute], _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) -> R) -> R {
        let total = template.reduce(0) { $0 + ($1.value.count + 7) & ~7 }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: MemoryLayout<CK_ULONG>.alignment)
        defer { storage.deallocate() }
        var attributes: [CK_ATTRIBUTE] = []
        attributes.reserveCapacity(template.count)
        var offset = 0
        for attribute in template {
            let start = storage.baseAddress! + offset
            attribute.value.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { start.copyMemory(from: base, byteCount: bytes.count) }
            }
            attributes.append(CK_ATTRIBUTE(type: attribute.type, pValue: attribute.value.isEmpty ? nil : start, ulValueLen: CK_ULONG(attribute.value.count)))
            // Each value starts on a CK_ULONG boundary, where the module may read a number.
            offset += (attribute.value.count + 7) & ~7
        }
        return attributes.withUnsafeMutableBufferPointer { body($0.baseAddress, CK_ULONG($0.count)) }
    }
}
