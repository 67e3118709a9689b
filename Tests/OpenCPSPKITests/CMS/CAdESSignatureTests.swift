import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import SwiftASN1
import Testing
import X509

/// A card's signature key and certificate, and signatures made with them.
struct SigningCard {
    let key: any PKISigningKey
    let issued: IssuedCertificate
    let certificate: Certificate

    init(_ pki: TestPKI, key: any PKISigningKey, seed: UInt64, cardTypeCode: Int = 0, professionTitle: String = "Médecin",
         profile: CardCertificateProfile = .signature) throws {
        var request = pki.request(key: key, cardSerial: String(format: "%010d", seed), staff: cardTypeCode >= 2)
        request.cardTypeCode = cardTypeCode
        request.professionTitle = professionTitle
        issued = try pki.forteIssuer.issue(request, profile: profile, now: pki.now, serial: SerialNumberGenerator(random: .seeded(seed)).next())
        certificate = try Certificate(derEncoded: issued.der)
        self.key = key
    }

    func sign(_ document: [UInt8], at time: Date, chain: [Certificate]) throws -> [UInt8] {
        try CAdESSignatureBuilder.sign(document, signer: certificate, chain: chain, signingTime: time, with: key.sign)
    }
}

@Suite("CAdES signatures", TestTools.needs("openssl"))
struct CAdESSignatureTests {
    let pki = TestPKI.shared
    let document = Array("Ordonnance : amoxicilline 1 g, 2 fois par jour pendant 6 jours.\n".utf8)
    var chain: [Certificate] { [pki.hierarchy.fortePersonnes.ca.certificate] }

    func verifier(_ status: SignerCertificateStatus = .good) -> CAdESVerifier {
        CAdESVerifier(hierarchy: pki.hierarchy, timeStampAuthorities: [], status: { _, _ in status })
    }

