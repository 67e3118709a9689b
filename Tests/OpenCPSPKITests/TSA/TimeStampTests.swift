import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import SwiftASN1
import Testing
import X509

@Suite("Time-stamping authority and CAdES-T", TestTools.needs("openssl"))
struct TimeStampTests {
    let pki = TestPKI.shared
    let document = Array("Feuille de soins : consultation G, 30,00 EUR.\n".utf8)

    func authority() throws -> TimeStampAuthority {
        try TimeStampAuthority(authority: try #require(pki.hierarchy.timeStamping), keyStore: pki.keyStore, random: .seeded(7))
    }

    @Test("the TSA certificate is issued by the root with keyUsage and the critical timeStamping extended key usage")
    func certificate() throws {
        let tsa = try #require(pki.hierarchy.timeStamping)
        let file = try pki.write("tsa.pem", tsa.pem)
        let root = try pki.write("tsa-root.pem", pki.hierarchy.root.pem)
        let text = try openssl("x509", "-in", file.path, "-text", "-noout").output
        #expect(text.contains("X509v3 Extended Key Usage: critical\n                Time Stamping"), "\(text)")
        #expect(text.contains("X509v3 Key Usage: critical\n                Digital Signature, Non Repudiation"), "\(text)")
        let verified = try openssl("verify", "-purpose", "timestampsign", "-CAfile", root.path, file.path)
        #expect(verified.status == 0, "\(verified.output)")
    }

    @Test("openssl ts -verify accepts our replies to its own queries, nonce and certificate included")
    func opensslVerifiesReplies() throws {
        let data = try pki.write("ts-data.txt", document)
        let query = pki.directory.appendingPathComponent("ts.tsq")
        let made = try openssl("ts", "-query", "-data", data.path, "-sha256", "-cert", "-out", query.path)
        try #require(made.status == 0, "\(made.output)")
        let reply = try pki.write("ts.tsr", try authority().respond(to: Array(try Data(contentsOf: query)), now: pki.now))
        let root = try pki.write("ts-root.pem", pki.hierarchy.root.pem)
        let verified = try openssl("ts", "-verify", "-queryfile", query.path, "-in", reply.path, "-CAfile", root.path)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("Verification: OK"), "\(verified.output)")
        let byData = try openssl("ts", "-verify", "-data", data.path, "-in", reply.path, "-CAfile", root.path)
        #expect(byData.status == 0, "\(byData.output)")

        // Known answer: OpenSSL reads back the fields we wrote.
        let text = try openssl("ts", "-reply", "-in", reply.path, "-text").output
        #expect(text.contains("Status: Granted."), "\(text)")
        #expect(text.contains("Policy OID: 1.3.6.1.4.1.32473.250.71.3.1"), "\(text)")
        #expect(text.contains("Hash Algorithm: sha256"), "\(text)")
        #expect(text.contains("Accuracy: 0x01 seconds"), "\(text)")
        #expect(text.contains("Nonce: 0x"), "\(text)")
        let digest = SHA256.hash(data: document).map { String(format: "%02x", $0) }.joined()
        let imprint = text.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "-", with: "").lowercased()
        #expect(imprint.contains(String(digest.prefix(16))), "\(text)")
    }

    @Test("openssl ts -verify refuses the token for other data")
    func opensslRefusesOtherData() throws {
        let other = try pki.write("ts-other.txt", Array("something else".utf8))
        let reply = try pki.write("ts-other.tsr", try authority().respond(to: TimeStampRequest.derEncoded(sha256Of: document), now: pki.now))
        let root = try pki.write("ts-other-root.pem", pki.hierarchy.root.pem)
        #expect(try openssl("ts", "-verify", "-data", other.path, "-in", reply.path, "-CAfile", root.path).status != 0)
    }

    @Test("bad requests get a rejection with the RFC 3161 failure bit, which OpenSSL reads")
    func rejections() throws {
        let tsa = try authority()
        let garbage = try pki.write("ts-bad.tsr", tsa.respond(to: Array("nope".utf8), now: pki.now))
        let text = try openssl("ts", "-reply", "-in", garbage.path, "-text").output
        #expect(text.contains("Status: Rejected"), "\(text)")
        #expect(text.contains("Failure info: the data submitted has the wrong format"), "\(text)")

        // SHA-1 imprint: bad algorithm.
        var sha1: [UInt8] = [0x02, 0x01, 0x01]
        var imprint: [UInt8] = [0x30, 0x07, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x04, 0x14]
        imprint += [UInt8](repeating: 1, count: 20)
        sha1 += [0x30, UInt8(imprint.count)] + imprint
        let badAlg = try pki.write("ts-sha1.tsr", tsa.respond(to: [0x30, UInt8(sha1.count)] + sha1, now: pki.now))
        #expect(try openssl("ts", "-reply", "-in", badAlg.path, "-text").output.contains("unrecognized or unsupported algorithm"))
    }

    @Test("a time-stamped signature (CAdES-T) stays valid after its certificate is revoked, and openssl cms -verify still accepts it")
    func revokedAfterTimeStamp() async throws {
        let tsa = try authority()
        let card = try SigningCard(pki, key: pki.rsaCardKey, seed: 600)
        let signature = try CAdESTimeStamping.sign(
            document, signer: card.certificate, chain: [pki.hierarchy.fortePersonnes.ca.certificate], signingTime: pki.now,
            with: card.key.sign, timeStamp: { try tsa.timeStamp(sha256Of: $0, now: pki.now) })
        let record = RevocationRecord(serialNumber: card.certificate.serialNumber, revokedAt: pki.now.addingTimeInterval(3600), reason: .keyCompromise)
        let verifier = CAdESVerifier(hierarchy: pki.hierarchy, timeStampAuthorities: [tsa.authority.certificate], status: { _, _ in .revoked(record) })
        let result = await verifier.verify(document: document, signature: signature, as: .careSheet, now: pki.now.addingTimeInterval(7200))
        #expect(result.isValid, "\(result)")
        #expect(result.timeStamp?.code == "signature.time-stamp.valid")
        #expect(result.signingTimeSource == .timeStamped)
        #expect(result.revocationNow.code == "signature.revocation.revoked-after-time-stamp")

        // Expired since, but time-stamped while valid: the chain is judged at the time-stamp.
        let afterExpiry = card.certificate.notValidAfter.addingTimeInterval(86_400)
        let good = CAdESVerifier(hierarchy: pki.hierarchy, timeStampAuthorities: [tsa.authority.certificate], status: { _, _ in .good })
        #expect(await good.verify(document: document, signature: signature, as: .careSheet, now: afterExpiry).chain.code == "signature.chain.valid")

        let file = try pki.write("cades-t.p7s", signature)
        let content = try pki.write("cades-t.txt", document)
        let root = try pki.write("cades-t-root.pem", pki.hierarchy.root.pem)
        let verified = try openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", file.path, "-content", content.path, "-CAfile", root.path, "-out", "/dev/null")
        #expect(verified.status == 0, "\(verified.output)")
        let printed = try openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", file.path).output
        #expect(printed.contains("id-smime-aa-timeStampToken"), "\(printed)")
    }

    @Test("a time-stamp over other data fails the time-stamp verdict")
    func timeStampOverOtherData() async throws {
        let tsa = try authority()
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 610)
        let signature = try CAdESTimeStamping.sign(
            document, signer: card.certificate, chain: [pki.hierarchy.fortePersonnes.ca.certificate], signingTime: pki.now,
            with: card.key.sign, timeStamp: { _ in try tsa.timeStamp(sha256Of: Array("other data".utf8), now: pki.now) })
        let verifier = CAdESVerifier(hierarchy: pki.hierarchy, timeStampAuthorities: [tsa.authority.certificate], status: { _, _ in .good })
        let result = await verifier.verify(document: document, signature: signature, as: .careSheet, now: pki.now)
        #expect(!result.isValid)
        #expect(result.integrity.status == .passed)
        #expect(result.timeStamp?.code == "signature.time-stamp.other-data")
        #expect(result.signingTimeSource == .claimed)
    }

    @Test("a time-stamp by an authority we do not trust fails as untrusted")
    func untrustedAuthority() async throws {
        let tsa = try authority()
        let card = try SigningCard(pki, key: pki.p256CardKey, seed: 620)
        let signature = try CAdESTimeStamping.sign(
            document, signer: card.certificate, chain: [], signingTime: pki.now,
            with: card.key.sign, timeStamp: { try tsa.timeStamp(sha256Of: $0, now: pki.now) })
        let verifier = CAdESVerifier(hierarchy: pki.hierarchy, timeStampAuthorities: [], status: { _, _ in .good })
        let result = await verifier.verify(document: document, signature: signature, as: .careSheet, now: pki.now)
        #expect(result.timeStamp?.code == "signature.time-stamp.untrusted")
    }
}
