import Foundation
import OpenCPSPKI
import Testing
import X509

@Suite("Certificate revocation lists", TestTools.needs("openssl"))
struct CRLTests {
    let pki = TestPKI.shared

    var builder: CRLBuilder {
        get throws {
            try CRLBuilder(issuer: pki.hierarchy.fortePersonnes.ca,
                           signingKey: pki.hierarchy.fortePersonnes.ca.signingKey(in: pki.keyStore))
        }
    }

    @Test("full and delta entries follow revocations, holds and releases")
    func records() {
        let t0 = pki.now
        let a = RevocationRecord(serialNumber: 1, revokedAt: t0 - 100, reason: .keyCompromise)
        let held = RevocationRecord(serialNumber: 2, revokedAt: t0 - 100, reason: .certificateHold, releasedAt: t0 + 50)
        let late = RevocationRecord(serialNumber: 3, revokedAt: t0 + 20, reason: .superseded)
        let flash = RevocationRecord(serialNumber: 4, revokedAt: t0 + 10, reason: .certificateHold, releasedAt: t0 + 30)
        let all = [a, held, late, flash]
        #expect(RevocationRecord.fullCRLEntries(all, at: t0).map(\.serialNumber) == [1, 2])
        let delta = RevocationRecord.deltaCRLEntries(all, since: t0, at: t0 + 100)
        #expect(delta.map(\.serialNumber) == [2, 3])
        #expect(delta[0].reason == .removeFromCRL)
        #expect(OCSPCertificateStatus.from(held, at: t0) == .revoked(time: t0 - 100, reason: .certificateHold))
        #expect(OCSPCertificateStatus.from(held, at: t0 + 60) == .good)
        #expect(OCSPCertificateStatus.from(nil, at: t0) == .good)
    }