    @Test("openssl cms -verify accepts our signatures (RSA and P-256) with the root as trust anchor")
    func opensslVerifiesOurs() throws {
        let root = try pki.write("cades-root.pem", pki.hierarchy.root.pem)
        let content = try pki.write("cades-document.txt", document)
        for (index, key) in [pki.rsaCardKey, pki.p256CardKey].enumerated() {
            let card = try SigningCard(pki, key: key, seed: 500 + UInt64(index))
            let signature = try pki.write("cades-\(index).p7s", try card.sign(document, at: pki.now, chain: chain))
            let verified = try openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", signature.path, "-content", content.path,
                                       "-CAfile", root.path, "-out", "/dev/null")
            #expect(verified.status == 0, "\(verified.output)")
            #expect(verified.output.contains("Verification successful"), "\(verified.output)")
        }
    }

    @Test("known answer: the signed attributes are those OpenSSL writes with -cades, signing-certificate-v2 byte for byte")
    func signedAttributesMatchOpenSSL() throws {
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 510)
        let ours = try CMSSignedData(derEncoded: try card.sign(document, at: pki.now, chain: chain)).signerInfos[0]
        let keyFile = try pki.write("cades-510.key", (card.key as! SoftwareSigningKey).pemForBenchmarkPeers())
        let certFile = try pki.write("cades-510.pem", card.issued.pem)
        let content = try pki.write("cades-510.txt", document)
        let out = pki.directory.appendingPathComponent("cades-510-openssl.p7s")
        let made = try openssl("cms", "-sign", "-cades", "-binary", "-md", "sha256", "-in", content.path, "-signer", certFile.path,
                               "-inkey", keyFile.path, "-outform", "DER", "-out", out.path)
        try #require(made.status == 0, "\(made.output)")
        let theirs = try CMSSignedData(derEncoded: Array(try Data(contentsOf: out))).signerInfos[0]
        for type in [CMSObjectIdentifiers.contentType, CMSObjectIdentifiers.messageDigest, CMSObjectIdentifiers.signingCertificateV2] {
            #expect(ours.signedAttribute(type) == theirs.signedAttribute(type), "attribute \(type)")
        }
        #expect(ours.signedAttribute(CMSObjectIdentifiers.signingTime) != nil)
        #expect(ours.identifier == theirs.identifier)
        #expect(ours.digestAlgorithm == theirs.digestAlgorithm)

        // OpenSSL reads every field back.
        let ourFile = try pki.write("cades-510-ours.p7s", try card.sign(document, at: pki.now, chain: chain))
        let printed = try openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", ourFile.path).output
        for field in ["contentType", "signingTime", "messageDigest", "id-smime-aa-signingCertificateV2", "ecdsa-with-SHA256", "sha256"] {
            #expect(printed.contains(field), "\(field) in \(printed)")
        }
        #expect(printed.contains("eContent: <ABSENT>"), "detached")
    }

    @Test("our verifier accepts a signature OpenSSL made with the card's key and certificate, plain CMS and CAdES")
    func weVerifyOpenSSLs() async throws {
        let card = try SigningCard(pki, key: pki.rsaCardKey, seed: 520)
        let keyFile = try pki.write("cades-520.key", (card.key as! SoftwareSigningKey).pemForBenchmarkPeers())
        let certFile = try pki.write("cades-520.pem", card.issued.pem)
        let caFile = try pki.write("cades-520-ca.pem", pki.hierarchy.fortePersonnes.ca.pem)
        let content = try pki.write("cades-520.txt", document)
        for options in [[], ["-cades"]] {
            let out = pki.directory.appendingPathComponent("cades-520\(options.joined()).p7s")
            let made = try run("/usr/bin/openssl", ["cms", "-sign"] + options + [
                "-binary", "-md", "sha256", "-in", content.path, "-signer", certFile.path, "-inkey", keyFile.path,
                "-certfile", caFile.path, "-outform", "DER", "-out", out.path])
            try #require(made.status == 0, "\(made.output)")
            let result = await verifier().verify(document: document, signature: Array(try Data(contentsOf: out)), as: .prescription, now: pki.now.addingTimeInterval(60))
            #expect(result.isValid, "\(options): \(result)")
            #expect(result.signer?.idNat == "810002345678")
            #expect(result.signer?.cardType == .cps)
            #expect(result.signer?.profession?.code == "10")
        }
    }

    @Test("a valid signature passes every verdict and names its signer and claimed signing time")
    func valid() async throws {
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 530)
        let signature = try card.sign(document, at: pki.now, chain: chain)
        let result = await verifier().verify(document: document, signature: signature, as: .prescription, now: pki.now.addingTimeInterval(60))
        #expect(result.isValid, "\(result)")
        #expect(result.integrity.code == "signature.integrity.valid")
        #expect(result.chain.code == "signature.chain.valid")
        #expect(result.policy.code == "signature.policy.allowed")
        #expect(result.revocationAtSigningTime.code == "signature.revocation.good")
        #expect(result.signingTime == pki.now)
        #expect(result.signingTimeSource == .claimed)
        #expect(result.issuerSlug == "forte-personnes")
        #expect(result.signer?.surname == "Dupont-Martin")
    }

    @Test("an altered document fails integrity as altered")
    func alteredDocument() async throws {
        let card = try SigningCard(pki, key: pki.rsaCardKey, seed: 540)
        let signature = try card.sign(document, at: pki.now, chain: chain)
        var altered = document
        altered[12] ^= 0x01
        let result = await verifier().verify(document: altered, signature: signature, as: .prescription, now: pki.now)
        #expect(!result.isValid)
        #expect(result.integrity.code == "signature.integrity.document-altered")
        let file = try pki.write("cades-540.p7s", signature)
        let content = try pki.write("cades-540.txt", altered)
        let root = try pki.write("cades-540-root.pem", pki.hierarchy.root.pem)
        #expect(try openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", file.path, "-content", content.path,
                            "-CAfile", root.path, "-out", "/dev/null").status != 0)
    }

    @Test("altered signed attributes (the signing time) fail integrity as an invalid signature")
    func alteredSignedAttributes() async throws {
        let card = try SigningCard(pki, key: pki.rsaCardKey, seed: 550)
        var signature = try card.sign(document, at: pki.now, chain: chain)
        // The signing time is the only UTCTime after the signed-attribute OID 1.2.840.113549.1.9.5.
        let oid: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x05]
        let at = try #require(signature.indices.first { signature[$0...].starts(with: oid) })
        let yearDigit = at + oid.count + 4  // SET, length, UTCTime tag, length, then "YY"
        signature[yearDigit + 1] = signature[yearDigit + 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let result = await verifier().verify(document: document, signature: signature, as: .prescription, now: pki.now)
        #expect(!result.isValid)
        #expect(result.integrity.code == "signature.integrity.signature-invalid")
    }

    @Test("a certificate revoked before the signing time fails revocation at signing time")
    func revokedBeforeSigning() async throws {
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 560)
        let signature = try card.sign(document, at: pki.now, chain: chain)
        let record = RevocationRecord(serialNumber: card.certificate.serialNumber, revokedAt: pki.now.addingTimeInterval(-30), reason: .keyCompromise)
        let result = await verifier(.revoked(record)).verify(document: document, signature: signature, as: .prescription, now: pki.now)
        #expect(!result.isValid)
        #expect(result.revocationAtSigningTime.code == "signature.revocation.revoked-before-signing")
        #expect(result.integrity.status == .passed)
    }

    @Test("a certificate revoked after a merely claimed signing time fails now: no time-stamp shows the signature came first")
    func revokedAfterClaimedTime() async throws {
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 565)
        let signature = try card.sign(document, at: pki.now, chain: chain)
        let record = RevocationRecord(serialNumber: card.certificate.serialNumber, revokedAt: pki.now.addingTimeInterval(30), reason: .keyCompromise)
        let result = await verifier(.revoked(record)).verify(document: document, signature: signature, as: .prescription, now: pki.now.addingTimeInterval(60))
        #expect(!result.isValid)
        #expect(result.revocationAtSigningTime.status == .passed)
        #expect(result.revocationNow.code == "signature.revocation.revoked")
    }

    @Test("an expired certificate fails the chain as expired")
    func expired() async throws {
        let card = try SigningCard(pki, key: pki.rsaCardKey, seed: 570)
        let signature = try card.sign(document, at: pki.now, chain: chain)
        let later = card.certificate.notValidAfter.addingTimeInterval(86_400)
        let result = await verifier().verify(document: document, signature: signature, as: .prescription, now: later)
        #expect(!result.isValid)
        #expect(result.chain.code == "signature.chain.certificate-expired")
    }

    @Test("a CPE card signing a prescription fails the policy; the same card may not sign a care sheet either")
    func cpePrescription() async throws {
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 580, cardTypeCode: 2, professionTitle: "Personnel d'établissement")
        let signature = try card.sign(document, at: pki.now, chain: chain)
        let result = await verifier().verify(document: document, signature: signature, as: .prescription, now: pki.now)
        #expect(!result.isValid)
        #expect(result.integrity.status == .passed)
        #expect(result.chain.status == .passed)
        #expect(result.policy.code == "signature.policy.prescriber-required")
        #expect(result.policy.reason.contains("CPE"))
        let careSheet = await verifier().verify(document: document, signature: signature, as: .careSheet, now: pki.now)
        #expect(careSheet.policy.code == "signature.policy.billing-activity-required")
    }

    @Test("a signature by a key we never certified fails the chain as untrusted")
    func neverCertified() async throws {
        let stranger = P256.Signing.PrivateKey()
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 590)
        // The card's own subject and extensions, but self-signed with a key of nobody's.
        let forged = try Certificate(
            version: .v3, serialNumber: card.certificate.serialNumber, publicKey: Certificate.PublicKey(stranger.publicKey),
            notValidBefore: card.certificate.notValidBefore, notValidAfter: card.certificate.notValidAfter,
            issuer: card.certificate.issuer, subject: card.certificate.subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: card.certificate.extensions, issuerPrivateKey: Certificate.PrivateKey(stranger))
        let signature = try CAdESSignatureBuilder.sign(document, signer: forged, chain: chain, signingTime: pki.now) { bytes in
            Array(try stranger.signature(for: SHA256.hash(data: bytes)).derRepresentation)
        }
        let result = await verifier().verify(document: document, signature: signature, as: .prescription, now: pki.now)
        #expect(!result.isValid)
        #expect(result.integrity.status == .passed)
        #expect(result.chain.code == "signature.chain.untrusted")
    }

    @Test("the authentication key does not sign documents: its certificate is not a signature certificate")
    func authenticationCertificate() async throws {
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 595, profile: .authentication)
        let signature = try card.sign(document, at: pki.now, chain: chain)
        let result = await verifier().verify(document: document, signature: signature, as: .prescription, now: pki.now)
        #expect(result.chain.code == "signature.chain.not-a-signature-certificate")
    }

    @Test("bad input is a malformed-signature verdict, not a crash")
    func malformed() async throws {
        for bytes in [[], [0x30, 0x03, 0x02, 0x01, 0x01], Array("not a signature".utf8)] as [[UInt8]] {
            let result = await verifier().verify(document: document, signature: bytes, as: .prescription, now: pki.now)
            #expect(result.integrity.code == "signature.integrity.malformed")
            #expect(!result.isValid)
        }
    }
}
