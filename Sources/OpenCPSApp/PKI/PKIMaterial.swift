import Foundation
import OpenCPSPKI
import OpenCPSServices

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

    /// The folder of the root's CRLs signed ahead of time (``RootCRLFolder``).
    static func rootCRLDirectory(_ configuration: OpenCPSConfiguration) -> URL {
        hierarchyDirectory(configuration).appendingPathComponent("root-crls", isDirectory: true)
    }

    /// The folder of the encrypted keys.
    static func keyDirectory(_ configuration: OpenCPSConfiguration) -> URL {
        configuration.dataDirectory.appendingPathComponent("keys", isDirectory: true)
    }

    /// Whether `pki init` has run in this data folder.
    static func exists(_ configuration: OpenCPSConfiguration) -> Bool {
        PKIHierarchy.exists(in: hierarchyDirectory(configuration))
    }

    /// The file in which `pki init` records that the keys are in an HSM (absent: the software store).
    static func keyStoreRecord(_ configuration: OpenCPSConfiguration) -> URL {
        hierarchyDirectory(configuration).appendingPathComponent("key-store.json")
    }

    /// What `key-store.json` says: the module and token of the keys.
    struct KeyStoreRecord: Codable {
        var kind: String
        var pkcs11: PKCS11KeyStore.Location
    }

    /// The HSM's key store at `location`, logged in with the configured user PIN.
    private static func hsm(_ location: PKCS11KeyStore.Location, _ configuration: OpenCPSConfiguration) throws -> any KeyStore {
        let pin = try configuration.pkcs11PIN.load(
            "the user PIN of the token '\(location.tokenLabel)'", setting: "pkcs11-pin", variables: "OPENCPS_PKCS11_PIN_FILE or OPENCPS_PKCS11_PIN")
        return try PKCS11KeyStore(location: location, pin: pin)
    }

    /// The key store the hierarchy of the data folder was made in: the HSM that `pki init`
    /// recorded (the configured module and token win, should they have moved), else the
    /// encrypted software store.
    static func keyStore(_ configuration: OpenCPSConfiguration) throws -> any KeyStore {
        if let data = FileManager.default.contents(atPath: keyStoreRecord(configuration).path) {
            guard let record = try? JSONDecoder().decode(KeyStoreRecord.self, from: data), record.kind == "pkcs11" else {
                throw PKIError.hierarchyStorage("\(keyStoreRecord(configuration).path) is not a key-store record of OpenCPS.")
            }
            return try hsm(configuration.pkcs11KeyStore ?? record.pkcs11, configuration)
        }
        guard configuration.pkcs11KeyStore == nil else {
            throw PKIError.hierarchyStorage(
                "The hierarchy in \(hierarchyDirectory(configuration).path) keeps its keys in the software store, not in the configured PKCS #11 token.")
        }
        let passphrase = try configuration.keyStorePassphrase.load()
        return try EncryptedSoftwareKeyStore(directory: keyDirectory(configuration), passphrase: passphrase)
    }

    /// Opens the hierarchy of the data folder with its key store (see ``keyStore(_:)``).
    static func open(_ configuration: OpenCPSConfiguration) throws -> PKIMaterial {
        let keyStore = try keyStore(configuration)
        var hierarchy = try PKIHierarchy.load(from: hierarchyDirectory(configuration))
        if hierarchy.timeStamping == nil {
            // A data folder made before the time-stamping authority existed gets one; the root,
            // CAs and responders stay as they are.
            hierarchy = try PKIHierarchyBuilder(configuration: hierarchy.configuration, keyStore: keyStore)
                .addTimeStampingAuthority(to: hierarchy, now: Date())
            try hierarchy.save(to: hierarchyDirectory(configuration))
        }
        // Every key the server signs with must open now, not at the first request; the root's
        // is not one of them (its CRLs are signed ahead of time, offline).
        for authority in hierarchy.allCertificates where authority.slug != hierarchy.root.slug {
            _ = try authority.signingKey(in: keyStore)
        }
        return PKIMaterial(hierarchy: hierarchy, keyStore: keyStore)
    }

    /// What a server needs to serve the root's CRLs without the root key, checked: the root key
    /// is not in the data folder's software store, and the folder of pre-signed CRLs reads.
    /// - Throws: `pki.hierarchy.storage` when the root key is still in `<data>/keys`,
    ///   `pki.root-crl.invalid` for a bad file.
    static func rootCRLsForServing(_ configuration: OpenCPSConfiguration, material: PKIMaterial) throws -> PreSignedRootCRLs {
        if material.keyStore is EncryptedSoftwareKeyStore, material.keyStore.exists(label: material.hierarchy.root.keyLabel) {
            throw PKIError.hierarchyStorage(
                "The root key is in \(keyDirectory(configuration).path), where the internet-facing server would hold it. "
                    + "Sign the root's CRLs ahead of time and move the key to offline media: `opencps pki root-crls`, then "
                    + "`opencps pki root-offline --to <folder on offline media>`.")
        }
        return try PreSignedRootCRLs(folder: RootCRLFolder(directory: rootCRLDirectory(configuration)), root: material.hierarchy.root.certificate)
    }

    /// Signs a batch of root CRLs (``RootCRLFolder/signBatch(builder:entries:firstNumber:start:count:period:overlap:)``)
    /// with the root key found in `keyStore`, carrying over the entries of the newest CRL of the folder.
    static func signRootCRLs(
        _ configuration: OpenCPSConfiguration, hierarchy: PKIHierarchy, keyStore: any KeyStore, schedule: RootCRLSchedule,
        revoking added: [CRLEntry] = [], firstNumber: Int? = nil, now: Date
    ) throws -> [RootCRLFolder.Stored] {
        let folder = RootCRLFolder(directory: rootCRLDirectory(configuration))
        let root = hierarchy.root
        let builder = try CRLBuilder(issuer: root, signingKey: root.signingKey(in: keyStore))
        var entries = try folder.load(root: root.certificate).last?.crl.entries ?? []
        for entry in added where !entries.contains(where: { $0.serialNumber == entry.serialNumber }) {
            entries.append(entry)
        }
        return try folder.signBatch(
            builder: builder, entries: entries, firstNumber: firstNumber ?? (try folder.highestNumber(root: root.certificate) + 1),
            start: now, count: schedule.count, period: schedule.period, overlap: schedule.overlap)
    }

    /// Creates the hierarchy (root, issuing CAs, OCSP responders) in the data folder, its keys
    /// generated in the configured HSM token or, without one, in the encrypted software store.
    /// - Throws: when one exists already: a hierarchy is never overwritten.
    ///
    /// The root's first CRLs are signed at once (`rootCRLSchedule`), and then, with the software
    /// store, the root key leaves `<data>/keys` for `rootKeyDestination`: the server never finds
    /// it. In a PKCS #11 token the root key stays in the token, and the server never asks the
    /// token for it (a root in a token of its own, kept offline, is the operator's choice).
    static func initialize(
        _ configuration: OpenCPSConfiguration, pkiConfiguration: PKIConfiguration, rootKeyDestination: URL,
        rootCRLSchedule: RootCRLSchedule = RootCRLSchedule(), now: Date
    ) throws -> PKIMaterial {
        guard !exists(configuration) else {
            throw PKIError.hierarchyStorage("A hierarchy exists already in \(hierarchyDirectory(configuration).path); it is never overwritten.")
        }
        try pkiConfiguration.validate()
        let keyStore: any KeyStore
        if let location = configuration.pkcs11KeyStore {
            keyStore = try hsm(location, configuration)
        } else {
            keyStore = try EncryptedSoftwareKeyStore(directory: keyDirectory(configuration), passphrase: try configuration.keyStorePassphrase.load())
        }
        let hierarchy = try PKIHierarchyBuilder(configuration: pkiConfiguration, keyStore: keyStore).initialize(now: now)
        if let location = configuration.pkcs11KeyStore {
            // Recorded before the hierarchy is saved: a hierarchy on disk always says where its keys are.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try? FileManager.default.createDirectory(at: hierarchyDirectory(configuration), withIntermediateDirectories: true)
            guard FileManager.default.createFile(
                atPath: keyStoreRecord(configuration).path, contents: try encoder.encode(KeyStoreRecord(kind: "pkcs11", pkcs11: location)),
                attributes: [.posixPermissions: 0o600]) else {
                throw PKIError.hierarchyStorage("\(keyStoreRecord(configuration).path) cannot be written.")
            }
        }
        try hierarchy.save(to: hierarchyDirectory(configuration))
        _ = try signRootCRLs(configuration, hierarchy: hierarchy, keyStore: keyStore, schedule: rootCRLSchedule, now: now)
        if let software = keyStore as? EncryptedSoftwareKeyStore {
            try software.moveKey(label: hierarchy.root.keyLabel, to: rootKeyDestination)
        }
        return PKIMaterial(hierarchy: hierarchy, keyStore: keyStore)
    }
}

/// How many root CRLs the offline step signs at once and how long each is in force. The
/// defaults are OpenCPS's own choice, not an official value of the French CPS PKI: a CRL every
/// 30 days, each in force 7 days past the next one's start, 13 at once (about 13 months, so the
/// offline ceremony can be yearly).
public struct RootCRLSchedule: Sendable {
    /// CRLs per batch.
    public var count: Int
    /// Time between two CRLs' thisUpdate.
    public var period: TimeInterval
    /// How long a CRL stays in force after the next one starts.
    public var overlap: TimeInterval

    /// A schedule; see the type's defaults.
    public init(count: Int = 13, periodDays: Int = 30, overlapDays: Int = 7) {
        self.count = count
        self.period = Double(periodDays) * 86_400
        self.overlap = Double(overlapDays) * 86_400
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
