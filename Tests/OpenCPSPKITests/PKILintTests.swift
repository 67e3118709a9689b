import Foundation
import OpenCPSPKI
import Testing
import X509

/// Every certificate, CRL and OCSP response we produce passes pkilint without ERROR or FATAL
/// findings. pkilint comes from the tests' Python environment (``TestTools``, Tests/requirements.txt).
@Suite("pkilint")
struct PKILintTests {
    let pki = TestPKI.shared

    func lint(_ tool: String, _ extra: [String], _ file: URL) throws {
        let result = try run(TestTools.venvTool(tool), ["lint"] + extra + ["-s", "ERROR", file.path])
        let findings = result.output.split(separator: "\n").filter { $0.contains("ERROR") || $0.contains("FATAL") || $0.contains("Traceback") }
        #expect(findings.isEmpty, "\(tool) \(file.lastPathComponent):\n\(result.output)")
    }

    @Test("card certificates of both profiles, RSA and P-256")
    func cardCertificates() throws {
        for (profile, key, seed) in [(CardCertificateProfile.authentication, pki.rsaCardKey, UInt64(400)),
                                     (.authentication, pki.p256CardKey, 401), (.signature, pki.rsaCardKey, 402),
                                     (.signature, pki.p256CardKey, 403)] {
            let issued = try pki.issue(profile, key: key, seed: seed)
            try lint("lint_pkix_cert", [], pki.write("lint-\(profile)-\(seed).pem", issued.pem))
        }
    }

    @Test("root, issuing CA and OCSP responder certificates")
    func authorityCertificates() throws {
        for authority in pki.hierarchy.allCertificates {
            try lint("lint_pkix_cert", [], pki.write("lint-\(authority.slug).pem", authority.pem))
        }
    }

    @Test("full and delta CRLs")
    func crls() throws {
        let ca = pki.hierarchy.fortePersonnes.ca
        let builder = try CRLBuilder(issuer: ca, signingKey: ca.signingKey(in: pki.keyStore))
        let entries = [CRLEntry(serialNumber: 0x1234, revocationDate: pki.now, reason: .keyCompromise),
                       CRLEntry(serialNumber: 0x1235, revocationDate: pki.now, reason: .certificateHold)]
        let full = try builder.fullCRL(entries: entries, crlNumber: 10, thisUpdate: pki.now, nextUpdate: pki.now + 86_400,
                                       freshestCRLURL: pki.hierarchy.fortePersonnes.urls.deltaCRL)
        let delta = try builder.deltaCRL(entries: [CRLEntry(serialNumber: 0x1235, revocationDate: pki.now + 5, reason: .removeFromCRL)],
                                         crlNumber: 11, baseCRLNumber: 10, thisUpdate: pki.now + 10, nextUpdate: pki.now + 3600)
        let empty = try builder.fullCRL(entries: [], crlNumber: 12, thisUpdate: pki.now, nextUpdate: pki.now + 86_400)
        try lint("lint_crl", ["-t", "CRL", "-p", "PKIX"], pki.write("lint-full.crl", full))
        try lint("lint_crl", ["-t", "CRL", "-p", "PKIX"], pki.write("lint-delta.crl", delta))
        try lint("lint_crl", ["-t", "CRL", "-p", "PKIX"], pki.write("lint-empty.crl", empty))
        let root = pki.hierarchy.root
        let arl = try CRLBuilder(issuer: root, signingKey: root.signingKey(in: pki.keyStore))
            .fullCRL(entries: [], crlNumber: 1, thisUpdate: pki.now, nextUpdate: pki.now + 30 * 86_400)
        try lint("lint_crl", ["-t", "ARL", "-p", "PKIX"], pki.write("lint-root.crl", arl))
    }

    @Test("OCSP responses: good, revoked, unknown with nonce, and an error response")
    func ocspResponses() throws {
        let responder = try OCSPResponder(authority: pki.hierarchy.fortePersonnes, keyStore: pki.keyStore)
        let ca = pki.hierarchy.fortePersonnes.ca.certificate
        let request = try OCSPRequest(certIDs: [OCSPCertID(issuer: ca, serialNumber: 1), OCSPCertID(issuer: ca, serialNumber: 2),
                                                OCSPCertID(issuer: ca, serialNumber: 3)], nonce: Array(repeating: 7, count: 16))
        let result = try responder.respondSynchronously(to: request.derEncoded(), now: pki.now) { serial in
            switch serial {
            case 1: return .good
            case 2: return .revoked(time: pki.now - 100, reason: .certificateHold)
            default: return .unknown
            }
        }
        try lint("lint_ocsp_response", [], pki.write("lint-ocsp.der", result.der))
        try lint("lint_ocsp_response", [], pki.write("lint-ocsp-error.der", OCSPResponse.errorResponse(.unauthorized)))
    }
}
