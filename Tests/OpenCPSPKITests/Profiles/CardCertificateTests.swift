import Foundation
import OpenCPSPKI
import SwiftASN1
import Testing
import X509

@Suite("Card certificate profiles", TestTools.needs("openssl"))
struct CardCertificateTests {
    let pki = TestPKI.shared

    @Test("serial numbers are 16 bytes, positive, non-zero-led and reproducible with a seed")
    func serials() {
        let a = SerialNumberGenerator(random: .seeded(42)).next()
        let b = SerialNumberGenerator(random: .seeded(42)).next()
        #expect(a == b)
        #expect(a.bytes.count == 16)
        #expect((1...0x7F).contains(a.bytes.first!))
        let generator = SerialNumberGenerator(random: .seeded(43))
        #expect(generator.next() != generator.next())
        #expect(Certificate.SerialNumber(hex: a.hex) == a)
    }

    @Test("time-ordered serial numbers: 16 bytes, positive, the millisecond first, then 80 random bits")
    func timeOrderedSerials() {
        let issuedAt = Date(timeIntervalSince1970: 1_764_764_538.75)
        let serial = SerialNumberGenerator(random: .seeded(44)).next(at: issuedAt)
        // Known answer: the 0x40 marker bit over 1,764,764,538,750 ms (0x019A_E429_D77E), then the seed's bytes.
        #expect(Array(serial.bytes.prefix(6)) == [0x41, 0x9A, 0xE4, 0x29, 0xD7, 0x7E])
        #expect(serial.bytes.count == 16)
        #expect(Array(serial.bytes.suffix(10)) == Array(SerialNumberGenerator(random: .seeded(44)).next().bytes.suffix(10)))
        #expect(SerialNumberGenerator(random: .seeded(44)).next(at: issuedAt) == serial)

        // Later serials sort after earlier ones, as numbers and as the stored hex, whatever their random part.
        let generator = SerialNumberGenerator(random: .seeded(45))
        var previous = generator.next(at: issuedAt)
        for step in 1...200 {
            let next = generator.next(at: issuedAt.addingTimeInterval(Double(step) / 1000))
            #expect(next.bytes.lexicographicallyPrecedes(previous.bytes) == false)
            #expect(previous.hex < next.hex)
            previous = next
        }
        // Same millisecond: still distinct; the edges of the range stay positive and 16 bytes long.
        #expect(generator.next(at: issuedAt) != generator.next(at: issuedAt))
        for date in [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -5), Date.distantFuture] {
            let edge = generator.next(at: date)
            #expect(edge.bytes.count == 16)
            #expect((0x40...0x7F).contains(edge.bytes[0]))
        }
    }

    @Test("the authentication certificate carries every field of the profile (RSA-2048)")
    func authenticationProfile() throws {
        let issued = try pki.issue(.authentication, key: pki.rsaCardKey, seed: 100)
        let file = try pki.write("auth-rsa.pem", issued.pem)
        let text = try openssl("x509", "-in", file.path, "-text", "-noout", "-nameopt", "RFC2253").output
        #expect(text.contains("sha256WithRSAEncryption"))
        #expect(text.contains("Public-Key: (2048 bit)"))
        #expect(text.contains("GN=Jeanne+CN=810002345678+SN=Dupont-Martin") || text.contains("CN=810002345678+GN=Jeanne+SN=Dupont-Martin")
            || text.contains("SN=Dupont-Martin+CN=810002345678+GN=Jeanne") || text.contains("CN=810002345678+SN=Dupont-Martin+GN=Jeanne"),
            "\(text)")
        #expect(text.contains("title=M\\C3\\A9decin") || text.contains("title=Médecin"))
        // A personal card (CPS): no O, no OU (DESIGN.md §2).
        let subject = String(try #require(text.split(separator: "\n").first { $0.contains("Subject:") }))
        #expect(!subject.contains("OU=") && !subject.contains("O="), "\(subject)")
        #expect(text.contains("C=FR"))
        #expect(text.contains("X509v3 Key Usage: critical\n                Digital Signature\n"))
        #expect(text.contains("TLS Web Client Authentication, Microsoft Smartcard Login"))
        #expect(text.contains("othername: UPN::810002345678@cps.opencps.example"), "\(text)")
        #expect(text.contains("Policy: \(PKIConfiguration.placeholderAuthenticationPolicyOID)"))
        #expect(text.contains("X509v3 CRL Distribution Points"))
        #expect(text.contains("URI:http://127.0.0.1:8080/crl/forte-personnes.crl"))
        #expect(text.contains("X509v3 Freshest CRL"))
        #expect(text.contains("URI:http://127.0.0.1:8080/crl/forte-personnes-delta.crl"))
        #expect(text.contains("OCSP - URI:http://127.0.0.1:8080/ocsp/forte-personnes"))
        #expect(text.contains("CA Issuers - URI:http://127.0.0.1:8080/pki/forte-personnes.crt"))
        #expect(text.contains("1.2.250.1.71.1.2.2:"))
        #expect(text.contains("1.2.250.1.71.1.2.3:"))
        #expect(text.contains("80276/0123456789"))
        #expect(text.contains("X509v3 Subject Key Identifier"))
        #expect(text.contains("X509v3 Authority Key Identifier"))
    }

    @Test("a staff card's certificate names its structure in O and OU, and its type in the card type extension")
    func staffSubject() throws {
        let issued = try pki.forteIssuer.issue(pki.request(key: pki.p256CardKey, staff: true), profile: .authentication, now: pki.now,
                                               serial: SerialNumberGenerator(random: .seeded(105)).next())
        let file = try pki.write("auth-staff.pem", issued.pem)
        let subject = try openssl("x509", "-in", file.path, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb").output
        #expect(subject.contains("title=Personnel d'établissement,OU=1250000700,O=CH de Pontarlier,C=FR"), "\(subject)")
        let cardType = try #require(issued.certificate().extensions.first { $0.oid == PKIObjectIdentifiers.cpsCardType })
        #expect(Array(cardType.value) == [0x02, 0x01, 0x02])
    }

    @Test("the private extensions hold the card type INTEGER and the IA5String issuer/serial")
    func privateExtensions() throws {
        let issued = try pki.issue(.signature, key: pki.p256CardKey, seed: 101)
        let cardType = try #require(issued.certificate().extensions.first { $0.oid == PKIObjectIdentifiers.cpsCardType })
        #expect(Array(cardType.value) == [0x02, 0x01, 0x00])
        let serial = try #require(issued.certificate().extensions.first { $0.oid == PKIObjectIdentifiers.cpsCardIssuerAndSerial })
        #expect(try ASN1IA5String(derEncoded: serial.value) == ASN1IA5String("80276/0123456789"))
    }

    @Test("the signature certificate has nonRepudiation + digitalSignature and its own policy (P-256)")
    func signatureProfile() throws {
        let issued = try pki.issue(.signature, key: pki.p256CardKey, seed: 102)
        let file = try pki.write("sign-p256.pem", issued.pem)
        let text = try openssl("x509", "-in", file.path, "-text", "-noout").output
        #expect(text.contains("Digital Signature, Non Repudiation"))
        #expect(text.contains("ASN1 OID: prime256v1"))
        #expect(text.contains("Policy: \(PKIConfiguration.placeholderSignaturePolicyOID)"))
        #expect(!text.contains("Smartcard"))
        #expect(issued.serialHex.count == 32)
    }

    @Test("a PKCS#10 request gives its key once its signature verifies; a forged one is refused")
    func csr() throws {
        let csr = try CertificateSigningRequest(version: .v1, subject: DistinguishedName { CommonName("ignored") },
                                                privateKey: pki.p256CardKey.certificatePrivateKey, attributes: .init())
        var der = DER.Serializer()
        try der.serialize(csr)
        #expect(try CardCertificateRequest.publicKey(fromCSR: der.serializedBytes) == pki.p256CardKey.publicKey)
        let pem = try csr.serializeAsPEM().pemString
        #expect(try CardCertificateRequest.publicKey(fromCSR: Array(pem.utf8)) == pki.p256CardKey.publicKey)

        var forged = der.serializedBytes
        forged[forged.count - 5] ^= 0x01
        #expect(throws: PKIError.self) { try CardCertificateRequest.publicKey(fromCSR: forged) }
        #expect(throws: PKIError.invalidCSR("")) { try CardCertificateRequest.publicKey(fromCSR: [1, 2, 3]) }
    }

    @Test("requests made by OpenSSL are read as swift-certificates reads them, for every accepted algorithm", arguments: [
        ("p256-sha256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-sha256"]),
        ("p384-sha384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-sha384"]),
        ("rsa2048-sha256", ["-newkey", "rsa:2048", "-sha256"]),
        ("rsa2048-sha512", ["-newkey", "rsa:2048", "-sha512"]),
        ("ed25519", ["-newkey", "ed25519"]),
    ])
    func opensslRequests(name: String, options: [String]) throws {
        let file = pki.directory.appendingPathComponent("req-\(name).der")
        let made = try run("/usr/bin/openssl", ["req", "-new"] + options + ["-nodes", "-keyout", file.path + ".key", "-subj", "/CN=ignored/O=x",
                               "-outform", "DER", "-out", file.path])
        try #require(made.status == 0, "\(made.output)")
        let der = Array(try Data(contentsOf: file))
        let reference = try CertificateSigningRequest(derEncoded: der)
        let verified = try VerifiedRequestKey(csr: der)
        #expect(verified.publicKey == reference.publicKey)
        #expect(verified == (try VerifiedRequestKey(csr: Array(try reference.serializeAsPEM().pemString.utf8))))

        // Any change to the signed part or to the signature, a cut anywhere, or bytes after the end: refused.
        for index in stride(from: 4, to: der.count, by: 7) {
            var changed = der
            changed[index] ^= 0x20
            #expect(throws: PKIError.self) { try VerifiedRequestKey(csr: changed) }
        }
        for length in stride(from: 0, to: der.count, by: 5) {
            #expect(throws: PKIError.self) { try VerifiedRequestKey(csr: Array(der.prefix(length))) }
        }
        #expect(throws: PKIError.self) { try VerifiedRequestKey(csr: der + [0x00]) }
    }

    @Test("a request signed with SHA-1 is refused with the reason")
    func sha1Request() throws {
        let file = pki.directory.appendingPathComponent("req-sha1.der")
        let made = try run("/usr/bin/openssl", ["req", "-new", "-newkey", "rsa:2048", "-sha1", "-nodes", "-keyout", file.path + ".key",
                                "-subj", "/CN=ignored", "-outform", "DER", "-out", file.path])
        try #require(made.status == 0, "\(made.output)")
        #expect(throws: PKIError.invalidCSR("its signature algorithm is not one OpenCPS accepts (ECDSA or RSA with SHA-2, or Ed25519)")) {
            try VerifiedRequestKey(csr: Array(try Data(contentsOf: file)))
        }
    }

    @Test("requests outside the profile are refused with a stable code")
    func validation() throws {
        var request = pki.request(key: pki.p256CardKey)
        request.cardTypeCode = 7
        #expect(throws: PKIError.invalidRequest("")) {
            try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
        }
        request = pki.request(key: pki.p256CardKey)
        request.notAfter = pki.now.addingTimeInterval(40 * 365 * 86_400)
        #expect(throws: PKIError.invalidRequest("")) {
            try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
        }
        for blank in ["", " ", " \t\u{00A0}\u{202F}", String(repeating: "é", count: 65)] {
            request = pki.request(key: pki.p256CardKey)
            request.surname = blank
            #expect(throws: PKIError.invalidRequest("")) {
                try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
            }
        }
        request = pki.request(key: pki.p256CardKey, idNat: "8100@2345678")
        #expect(throws: PKIError.invalidRequest("")) {
            try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
        }
        // A personal card names no structure, a staff card names one, both name and identifier.
        request = pki.request(key: pki.p256CardKey)
        request.structureName = "CH de Pontarlier"
        request.structureIdentifier = "1250000700"
        #expect(throws: PKIError.invalidRequest("")) {
            try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
        }
        for cardType in [2, 3] {
            request = pki.request(key: pki.p256CardKey)
            request.cardTypeCode = cardType
            #expect(throws: PKIError.invalidRequest("")) {
                try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
            }
        }
        request = pki.request(key: pki.p256CardKey, staff: true)
        request.structureIdentifier = nil
        #expect(throws: PKIError.invalidRequest("")) {
            try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
        }
        request = pki.request(key: pki.p256CardKey)
        request.surname = " Dupont"
        #expect(throws: Never.self) {
            try pki.forteIssuer.issue(request, profile: .authentication, now: pki.now, serial: SerialNumberGenerator().next())
        }
    }

    @Test("OpenSSL verifies issued certificates up to the root")
    func chain() throws {
        let issued = try pki.issue(.authentication, key: pki.p256CardKey, seed: 103)
        let root = try pki.write("root-c.pem", pki.hierarchy.root.pem)
        let ca = try pki.write("forte-c.pem", pki.hierarchy.fortePersonnes.ca.pem)
        let leaf = try pki.write("leaf-c.pem", issued.pem)
        let result = try openssl("verify", "-CAfile", root.path, "-untrusted", ca.path, leaf.path)
        #expect(result.status == 0, "\(result.output)")
    }
    @Test("the subject text recorded for a certificate is swift-certificates' own RFC 4514 text", arguments: [
        ("Jeanne", "Dupont-Martin", "Médecin", "Cabinet du Dr Dupont"),
        ("#Anne, Marie", "O'Neil+Smith", "Infirmier \"libéral\"", "  Clinique <Sud>; \\ bloc  "),
        (" Émile", "Ørsted ", "Sage-femme", "#1 Maison de santé"),
    ])
    func subjectText(fields: (String, String, String, String)) throws {
        var request = pki.request(key: pki.p256CardKey, staff: true)
        (request.givenName, request.surname, request.professionTitle, request.structureName) = fields
        let issued = try pki.forteIssuer.issue(request, profile: .signature, now: pki.now,
                                               serial: SerialNumberGenerator(random: .seeded(104)).next())
        #expect(issued.subject == String(describing: try issued.certificate().subject))
        #expect(issued.subject.contains("2.5.4.12="))
    }

    @Test("serial numbers print as lowercase hex with two digits per byte")
    func serialHex() {
        #expect(Certificate.SerialNumber(bytes: [0x01, 0x0A, 0xFF, 0x00, 0x7B]).hex == "010aff007b")
        let drawn = SerialNumberGenerator(random: .system).next()
        #expect(drawn.hex.count == drawn.bytes.count * 2)
        #expect(Certificate.SerialNumber(hex: drawn.hex) == drawn)
    }
}
