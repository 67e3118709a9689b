import ArgumentParser
import Foundation
import OpenCPSPKI
import OpenCPSPersistence

/// `opencps pki ...`.
struct PKICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki", abstract: "Manage the certificate authorities.", subcommands: [PKIInitCommand.self])
}

/// `opencps pki init`: creates the root, the issuing CAs and their OCSP responders.
struct PKIInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the CA hierarchy: root (ACR), Forte Personnes and Élémentaire Personnes issuing CAs, and a delegated OCSP responder for each.",
        discussion: """
            Keys are written encrypted (AES-GCM under a scrypt-derived key) in <data>/keys; the passphrase comes from \
            OPENCPS_KEYSTORE_PASSPHRASE_FILE or OPENCPS_KEYSTORE_PASSPHRASE, never from a flag. Certificates and \
            hierarchy.json go to <data>/pki. An existing hierarchy is never overwritten.
            """)

    @OptionGroup var options: DataOptions

    @Option(name: .long, help: "The URL put in certificates for CRLs, OCSP and CA certificates (env OPENCPS_PUBLIC_URL; default http://127.0.0.1:8080).")
    var publicURL: String?

    @Option(name: .long, help: "Root key: rsa2048, rsa3072, rsa4096 or p256.")
    var rootAlgorithm: KeyAlgorithm = .rsa4096

    @Option(name: .long, help: "Issuing CA keys.")
    var caAlgorithm: KeyAlgorithm = .rsa3072

    @Option(name: .long, help: "OCSP responder keys.")
    var responderAlgorithm: KeyAlgorithm = .rsa2048

    func run() async throws {
        let configuration = try options.configuration(publicURL: publicURL, defaultLogLevel: "warning")
        let material = try PKIMaterial.initialize(
            configuration,
            pkiConfiguration: PKIConfiguration(
                publicBaseURL: configuration.publicBaseURL, rootKeyAlgorithm: rootAlgorithm,
                issuingCAKeyAlgorithm: caAlgorithm, ocspResponderKeyAlgorithm: responderAlgorithm),
            now: Date())
        print("Created the hierarchy in \(PKIMaterial.hierarchyDirectory(configuration).path):")
        for authority in material.hierarchy.allCertificates {
            print("  \(authority.slug): \(authority.certificate.subject)")
        }
    }
}

extension KeyAlgorithm: ExpressibleByArgument {}
