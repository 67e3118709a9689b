import ArgumentParser
import OpenCPSDomain
import Fluent
import Foundation
import OpenCPSPKI
import OpenCPSPersistence
import OpenCPSServices
import X509

/// `opencps bench pki-fixtures`: the data the PKI benchmarks share between OpenCPS and its
/// peers (openssl ocsp, cfssl), so that all answer for the same certificates and requests.
struct BenchPKIFixturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki-fixtures",
        abstract: "Write a throw-away PKI for the OCSP and issuance benchmarks (never for real use: it exports keys).",
        discussion: """
            OUT/data is a data folder for `opencps serve --data OUT/data` (passphrase in OUT/data/keystore-passphrase) \
            holding COUNT issued certificates. OUT/peers holds what the peers need: root.pem, ca.pem and ca.key (the \
            Forte Personnes CA), responder.pem and responder.key (its OCSP responder), index.txt (OpenSSL's CA \
            database), leaves/N.pem, requests/N.der (one OCSP request per certificate, SHA-1 CertID, no nonce), \
            requests-get.txt (their URL-safe base64 for GET) and p256.csr (a CSR for the issuance benchmark).
            """)

    @Option(name: .long, help: "The folder to create (must not exist).")
    var out: String

    @Option(name: .long, help: "Certificates to issue.")
    var count = 1_000

    @Option(name: .long, help: "Issuing CA key algorithm.")
    var caAlgorithm: KeyAlgorithm = .p256

    @Option(name: .long, help: "OCSP responder key algorithm.")
    var responderAlgorithm: KeyAlgorithm = .p256

    @Option(name: .long, help: "The public URL the data folder's certificates name.")
    var publicURL = "http://127.0.0.1:8080"

    func run() async throws {
        let root = URL(fileURLWithPath: out, isDirectory: true)
        guard !FileManager.default.fileExists(atPath: root.path) else {
            throw ValidationError("\(out) exists already; fixtures are written to a new folder")
        }
        let data = root.appendingPathComponent("data", isDirectory: true)
        let peers = root.appendingPathComponent("peers", isDirectory: true)
        for folder in [data, peers, peers.appendingPathComponent("leaves"), peers.appendingPathComponent("requests")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let passphraseFile = data.appendingPathComponent("keystore-passphrase")
        try Data("benchmark-passphrase-\(UUID().uuidString)".utf8).write(to: passphraseFile)
        let configuration = OpenCPSConfiguration(
            dataDirectory: data, database: .sqliteFile(data.appendingPathComponent("opencps.sqlite").path),
            publicBaseURL: publicURL, logLevel: .warning, keyStorePassphrase: .file(passphraseFile))
        let material = try PKIMaterial.initialize(
            configuration,
            pkiConfiguration: PKIConfiguration(
                publicBaseURL: publicURL, rootKeyAlgorithm: .p256, issuingCAKeyAlgorithm: caAlgorithm,
                ocspResponderKeyAlgorithm: responderAlgorithm),
            rootKeyDestination: data.appendingPathComponent("root-offline", isDirectory: true), now: Date().addingTimeInterval(-3600))
        let authority = material.hierarchy.fortePersonnes
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: peers.appendingPathComponent(name))
        }
        func pem(_ text: String) -> String { text.hasSuffix("\n") ? text : text + "\n" }
        try write("root.pem", pem(material.hierarchy.root.pem))
        try write("ca.pem", pem(authority.ca.pem))
        try write("responder.pem", pem(authority.ocspResponder.pem))
        guard let caKey = try authority.ca.signingKey(in: material.keyStore) as? SoftwareSigningKey,
              let responderKey = try authority.ocspResponder.signingKey(in: material.keyStore) as? SoftwareSigningKey else {
            throw ValidationError("the benchmark needs software keys")
        }
        try write("ca.key", caKey.pemForBenchmarkPeers())
        try write("responder.key", responderKey.pemForBenchmarkPeers())

        let holderKey = try SoftwareSigningKey.generate(label: "bench-holder", algorithm: .p256)
        try write("p256.key", holderKey.pemForBenchmarkPeers())
        let csr = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("benchmark") }, privateKey: holderKey.certificatePrivateKey,
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: holderKey.signatureAlgorithm)
        try write("p256.csr", pem(try csr.serializeAsPEM().pemString))

        let clock = SystemWallClock()
        let issued: [IssuedCertificate] = try await ApplicationRunner.withDatabase(configuration) { app in
            let pki = try PKIService(
                hierarchy: material.hierarchy, keyStore: material.keyStore, database: ServiceDatabase { [unowned app] in app.db }, clock: clock,
                rootCRLs: try PKIMaterial.rootCRLsForServing(configuration, material: material))
            var all: [IssuedCertificate] = []
            var index = 0
            while index < count {
                let batch = (index..<min(count, index + 500)).map { number in
                    PKIService.IssuanceRequest(
                        request: CardCertificateRequest(
                            givenName: "BENCH", surname: "HOLDER\(number)", idNat: "810100271385", professionTitle: "Médecin",
                            structureName: nil, structureIdentifier: nil, cardTypeCode: 0,
                            cardIssuerIdentifier: "80276", cardSerialNumber: String(format: "%010d", number),
                            cardDomain: "cps.opencps.invalid", publicKey: holderKey.publicKey,
                            notBefore: clock.now().addingTimeInterval(-60), notAfter: clock.now().addingTimeInterval(365 * 86_400)),
                        profile: .authentication)
                }
                all += try await pki.issue(batch, actor: "bench")
                index += batch.count
            }
            return all
        }
        var indexLines: [String] = []
        var getLines: [String] = []
        for (number, certificate) in issued.enumerated() {
            let name = String(format: "%06d", number)
            try write("leaves/\(name).pem", pem(certificate.pem))
            let request = try OCSPRequest(certIDs: [OCSPCertID(issuer: authority.ca.certificate, serialNumber: certificate.serialNumber)])
            let der = try request.derEncoded()
            try Data(der).write(to: peers.appendingPathComponent("requests/\(name).der"))
            getLines.append(Data(der).base64EncodedString().replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "=", with: "%3D"))
            let expiry = Self.opensslTime(certificate.notAfter)
            indexLines.append("V\t\(expiry)\t\t\(certificate.serialHex.uppercased())\tunknown\t/CN=\(certificate.serialHex)")
        }
        try write("index.txt", indexLines.joined(separator: "\n") + "\n")
        try write("index.txt.attr", "unique_subject = no\n")
        try write("requests-get.txt", getLines.joined(separator: "\n") + "\n")
        print("Wrote \(issued.count) certificates and their OCSP requests to \(root.path)")
    }

    /// `YYMMDDHHMMSSZ`, as OpenSSL's index.txt wants.
    static func opensslTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%02d%02d%02d%02d%02d%02dZ", parts.year! % 100, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }
}
