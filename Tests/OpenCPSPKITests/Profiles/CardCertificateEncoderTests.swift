import Crypto
import Foundation
@testable import OpenCPSPKI
import SwiftASN1
import Testing
import X509

/// The issuer writes card certificates with its own DER writer; swift-certificates, building
/// the same certificate from its model, is the reference it must match byte for byte.
@Suite("Card certificate DER writer", TestTools.needs("openssl"))
struct CardCertificateEncoderTests {
    let pki = TestPKI.shared

    /// Names chosen for the encoding: lengths that change the order of the multi-valued RDN's
    /// members (DER sorts a SET OF by the members' encodings, their lengths first), values whose
    /// UTF-8 passes 127 bytes (two-byte lengths), and text RFC 4514 escapes.
    static let names: [(givenName: String, surname: String, title: String, structure: String)] = [
        ("Jeanne", "Dupont-Martin", "Médecin", "Cabinet du Dr Dupont"),
        ("Marie-Christine-Élisabeth", "Li", "Infirmier", "Maison de santé"),
        ("Al", "Dupont", "Pharmacien", "P"),
        (String(repeating: "é", count: 64), String(repeating: "Ø", count: 64), String(repeating: "è", count: 64), String(repeating: "à", count: 64)),
        ("#Anne, Marie", "O'Neil+Smith", "Infirmier \"libéral\"", "  Clinique <Sud>; \\ bloc  "),
    ]

    enum Key: String, CaseIterable, CustomTestStringConvertible {
        case rsaToken, p256Token, p256CSR
        var testDescription: String { rawValue }
    }

    func request(_ key: Key, name: Int, cardType: Int) throws -> CardCertificateRequest {
        var request: CardCertificateRequest
        switch key {
        case .rsaToken:
            request = pki.request(key: pki.rsaCardKey)
        case .p256Token:
            request = pki.request(key: pki.p256CardKey)
        case .p256CSR:
            let csr = try CertificateSigningRequest(
                version: .v1, subject: DistinguishedName { CommonName("ignored") },
                privateKey: pki.p256CardKey.certificatePrivateKey, attributes: .init())
            var der = DER.Serializer()
            try der.serialize(csr)
            let template = pki.request(key: pki.p256CardKey)
            request = CardCertificateRequest(
                givenName: template.givenName, surname: template.surname, idNat: template.idNat,
                professionTitle: template.professionTitle, structureName: template.structureName,
                structureIdentifier: template.structureIdentifier, cardTypeCode: 0, cardIssuerIdentifier: "80276",
                cardSerialNumber: "0123456789", cardDomain: "cps.opencps.example",
                key: try VerifiedRequestKey(csr: der.serializedBytes), notBefore: template.notBefore, notAfter: template.notAfter)
            #expect(request.subjectPublicKeyInfo != nil)
        }
        let fields = Self.names[name]
        request.givenName = fields.givenName
        request.surname = fields.surname
        request.professionTitle = fields.title
        // Staff cards (CPE 2, CPA 3) name their structure; personal ones (CPS 0, CPF 1) do not.
        request.structureName = cardType >= 2 ? fields.structure : nil
        request.structureIdentifier = cardType >= 2 ? "1250000700" : nil
        request.cardTypeCode = cardType
        return request
    }

    @Test("the written certificate is swift-certificates' certificate, byte for byte", arguments:
        CardCertificateProfile.allCases, Key.allCases)
    func sameBytes(profile: CardCertificateProfile, key: Key) throws {
        for name in Self.names.indices {
            for cardType in 0...3 {
                let request = try request(key, name: name, cardType: cardType)
                let serial = SerialNumberGenerator(random: .seeded(UInt64(500 + name * 4 + cardType))).next()
                let issued = try pki.forteIssuer.issue(request, profile: profile, now: pki.now, serial: serial)
                let reference = try pki.forteIssuer.referenceCertificate(request, profile: profile, serial: serial)
                var serializer = DER.Serializer()
                try serializer.serialize(reference)
                // The test CA signs with RSA PKCS#1 v1.5, which is deterministic: the whole
                // certificate must be the same, signature included.
                #expect(issued.der == serializer.serializedBytes, "name \(name), card type \(cardType)")
                #expect(issued.subject == String(describing: reference.subject))
                #expect(issued.notBefore == reference.notValidBefore)
                #expect(issued.notAfter == reference.notValidAfter)
                #expect(try issued.certificate() == reference)
            }
        }
    }

