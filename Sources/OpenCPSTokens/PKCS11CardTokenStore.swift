import CPKCS11
import Foundation
import OpenCPSDomain
import OpenCPSPKCS11
import OpenCPSPKI
import SwiftASN1
import X509

/// The PKCS #11 module cards are made on, one token per card (SoftHSM2 in tests and demos).
public struct PKCS11CardTokenStore: Sendable {
    /// The module.
    public let module: PKCS11Module
    /// The PIN policy of OpenCPS's counters on the tokens.
    public let policy: PINPolicy

    /// Loads the module.
    /// - Throws: `token.unavailable` when it cannot be loaded.
    public init(modulePath: String, policy: PINPolicy = .standard) throws {
        do {
            module = try PKCS11Module.load(path: modulePath)
        } catch {
            throw TokenError(code: "token.unavailable", reason: "the card PKCS #11 module cannot be used: \(error.reason)")
        }
        self.policy = policy
    }

    /// Whether the module holds the token of a card.
    public func exists(cardSerial: String) -> Bool {
        (try? module.slot(tokenLabel: PKCS11CardToken.label(cardSerial: cardSerial))) != nil
    }

    /// Opens the token of a card.
    public func open(cardSerial: String) throws -> PKCS11CardToken {
        try PKCS11CardToken(module: module, cardSerial: cardSerial, policy: policy)
    }

    /// Starts a card: initialises a new token (the PUK as SO PIN, the PIN as user PIN) and
    /// generates both key pairs on it. ``PKCS11CardPersonalisation/finish(publicData:certificates:)``
    /// then writes the certificates and the public data.
    /// - Parameters:
    ///   - cardSerial: the card's serial (the token is labelled `OpenCPS <serial>`).
    ///   - algorithm: the key type of both pairs.
    ///   - pin: the first PIN (4 digits).
    ///   - puk: the PUK (8 digits).
    public func personalise(cardSerial: String, algorithm: KeyAlgorithm, pin: String, puk: String) throws -> PKCS11CardPersonalisation {
        try PINPolicy.checkPINFormat(pin)
        try PINPolicy.checkPUKFormat(puk)
        let label = PKCS11CardToken.label(cardSerial: cardSerial)
        let slot = try PKCS11CardToken.tokenCall { try module.initializeNewToken(label: label, soPIN: puk, userPIN: pin) }
        let personalisation = PKCS11CardPersonalisation(module: module, slot: slot, label: label, puk: puk, policy: policy)
        do {
            try personalisation.generateKeys(algorithm: algorithm, pin: pin)
        } catch {
            personalisation.discard()
            throw error
        }
        return personalisation
    }
}

/// A card token being made: keys generated, certificates and public data still to write.
public final class PKCS11CardPersonalisation: @unchecked Sendable {
    /// The public key of each role, for its certificate.
    public private(set) var publicKeys: [CardKeyRole: Certificate.PublicKey] = [:]
    /// The token's label.
    public let label: String
    private let module: PKCS11Module
    private let slot: CK_SLOT_ID
    private let puk: String
    private let policy: PINPolicy
    private var session: PKCS11Session?

    init(module: PKCS11Module, slot: CK_SLOT_ID, label: String, puk: String, policy: PINPolicy) {
        self.module = module
        self.slot = slot
        self.label = label
        self.puk = puk
        self.policy = policy
    }

    func generateKeys(algorithm: KeyAlgorithm, pin: String) throws {
        let session = try PKCS11CardToken.tokenCall { try module.openSession(slot: slot, readWrite: true) }
        try PKCS11CardToken.tokenCall { try session.login(pin: pin, acceptingExistingLogin: false) }
        self.session = session
        for role in CardKeyRole.allCases {
            let keys = try PKCS11CardToken.tokenCall {
                try PKCS11Keys.generate(on: session, algorithm: algorithm, label: role.rawValue, id: PKCS11CardToken.keyID(role))
            }
            publicKeys[role] = try PKCS11Keys.publicKey(on: session, object: keys.publicKey, algorithm: algorithm)
        }
    }

    /// Writes each certificate (with the `CKA_ID` of its key pair), the public data objects and
    /// fresh PIN counters, then logs out.
    /// - Parameters:
    ///   - publicData: the card's public data.
    ///   - certificates: the certificate of each role, PEM.
    public func finish(publicData: CardPublicData, certificates: [CardKeyRole: String]) throws {
        guard let session else { throw TokenError(code: "token.write-failed", reason: "the token '\(label)' has no keys yet") }
        defer {
            try? session.logout()
            self.session = nil
        }
        for role in CardKeyRole.allCases {
            guard let pem = certificates[role] else {
                throw TokenError(code: "token.write-failed", reason: "no \(role.rawValue) certificate for the token '\(label)'")
            }
            let certificate = try Certificate(pemEncoded: pem)
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            let der = serializer.serializedBytes
            var subject = DER.Serializer()
            try subject.serialize(certificate.subject)
            var issuer = DER.Serializer()
            try issuer.serialize(certificate.issuer)
            let serial = Array(certificate.serialNumber.bytes)
            try PKCS11CardToken.tokenCall {
                try session.createObject([
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CLASS), ulong: CK_ULONG(CKO_CERTIFICATE)),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_CERTIFICATE_TYPE), ulong: CK_ULONG(CKC_X_509)),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: false),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_LABEL), text: role.rawValue),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: PKCS11CardToken.keyID(role)),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_SUBJECT), bytes: subject.serializedBytes),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_ISSUER), bytes: issuer.serializedBytes),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_SERIAL_NUMBER), bytes: [0x02, UInt8(serial.count)] + serial),
                    PKCS11Attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), bytes: der),
                ])
            }
        }
        let fields: [(String, String)] = [
            ("cardSerial", publicData.cardSerial), ("holderIdNat", publicData.holderIdNat), ("holderName", publicData.holderName),
            ("kind", publicData.kind), ("cardTypeCode", String(publicData.cardTypeCode)), ("expiresOn", publicData.expiresOn),
            (PKCS11CardToken.countersLabel, String(decoding: try JSONEncoder().encode(policy.freshCounters), as: UTF8.self)),
        ]
        for (name, value) in fields {
            try PKCS11CardToken.tokenCall { try session.createObject(PKCS11CardToken.dataObject(label: name, value: Array(value.utf8))) }
        }
    }

    /// Wipes the token (a card that will not be recorded): `C_InitToken` again with the PUK,
    /// which destroys every object, under the label `OpenCPS discarded`, so that no token carries
    /// the label of a card that does not exist.
    public func discard() {
        try? session?.logout()
        session = nil
        try? module.initToken(slot: slot, soPIN: puk, label: "OpenCPS discarded")
    }
}
