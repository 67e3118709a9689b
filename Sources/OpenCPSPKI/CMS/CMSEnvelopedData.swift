import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// CMS EnvelopedData (RFC 5652 §6) to one RSA recipient, as `openssl cms -decrypt` reads it:
/// the content encrypted with AES-256-CBC under a random key, the key encrypted to the
/// recipient's certificate with RSAES-OAEP (SHA-256, MGF1 with SHA-256; RFC 8017, RFC 4055),
/// the recipient named by its certificate's issuer and serial number (KeyTransRecipientInfo
/// version 0).
///
/// Written by hand over DER lengths: swift-certificates has no EnvelopedData, and the
/// structure is small and fixed.
public enum CMSEnvelopedData {
    /// The DER ContentInfo holding `content` enveloped to `recipient`.
    /// - Throws: ``PKIError`` when the recipient's key is not an RSA key of 2048 bits or more.
    public static func envelop(_ content: [UInt8], to recipient: Certificate) throws -> [UInt8] {
        var keySerializer = DER.Serializer()
        try keySerializer.serialize(recipient.publicKey)
        let rsaKey: _RSA.Encryption.PublicKey
        do {
            rsaKey = try _RSA.Encryption.PublicKey(derRepresentation: keySerializer.serializedBytes)
        } catch {
            throw PKIError(code: "pki.envelope-recipient", reason: "the recipient's certificate must carry an RSA key of 2048 bits or more")
        }
        var issuerSerializer = DER.Serializer()
        try issuerSerializer.serialize(recipient.issuer)

        let contentKey = SymmetricKey(size: .bits256)
        var ivBytes = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in ivBytes.indices { ivBytes[index] = generator.next() }
        let iv = try AES._CBC.IV(ivBytes: ivBytes)
        let encryptedContent = try AES._CBC.encrypt(content, using: contentKey, iv: iv)
        let encryptedKey = try contentKey.withUnsafeBytes { key in
            try rsaKey.encrypt(Data(key), padding: .PKCS1_OAEP_SHA256)
        }

        let sha256 = sequence(oid([2, 16, 840, 1, 101, 3, 4, 2, 1]) + [0x05, 0x00])
        let oaepParameters = sequence(
            tagged(0, sha256) + tagged(1, sequence(oid([1, 2, 840, 113_549, 1, 1, 8]) + sha256)))
        let recipientInfo = sequence(
            integer([0])
                + sequence(issuerSerializer.serializedBytes + integer(Array(recipient.serialNumber.bytes)))
                + sequence(oid([1, 2, 840, 113_549, 1, 1, 7]) + oaepParameters)
                + tlv(0x04, Array(encryptedKey)))
        let encryptedContentInfo = sequence(
            oid([1, 2, 840, 113_549, 1, 7, 1])
                + sequence(oid([2, 16, 840, 1, 101, 3, 4, 1, 42]) + tlv(0x04, ivBytes))
                + tlv(0x80, Array(encryptedContent)))
        let envelopedData = sequence(integer([0]) + tlv(0x31, recipientInfo) + encryptedContentInfo)
        return sequence(oid([1, 2, 840, 113_549, 1, 7, 3]) + tagged(0, envelopedData))
    }

    /// PEM (`-----BEGIN CMS-----`), as `openssl cms -inform PEM` reads it.
    public static func pem(_ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [String] = []
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        return "-----BEGIN CMS-----\n" + lines.joined(separator: "\n") + "\n-----END CMS-----\n"
    }

    private static func tlv(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if value.count < 0x80 {
            length = [UInt8(value.count)]
        } else {
            var bytes: [UInt8] = []
            var remaining = value.count
            while remaining > 0 {
                bytes.insert(UInt8(remaining & 0xFF), at: 0)
                remaining >>= 8
            }
            length = [0x80 | UInt8(bytes.count)] + bytes
        }
        return [tag] + length + value
    }

    private static func sequence(_ value: [UInt8]) -> [UInt8] { tlv(0x30, value) }

    /// A constructed context-specific tag (`[n] EXPLICIT`).
    private static func tagged(_ number: UInt8, _ value: [UInt8]) -> [UInt8] { tlv(0xA0 | number, value) }

    /// An INTEGER from its big-endian magnitude, made positive and minimal.
    private static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var bytes = Array(magnitude.drop { $0 == 0 })
        if bytes.isEmpty { bytes = [0] }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return tlv(0x02, bytes)
    }

    private static func oid(_ arcs: [UInt]) -> [UInt8] {
        var body: [UInt8] = [UInt8(arcs[0] * 40 + arcs[1])]
        for arc in arcs.dropFirst(2) {
            var chunk: [UInt8] = [UInt8(arc & 0x7F)]
            var rest = arc >> 7
            while rest > 0 {
                chunk.insert(UInt8(rest & 0x7F) | 0x80, at: 0)
                rest >>= 7
            }
            body += chunk
        }
        return tlv(0x06, body)
    }
}
