import Foundation
import OpenCPSPKI

/// The CA hierarchy and the key store holding its keys: what `pki init` creates in the data
/// folder (`pki/` for certificates, `keys/` for encrypted keys) and `serve` opens.
public struct PKIMaterial: Sendable {
    /// The hierarchy.
    public let hierarchy: PKIHierarchy
    /// Where its keys are.
    public let keyStore: any KeyStore

    /// Wraps a hierarchy and its key store (tests build them in memory).
    public init(hierarchy: PKIHierarchy, keyStore: any KeyStore) {
        self.hierarchy = hierarchy
        self.keyStore = keyStore
    }

    /// The folder of the hierarchy's certificates.
    static func hierarchyDirectory(_ configuration: OpenCPSConfiguration) -> URL {
        configuration.dataDirectory.appendingPathComponent("pki", isDirectory: true)
    }

    /// The folder of the encrypted keys.
    static func keyDirectory(_ configuration: OpenCPSConfiguration) -> URL {
        configuration.dataDirectory.appendingPathComponent("keys", isDirectory: true)
    }

    /// Whether `pki init` has run in this data folder.
    static func exists(_ configuration: OpenCPSConfiguration) -> Bool {
        PKIHierarchy.exists(in: hierarchyDirectory(configuration))
    }

    /// Opens the hierarchy of the data folder with the operator passphrase.
    static func open(_ configuration: OpenCPSConfiguration) throws -> PKIMaterial {
        let passphrase = try configuration.keyStorePassphrase.load()
        let keyStore = try EncryptedSoftwareKeyStore(directory: keyDirectory(configuration), passphrase: passphrase)
        var hierarchy = try PKIHierarchy.load(from: hierarchyDirectory(configuration))
        if hierarchy.timeStamping == nil {
            // A data folder made before the time-stamping authority existed gets one; the root,
            // CAs and responders stay as they are.
            hierarchy = try PKIHierarchyBuilder(configuration: hierarchy.configuration, keyStore: keyStore)
                .addTimeStampingAuthority(to: hierarchy, now: Date())
            try hierarchy.save(to: hierarchyDirectory(configuration))
        }
        for authority in hierarchy.allCertificates {
            _ = try authority.signingKey(in: keyStore)
        }
        return PKIMaterial(hierarchy: hierarchy, keyStore: keyStore)
    }

    /// Creates the hierarchy (root, issuing CAs, OCSP responders) in the data folder.
    /// - Throws: when one exists already: a hierarchy is never overwritten.
    static func initialize(
        _ configuration: OpenCPSConfiguration, pkiConfiguration: PKIConfiguration, now: Date
    ) throws -> PKIMaterial {
        guard !exists(configuration) else {
            throw PKIError.hierarchyStorage("A hierarchy exists already in \(hierarchyDirectory(configuration).path); it is never overwritten.")
        }
        try pkiConfiguration.validate()
        let passphrase = try configuration.keyStorePassphrase.load()
        let keyStore = try EncryptedSoftwareKeyStore(directory: keyDirectory(configuration), passphrase: passphrase)
        let hierarchy = try PKIHierarchyBuilder(configuration: pkiConfiguration, keyStore: keyStore).initialize(now: now)
        try hierarchy.save(to: hierarchyDirectory(configuration))
        return PKIMaterial(hierarchy: hierarchy, keyStore: keyStore)
    }
}

/// Where the key-store passphrase comes from: a file or the environment, never a flag.
public enum KeyStorePassphraseSource: Sendable, CustomStringConvertible {
    /// `OPENCPS_KEYSTORE_PASSPHRASE_FILE`.
    case file(URL)
    /// `OPENCPS_KEYSTORE_PASSPHRASE` (the value is never printed).
    case environment(String)
    /// Neither is set.
    case none

    /// Reads the passphrase.
    func load() throws -> KeyStorePassphrase {
        switch self {
        case .file(let url): return try KeyStorePassphrase.fromFile(url)
        case .environment(let value): return try KeyStorePassphrase(value)
        case .none:
            throw PKIError.weakPassphrase(
                "No key-store passphrase: set OPENCPS_KEYSTORE_PASSPHRASE_FILE (a file readable by the operator only) or OPENCPS_KEYSTORE_PASSPHRASE.")
        }
    }

    /// Where it comes from, never the value.
    public var description: String {
        switch self {
        case .file(let url): "file \(url.path)"
        case .environment: "OPENCPS_KEYSTORE_PASSPHRASE"
        case .none: "none"
        }
    }
}
