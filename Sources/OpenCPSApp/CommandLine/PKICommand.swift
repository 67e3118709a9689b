import ArgumentParser
import Foundation
import OpenCPSPKI
import OpenCPSPersistence

/// `opencps pki ...`.
struct PKICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki", abstract: "Manage the certificate authorities.", subcommands: [PKIInitCommand.self, PKIRootCRLsCommand.self, PKIRootOfflineCommand.self])
}

/// `opencps pki init`: creates the root, the issuing CAs and their OCSP responders.
struct PKIInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the CA hierarchy: root (ACR), Forte Personnes and Élémentaire Personnes issuing CAs, and a delegated OCSP responder for each.",
        discussion: """
            Keys are written encrypted (AES-GCM under a scrypt-derived key) in <data>/keys; the passphrase comes from \
            OPENCPS_KEYSTORE_PASSPHRASE_FILE or OPENCPS_KEYSTORE_PASSPHRASE, never from a flag. With --pkcs11-module and \
            --pkcs11-token, the keys are generated inside that PKCS #11 token instead (sensitive, never extractable), \
            logged into with the user PIN from OPENCPS_PKCS11_PIN_FILE or OPENCPS_PKCS11_PIN, never from a flag; \
            <data>/pki/key-store.json records the module and token for serve. Certificates and hierarchy.json go to \
            <data>/pki. An existing hierarchy is never overwritten. The root's first CRLs are signed at once into \
            <data>/pki/root-crls (see `pki root-crls`), then the root key file leaves <data>/keys for --root-key-out: \
            the server never holds the root key. In a PKCS #11 token the root key stays in the token, never asked for \
            by the server.
            """)

    @OptionGroup var options: DataOptions

    @Option(name: .long, help: "The URL put in certificates for CRLs, OCSP and CA certificates (env OPENCPS_PUBLIC_URL; default http://127.0.0.1:8080).")
    var publicURL: String?

    @Option(name: .long, help: "The PKCS #11 module holding the keys (env OPENCPS_PKCS11_MODULE; default: the encrypted software store).")
    var pkcs11Module: String?

    @Option(name: .long, help: "The label of the module's token (env OPENCPS_PKCS11_TOKEN).")
    var pkcs11Token: String?

    @Option(name: .long, help: "Where the root key file goes, off the data folder (offline media; default <data>/root-offline, to be moved).")
    var rootKeyOut: String?

    @Option(name: .long, help: "Root key: rsa2048, rsa3072, rsa4096 or p256.")
    var rootAlgorithm: KeyAlgorithm = .rsa4096

    @Option(name: .long, help: "Issuing CA keys.")
    var caAlgorithm: KeyAlgorithm = .rsa3072

    @Option(name: .long, help: "OCSP responder keys.")
    var responderAlgorithm: KeyAlgorithm = .rsa2048

    func run() async throws {
        let configuration = try options.configuration(
            publicURL: publicURL, defaultLogLevel: "warning", pkcs11Module: pkcs11Module, pkcs11Token: pkcs11Token)
        let rootKeyFolder = rootKeyOut.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? configuration.dataDirectory.appendingPathComponent("root-offline", isDirectory: true)
        let material = try PKIMaterial.initialize(
            configuration,
            pkiConfiguration: PKIConfiguration(
                publicBaseURL: configuration.publicBaseURL, rootKeyAlgorithm: rootAlgorithm,
                issuingCAKeyAlgorithm: caAlgorithm, ocspResponderKeyAlgorithm: responderAlgorithm),
            rootKeyDestination: rootKeyFolder, now: Date())
        print("Created the hierarchy in \(PKIMaterial.hierarchyDirectory(configuration).path):")
        if let location = configuration.pkcs11KeyStore {
            print("  keys in the PKCS #11 token '\(location.tokenLabel)' of \(location.modulePath)")
        }
        for authority in material.hierarchy.allCertificates {
            print("  \(authority.slug): \(authority.certificate.subject)")
        }
        print("  root CRLs signed ahead of time in \(PKIMaterial.rootCRLDirectory(configuration).path)")
        if configuration.pkcs11KeyStore == nil {
            print("  the root key is in \(rootKeyFolder.path): keep it offline (the server never opens it)")
        }
    }
}

extension KeyAlgorithm: ExpressibleByArgument {}