    @Test("an RSA key from an OpenSSL CSR is certified as swift-certificates would")
    func rsaRequestFromOpenSSL() throws {
        let key = pki.directory.appendingPathComponent("openssl-rsa.key")
        let csr = pki.directory.appendingPathComponent("openssl-rsa.csr")
        let made = try openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-subj", "/CN=ignored",
                               "-outform", "DER", "-out", csr.path)
        try #require(made.status == 0, "\(made.output)")
        let verified = try VerifiedRequestKey(csr: Array(try Data(contentsOf: csr)))
        let template = pki.request(key: pki.rsaCardKey)
        let request = CardCertificateRequest(
            givenName: template.givenName, surname: template.surname, idNat: template.idNat,
            professionTitle: template.professionTitle, structureName: "CH de Pontarlier",
            structureIdentifier: "1250000700", cardTypeCode: 2, cardIssuerIdentifier: "80276",
            cardSerialNumber: "42", cardDomain: "cps.opencps.example", key: verified,
            notBefore: template.notBefore, notAfter: template.notAfter)
        #expect(request.subjectPublicKeyInfo.flatMap(CardCertificateEncoder.canonicalKeyBits) != nil)
        let serial = SerialNumberGenerator(random: .seeded(600)).next()
        let issued = try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: serial)
        var serializer = DER.Serializer()
        try serializer.serialize(try pki.forteIssuer.referenceCertificate(request, profile: .authentication, serial: serial))
        #expect(issued.der == serializer.serializedBytes)
    }

    @Test("a key in another form than the certificate's is encoded again, and changing the key drops the CSR's bytes")
    func nonCanonicalKeys() throws {
        let p256 = try #require(P256.Signing.PublicKey(pki.p256CardKey.publicKey))
        let algorithm: [UInt8] = [0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        let compressed = Array(p256.compressedRepresentation)
        let spki = DERWriter.element(0x30, algorithm + DERWriter.element(0x03, [0x00] + compressed))
        #expect(CardCertificateEncoder.canonicalKeyBits(spki) == nil)
        let uncompressed = Array(p256.x963Representation)
        let canonical = DERWriter.element(0x30, algorithm + DERWriter.element(0x03, [0x00] + uncompressed))
        #expect(CardCertificateEncoder.canonicalKeyBits(canonical).map(Array.init) == uncompressed)
        #expect(CardCertificateEncoder.canonicalKeyBits([0x30, 0x00]) == nil)

        var request = try request(.p256CSR, name: 0, cardType: 0)
        request.publicKey = pki.rsaCardKey.publicKey
        #expect(request.subjectPublicKeyInfo == nil)
        let issued = try pki.forteIssuer.issue(request, profile: .signature, now: pki.now, serial: SerialNumberGenerator(random: .seeded(601)).next())
        #expect(try issued.certificate().publicKey == pki.rsaCardKey.publicKey)
    }

    @Test("times are UTCTime from 1950 to 2049 and GeneralizedTime outside, to the second", arguments: [
        (-631_152_000.0, "\u{17}\u{0D}500101000000Z"),        // 1950-01-01
        (-631_152_001.0, "\u{18}\u{0F}19491231235959Z"),      // 1949-12-31 23:59:59
        (-1.0, "\u{17}\u{0D}691231235959Z"),
        (0.0, "\u{17}\u{0D}700101000000Z"),
        (951_782_400.0, "\u{17}\u{0D}000229000000Z"),         // 2000-02-29
        (1_798_761_599.999, "\u{17}\u{0D}261231235959Z"),     // a fraction is dropped
        (2_524_607_999.0, "\u{17}\u{0D}491231235959Z"),       // 2049-12-31 23:59:59
        (2_524_608_000.0, "\u{18}\u{0F}20500101000000Z"),     // 2050-01-01
        (4_107_542_400.0, "\u{18}\u{0F}21000301000000Z"),     // 2100-03-01 (2100 is not a leap year)
    ])
    func times(seconds: Double, expected: String) throws {
        var bytes: [UInt8] = []
        DERTime.appendX509Time(Date(timeIntervalSince1970: seconds), to: &bytes)
        #expect(bytes == Array(expected.utf8))
        // swift-certificates' own encoding of the same time, read back from a certificate's validity.
        let key = P256.Signing.PrivateKey()
        let date = Date(timeIntervalSince1970: seconds.rounded(.down))
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(bytes: [1]), publicKey: .init(key.publicKey), notValidBefore: date,
            notValidAfter: date, issuer: DistinguishedName { CommonName("t") }, subject: DistinguishedName { CommonName("t") },
            signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(), issuerPrivateKey: .init(key))
        let tbs = try DER.parse(Array(certificate.tbsCertificateBytes))
        guard case .constructed(let fields) = tbs.content else { Issue.record("TBSCertificate is not constructed"); return }
        let validity = try #require(Array(fields).dropFirst(4).first)
        guard case .constructed(let times) = validity.content else { Issue.record("Validity is not constructed"); return }
        #expect(Array(try #require(Array(times).first).encodedBytes) == bytes)
    }

    @Test("lengths take one byte below 128 and the fewest bytes above")
    func lengths() {
        func length(_ n: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            DERWriter.appendLength(n, to: &bytes)
            return bytes
        }
        #expect(length(0) == [0x00])
        #expect(length(127) == [0x7F])
        #expect(length(128) == [0x81, 0x80])
        #expect(length(255) == [0x81, 0xFF])
        #expect(length(256) == [0x82, 0x01, 0x00])
        #expect(length(65_536) == [0x83, 0x01, 0x00, 0x00])
        #expect(DERWriter.setOfPrecedes([0x30, 0x05], [0x30, 0x06]))
        #expect(!DERWriter.setOfPrecedes([0x30, 0x05], [0x30, 0x05]))
        #expect(!DERWriter.setOfPrecedes([0x30], [0x30, 0x00]))
        #expect(DERWriter.setOfPrecedes([0x30], [0x30, 0x01]))
    }
}
