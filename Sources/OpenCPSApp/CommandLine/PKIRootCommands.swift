import ArgumentParser
import Foundation
import OpenCPSPKI
import X509

/// `opencps pki root-crls`: the offline step that signs the root's CRLs ahead of time.
struct PKIRootCRLsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root-crls",
        abstract: "Sign a batch of the root's CRLs ahead of time with the offline root key.",
        discussion: """
            Run on the offline machine, with the root key's folder (--root-keys, as `pki init --root-key-out` left it) \
            and the key-store passphrase (OPENCPS_KEYSTORE_PASSPHRASE_FILE or OPENCPS_KEYSTORE_PASSPHRASE). Signs --count \
            CRLs, one every --period-days from now, each in force --overlap-days past the next one's start, into \
            <data>/pki/root-crls; the previous batch goes to <data>/pki/root-crls/superseded. Entries of the newest CRL \
            are carried over; --revoke SERIAL:REASON adds a revoked issuing-CA certificate. Copy the folder to every \
            node's data folder: the server serves the CRL in force and reads the folder again when it changes. The \
            defaults (13 CRLs, 30 days, 7 days) are OpenCPS's own choice, not an official value.
            """)

    @OptionGroup var options: DataOptions

    @Option(name: .long, help: "The folder holding the root key file (default: <data>/keys, before `pki root-offline`).")
    var rootKeys: String?

    @Option(name: .long, help: "CRLs in the batch.")
    var count = 13

    @Option(name: .long, help: "Days between two CRLs.")
    var periodDays = 30

    @Option(name: .long, help: "Days a CRL stays in force after the next one starts.")
    var overlapDays = 7

    @Option(name: .long, help: "A revoked issuing-CA certificate to list: SERIAL (hex):REASON (an RFC 5280 name, e.g. cACompromise).")
    var revoke: [String] = []

    @Option(name: .long, help: "The first CRL number (default: above every number in the folder; give one above the last root CRL served if the root signed CRLs online before).")
    var firstNumber: Int?

    func validate() throws {
        guard (1...120).contains(count), (1...366).contains(periodDays), (0...366).contains(overlapDays) else {
            throw ValidationError("--count must be 1 to 120, --period-days 1 to 366, --overlap-days 0 to 366")
        }
    }

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        let now = Date()
        var added: [CRLEntry] = []
        for text in revoke {
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let serial = Certificate.SerialNumber(hex: parts[0]), let reason = RevocationReason.named(parts[1]) else {
                throw ValidationError("--revoke \(text): expected SERIAL:REASON, a hexadecimal serial and an RFC 5280 reason name")
            }
            added.append(CRLEntry(serialNumber: serial, revocationDate: now, reason: reason))
        }
        do {
            let hierarchy = try PKIHierarchy.load(from: PKIMaterial.hierarchyDirectory(configuration))
            let keys = rootKeys.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? PKIMaterial.keyDirectory(configuration)
            let keyStore = try EncryptedSoftwareKeyStore(directory: keys, passphrase: try configuration.keyStorePassphrase.load())
            let batch = try PKIMaterial.signRootCRLs(
                configuration, hierarchy: hierarchy, keyStore: keyStore,
                schedule: RootCRLSchedule(count: count, periodDays: periodDays, overlapDays: overlapDays),
                revoking: added, firstNumber: firstNumber, now: now)
            let formatter = ISO8601DateFormatter()
            print("Signed \(batch.count) root CRLs into \(PKIMaterial.rootCRLDirectory(configuration).path):")
            print("  numbers \(batch.first!.number)–\(batch.last!.number), \(batch.first!.crl.entries.count) entries each")
            print("  in force from \(formatter.string(from: batch.first!.thisUpdate)) to \(formatter.string(from: batch.last!.nextUpdate))")
        } catch let error as PKIError {
            throw ValidationError(error.reason)
        }
    }
}

/// `opencps pki root-offline`: moves the root key file out of the data folder.
struct PKIRootOfflineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root-offline",
        abstract: "Move the root key file out of <data>/keys, to offline media.",
        discussion: """
            For a data folder whose root key is still in <data>/keys (made before the root went offline): the server \
            refuses to start while it is there. Sign the root's CRLs first (`pki root-crls`), since the server serves \
            only CRLs signed ahead of time. The key file moves still encrypted, and opens with the same passphrase.
            """)

    @OptionGroup var options: DataOptions

    @Option(name: .long, help: "The folder on offline media the root key file moves to.")
    var to: String

    func run() async throws {
        let configuration = try options.configuration(defaultLogLevel: "warning")
        do {
            let hierarchy = try PKIHierarchy.load(from: PKIMaterial.hierarchyDirectory(configuration))
            let inForce = RootCRLFolder.inForce(
                try RootCRLFolder(directory: PKIMaterial.rootCRLDirectory(configuration)).load(root: hierarchy.root.certificate), at: Date())
            guard inForce != nil else {
                throw ValidationError("No root CRL signed ahead of time is in force: run `opencps pki root-crls` first, while the key is here.")
            }
            let keyStore = try EncryptedSoftwareKeyStore(
                directory: PKIMaterial.keyDirectory(configuration), passphrase: try configuration.keyStorePassphrase.load())
            let destination = URL(fileURLWithPath: to, isDirectory: true)
            try keyStore.moveKey(label: hierarchy.root.keyLabel, to: destination)
            print("The root key is now in \(destination.path); the server never opens it.")
        } catch let error as PKIError {
            throw ValidationError(error.reason)
        }
    }
}