    @Test("a full CRL parses back with its number, entries, reasons and signature")
    func fullCRLRoundTrip() throws {
        let der = try builder.fullCRL(
            entries: [CRLEntry(serialNumber: 0x42, revocationDate: pki.now, reason: .keyCompromise),
                      CRLEntry(serialNumber: 0x43, revocationDate: pki.now, reason: .certificateHold),
                      CRLEntry(serialNumber: 0x44, revocationDate: pki.now, reason: .unspecified)],
            crlNumber: 7, thisUpdate: pki.now, nextUpdate: pki.now + 86_400,
            freshestCRLURL: pki.hierarchy.fortePersonnes.urls.deltaCRL)
        let crl = try CertificateRevocationList(derEncoded: der)
        #expect(crl.version == 1)
        #expect(crl.crlNumber == 7)
        #expect(crl.baseCRLNumber == nil)
        #expect(crl.issuer == pki.hierarchy.fortePersonnes.ca.certificate.subject)
        #expect(crl.thisUpdate == pki.now)
        #expect(crl.nextUpdate == pki.now + 86_400)
        #expect(crl.entries.map(\.reason) == [.keyCompromise, .certificateHold, nil])
        #expect(crl.isSigned(by: pki.hierarchy.fortePersonnes.ca.certificate))
        #expect(!crl.isSigned(by: pki.hierarchy.root.certificate))
        #expect(throws: PKIError.invalidCRL("")) {
            try builder.fullCRL(entries: [CRLEntry(serialNumber: 1, revocationDate: pki.now, reason: .removeFromCRL)],
                                crlNumber: 1, thisUpdate: pki.now, nextUpdate: pki.now + 1)
        }
    }

    @Test("openssl verify -crl_check accepts a good certificate and rejects a revoked one; -crl_check_all uses the delta")
    func opensslVerify() throws {
        let good = try pki.issue(.authentication, key: pki.p256CardKey, seed: 200)
        let revoked = try pki.issue(.authentication, key: pki.p256CardKey, seed: 201)
        let held = try pki.issue(.signature, key: pki.p256CardKey, seed: 202)
        let revokedSinceBase = try pki.issue(.signature, key: pki.p256CardKey, seed: 203)
        let t0 = pki.now
        let records = [
            RevocationRecord(serialNumber: revoked.serialNumber, revokedAt: t0, reason: .keyCompromise),
            RevocationRecord(serialNumber: held.serialNumber, revokedAt: t0, reason: .certificateHold, releasedAt: t0 + 20),
            RevocationRecord(serialNumber: revokedSinceBase.serialNumber, revokedAt: t0 + 10, reason: .affiliationChanged),
        ]
        let full = try builder.fullCRL(entries: RevocationRecord.fullCRLEntries(records, at: t0), crlNumber: 1,
                                       thisUpdate: t0, nextUpdate: t0 + 86_400, freshestCRLURL: pki.hierarchy.fortePersonnes.urls.deltaCRL)
        let delta = try builder.deltaCRL(entries: RevocationRecord.deltaCRLEntries(records, since: t0, at: t0 + 30),
                                         crlNumber: 2, baseCRLNumber: 1, thisUpdate: t0 + 30, nextUpdate: t0 + 3600)
        let rootKey = try pki.hierarchy.root.signingKey(in: pki.keyStore)
        let rootCRL = try CRLBuilder(issuer: pki.hierarchy.root, signingKey: rootKey)
            .fullCRL(entries: [], crlNumber: 1, thisUpdate: t0, nextUpdate: t0 + 30 * 86_400)

        let root = try pki.write("crl-root.pem", pki.hierarchy.root.pem)
        let ca = try pki.write("crl-ca.pem", pki.hierarchy.fortePersonnes.ca.pem)
        let fullFile = try pki.write("full.crl", full)
        let deltaFile = try pki.write("delta.crl", delta)
        let rootCRLFile = try pki.write("root.crl", rootCRL)
        func verify(_ cert: IssuedCertificate, _ options: [String]) throws -> (status: Int32, output: String) {
            let leaf = try pki.write("crl-leaf-\(cert.serialHex).pem", cert.pem)
            return try run("/usr/bin/openssl", ["verify", "-CAfile", root.path, "-untrusted", ca.path] + options + [leaf.path])
        }
        let crlCheck = ["-crl_check", "-CRLfile", fullFile.path]
        #expect(try verify(good, crlCheck).status == 0)
        let revokedResult = try verify(revoked, crlCheck)
        #expect(revokedResult.status != 0)
        #expect(revokedResult.output.contains("certificate revoked"))
        #expect(try verify(held, crlCheck).output.contains("certificate revoked"))

        // -extended_crl: without it OpenSSL may take the newest CRL, the delta included, as the
        // complete list, and a revocation only in the base goes unseen.
        let all = ["-crl_check_all", "-extended_crl", "-use_deltas", "-CRLfile", fullFile.path, "-CRLfile", deltaFile.path, "-CRLfile", rootCRLFile.path]
        let goodAll = try verify(good, all)
        #expect(goodAll.status == 0, "\(goodAll.output)")
        #expect(try verify(held, all).status == 0) // released by removeFromCRL in the delta
        #expect(try verify(revokedSinceBase, all).output.contains("certificate revoked"))
        let revokedAll = try verify(revoked, all)
        #expect(revokedAll.output.contains("certificate revoked"), "\(revokedAll.output)")

        let deltaText = try openssl("crl", "-in", deltaFile.path, "-inform", "DER", "-text", "-noout").output
        #expect(deltaText.contains("Delta CRL Indicator: critical"))
        #expect(deltaText.contains("Remove From CRL"))
        let fullText = try openssl("crl", "-in", fullFile.path, "-inform", "DER", "-text", "-noout").output
        #expect(fullText.contains("X509v3 CRL Number"))
        #expect(fullText.contains("Certificate Hold"))
        #expect(fullText.contains("Next Update"))
    }
}
