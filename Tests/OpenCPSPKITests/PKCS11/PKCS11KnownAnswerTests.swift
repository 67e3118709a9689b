import CPKCS11
import Crypto
import Foundation
import OpenCPSPKCS11
import SwiftASN1
import Testing

/// The PKCS #11 declarations, loader and session against SoftHSM2, with answers known from
/// elsewhere: the SHA-256 test vector of FIPS 180-2, and an RSA signature and an ECDSA
/// signature made by OpenSSL (Resources/pkcs11/make-vectors.sh).
@Suite("PKCS #11 known answers (SoftHSM2)", SoftHSM.needs())
struct PKCS11KnownAnswerTests {
    func vector(_ name: String) throws -> [UInt8] {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        let url = try #require(Bundle.module.url(forResource: parts[0], withExtension: parts[1], subdirectory: "Resources/pkcs11"))
        return Array(try Data(contentsOf: url))
    }

    func loggedIn() throws -> PKCS11Session {
        let token = try SoftHSM.newToken()
        let session = try SoftHSM.module().openSession(slot: token.slot, readWrite: true)
        try session.login(pin: "1234")
        return session
    }

    @Test("the module loads through C_GetFunctionList and describes itself")
    func loads() throws {
        let info = try SoftHSM.module().info()
        #expect(info.manufacturer == "SoftHSM")
        #expect(info.version.hasPrefix("2."))
        // A second load of the same path is the same module, not a second C_Initialize.
        #expect(try PKCS11Module.load(path: SoftHSM.modulePath) === SoftHSM.module())
    }

    @Test("a path that is not a PKCS #11 module is refused with a clear error")
    func refusesNonModules() {
        #expect(throws: PKCS11Error(code: "pkcs11.module-not-loaded", reason: "")) { try PKCS11Module.load(path: "/nonexistent/libnothing.so") }
        let error = #expect(throws: PKCS11Error.self) { try PKCS11Module.load(path: "/lib/x86_64-linux-gnu/libm.so.6") }
        #expect(error?.code == "pkcs11.module-not-loaded")
    }

    @Test("C_Digest gives the FIPS 180-2 SHA-256 of 'abc'")
    func digest() throws {
        let session = try loggedIn()
        let digest = try session.digest(Array("abc".utf8), mechanism: CK_MECHANISM_TYPE(CKM_SHA256))
        #expect(digest.map { String(format: "%02x", $0) }.joined() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("an RSA key imported with C_CreateObject signs (CKM_SHA256_RSA_PKCS) exactly as OpenSSL did")
    func rsaSignature() throws {
        let session = try loggedIn()
        // RSAPrivateKey ::= SEQUENCE { version, n, e, d, p, q, dp, dq, qInv } (RFC 8017 A.1.2)
        let integers = try DER.sequence(DER.parse(try vector("rsa-2048-pkcs1.der")), identifier: .sequence) { nodes in
            var values: [[UInt8]] = []
            while let node = nodes.next() {
                guard node.identifier == .integer, case .primitive(let bytes) = node.content else {
                    throw ASN1Error.invalidASN1Object(reason: "an RSAPrivateKey holds integers")
                }
                values.append(Array(bytes.drop { $0 == 0 }))
            }
            return values
        }
        try #require(integers.count == 9)
        let types = [CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, 0x124, 0x125, 0x126, 0x127, 0x128]
        let key = try session.createObject([
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_PRIVATE_KEY)),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), ulong: CK_ULONG(CKK_RSA)),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: false),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_SIGN), bool: true),
        ] + zip(types, integers.dropFirst()).map { PKCS11Attribute(CK_ATTRIBUTE_TYPE($0), bytes: $1) })
        let signature = try session.sign(try vector("message.txt"), key: key, mechanism: CK_MECHANISM_TYPE(CKM_SHA256_RSA_PKCS))
        #expect(signature == (try vector("rsa-2048-sha256.sig")))
    }

    @Test("a P-256 public key imported with C_CreateObject accepts OpenSSL's ECDSA signature (CKM_ECDSA) and refuses an altered one")
    func ecdsaVerification() throws {
        let session = try loggedIn()
        // The SubjectPublicKeyInfo ends with the uncompressed point; CKA_EC_POINT holds it as a DER OCTET STRING.
        let point = Array(try vector("p256-public.der").suffix(65))
        let key = try session.createObject([
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_PUBLIC_KEY)),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), ulong: CK_ULONG(CKK_EC)),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: false),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_VERIFY), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS), bytes: [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_EC_POINT), bytes: [0x04, 0x41] + point),
        ])
        let digest = Array(SHA256.hash(data: try vector("message.txt")))
        var raw = Array(try P256.Signing.ECDSASignature(derRepresentation: try vector("p256-sha256.sig")).rawRepresentation)
        #expect(try session.verify(raw, of: digest, key: key, mechanism: CK_MECHANISM_TYPE(CKM_ECDSA)))
        raw[10] ^= 0x01
        #expect(try !session.verify(raw, of: digest, key: key, mechanism: CK_MECHANISM_TYPE(CKM_ECDSA)))
    }

    @Test("a wrong user PIN is CKR_PIN_INCORRECT, and the security officer can set a new one")
    func pins() throws {
        let token = try SoftHSM.newToken(soPIN: "11223344", userPIN: "1234")
        let session = try SoftHSM.module().openSession(slot: token.slot, readWrite: true)
        let wrong = #expect(throws: PKCS11Error.self) { try session.login(pin: "9999") }
        #expect(wrong?.code == "pkcs11.ckr-pin-incorrect")
        try session.login(pin: "11223344", securityOfficer: true)
        try session.initUserPIN("5678")
        try session.logout()
        try session.login(pin: "5678")
        try session.setPIN(old: "5678", new: "4321")
        try session.logout()
        #expect(throws: PKCS11Error.self) { try session.login(pin: "5678") }
        try session.login(pin: "4321")
    }

    @Test("public data objects are found by label and read back, relabelled, destroyed; attributes the token lacks read as nil")
    func objects() throws {
        let session = try loggedIn()
        let object = try session.createObject([
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_DATA)),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: false),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_APPLICATION), text: "OpenCPS"),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: "cardSerial"),
            PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), text: "0123456789"),
        ])
        let found = try session.findObjects([PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: "cardSerial")])
        #expect(found == [object])
        #expect(try session.attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: object) == Array("0123456789".utf8))
        #expect(try session.attribute(CK_ATTRIBUTE_TYPE(CKA_MODULUS), of: object) == nil)
        // SoftHSM2 keeps a data object's value read-only once made (CKR_ATTRIBUTE_READ_ONLY); its label may change.
        let readOnly = #expect(throws: PKCS11Error.self) {
            try session.setAttributes([PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), text: "9876543210")], of: object)
        }
        #expect(readOnly?.code == "pkcs11.ckr-attribute-read-only")
        try session.setAttributes([PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: "oldSerial")], of: object)
        #expect(try session.findObjects([PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: "oldSerial")]) == [object])
        try session.destroyObject(object)
        #expect(try session.findObjects([PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: "oldSerial")]).isEmpty)
    }
}
