import Foundation
import OpenCPSPKI
import SwiftASN1
import Testing
import X509

@Suite("PKI hierarchy", TestTools.needs("openssl"))
struct PKIHierarchyTests {
    let pki = TestPKI.shared

    @Test("initialisation makes a root, two issuing CAs and a delegated OCSP responder each")
    func shape() throws {
        let h = pki.hierarchy
        #expect(h.root.certificate.issuer == h.root.certificate.subject)
        for authority in h.issuingAuthorities {
            let ca = authority.ca.certificate
            #expect(ca.issuer == h.root.certificate.subject)
            #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
            #expect(h.root.certificate.publicKey.isValidSignature(ca.signature, for: ca))
            let responder = authority.ocspResponder.certificate
            #expect(responder.issuer == ca.subject)
            #expect(try responder.extensions.extendedKeyUsage?.contains(.ocspSigning) == true)
            #expect(responder.extensions.contains { $0.oid == PKIObjectIdentifiers.ocspNoCheck })
        }
        #expect(h.fortePersonnes.urls.crl == "http://127.0.0.1:8080/crl/forte-personnes.crl")
        #expect(h.fortePersonnes.urls.deltaCRL == "http://127.0.0.1:8080/crl/forte-personnes-delta.crl")
        #expect(h.fortePersonnes.urls.ocsp == "http://127.0.0.1:8080/ocsp/forte-personnes")
        #expect(h.fortePersonnes.urls.caIssuers == "http://127.0.0.1:8080/pki/forte-personnes.crt")
        #expect(h.issuingAuthority(slug: "elementaire-personnes")?.role == .elementairePersonnes)
        #expect(h.authority(slug: "forte-personnes-ocsp")?.kind == .ocspResponder)
    }

    @Test("the hierarchy saves to PEM files and loads back identical")
    func saveAndLoad() throws {
        let folder = pki.directory.appendingPathComponent("hierarchy-\(UUID().uuidString)")
        try pki.hierarchy.save(to: folder)
        #expect(PKIHierarchy.exists(in: folder))
        let loaded = try PKIHierarchy.load(from: folder)
        #expect(loaded == pki.hierarchy)
        #expect(try loaded.fortePersonnes.ocspResponder.signingKey(in: pki.keyStore).publicKey
            == pki.hierarchy.fortePersonnes.ocspResponder.certificate.publicKey)
    }

    @Test("a data folder saved before the time-stamping authority existed loads without one, then gets one and keeps the rest")
    func addTimeStampingAuthority() throws {
        let h = pki.hierarchy
        let old = PKIHierarchy(configuration: h.configuration, root: h.root, fortePersonnes: h.fortePersonnes, elementairePersonnes: h.elementairePersonnes)
        let folder = pki.directory.appendingPathComponent("hierarchy-without-tsa")
        try old.save(to: folder)
        let loaded = try PKIHierarchy.load(from: folder)
        #expect(loaded.timeStamping == nil)
        #expect(loaded == old)

        let upgraded = try PKIHierarchyBuilder(configuration: h.configuration, keyStore: pki.keyStore, random: .seeded(3))
            .addTimeStampingAuthority(to: loaded, now: pki.now.addingTimeInterval(1))
        try upgraded.save(to: folder)
        let reloaded = try PKIHierarchy.load(from: folder)
        let tsa = try #require(reloaded.timeStamping)
        #expect(tsa.kind == .timeStampingAuthority)
        #expect(tsa.certificate.issuer == h.root.certificate.subject)
        #expect(Array(reloaded.allCertificates.prefix(5)) == old.allCertificates)
        #expect(try tsa.signingKey(in: pki.keyStore).publicKey == tsa.certificate.publicKey)
        #expect(try tsa.certificate.extensions.extendedKeyUsage == ExtendedKeyUsage([.timeStamping]))
        #expect(tsa.certificate.extensions[oid: .X509ExtensionID.extendedKeyUsage]?.critical == true)
    }

    @Test("initialising twice in the same key store is refused")
    func noSecondInit() throws {
        let builder = PKIHierarchyBuilder(configuration: pki.hierarchy.configuration, keyStore: pki.keyStore)
        #expect(throws: PKIError.keyExists(label: "root")) { try builder.initialize(now: pki.now) }
    }

    @Test("an encrypted key store holds a whole RSA hierarchy and responders can be renewed")
    func encryptedRSAHierarchy() throws {
        let folder = pki.directory.appendingPathComponent("rsa-\(UUID().uuidString)")
        let store = try EncryptedSoftwareKeyStore(directory: folder.appendingPathComponent("keys"),
                                                  passphrase: KeyStorePassphrase("operator passphrase 1"), kdfParameters: .testsOnly)
        let configuration = PKIConfiguration(publicBaseURL: "https://pki.example", rootKeyAlgorithm: .rsa2048,
                                             issuingCAKeyAlgorithm: .rsa2048, ocspResponderKeyAlgorithm: .rsa2048)
        let builder = PKIHierarchyBuilder(configuration: configuration, keyStore: store)
        let hierarchy = try builder.initialize(now: pki.now)
        let renewed = try builder.renewOCSPResponders(of: hierarchy, now: pki.now.addingTimeInterval(30))
        #expect(renewed.fortePersonnes.ocspResponder.keyLabel != hierarchy.fortePersonnes.ocspResponder.keyLabel)
        try renewed.save(to: folder.appendingPathComponent("pki"))
        let loaded = try PKIHierarchy.load(from: folder.appendingPathComponent("pki"))
        _ = try OCSPResponder(authority: loaded.fortePersonnes, keyStore: store)
    }

    @Test("OpenSSL reads the CA certificates and verifies the chain")
    func opensslChain() throws {
        let root = try pki.write("root.pem", pki.hierarchy.root.pem)
        let ca = try pki.write("forte.pem", pki.hierarchy.fortePersonnes.ca.pem)
        let responder = try pki.write("forte-ocsp.pem", pki.hierarchy.fortePersonnes.ocspResponder.pem)
        let text = try openssl("x509", "-in", ca.path, "-text", "-noout").output
        #expect(text.contains("CA:TRUE, pathlen:0"))
        #expect(text.contains("Certificate Sign, CRL Sign"))
        #expect(text.contains("URI:http://127.0.0.1:8080/crl/root.crl"))
        let responderText = try openssl("x509", "-in", responder.path, "-text", "-noout").output
        #expect(responderText.contains("OCSP Signing"))
        #expect(responderText.contains("OCSP No Check"))
        let verify = try openssl("verify", "-CAfile", root.path, "-untrusted", ca.path, responder.path)
        #expect(verify.status == 0, "\(verify.output)")
    }
}
