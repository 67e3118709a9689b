import Foundation
import X509

/// The root's CRLs, signed ahead of time by the offline step (`opencps pki root-crls`) and kept
/// as files, so that the internet-facing server never holds the root key.
///
/// A batch is `count` CRLs: the i-th has `thisUpdate = start + i × period` and `nextUpdate =
/// thisUpdate + period + overlap`, so that a relying party always finds one in force while the
/// next is fetched. Files are `<number>.crl` (DER) in the folder; a new batch moves the previous
/// one to `superseded/`, so the folder holds one batch, and the CRL in force is the one whose
/// `thisUpdate` is the latest not after now.
public struct RootCRLFolder: Sendable {
    /// The folder (`<data>/pki/root-crls`).
    public let directory: URL

    /// One stored CRL.
    public struct Stored: Sendable {
        /// The DER bytes.
        public let der: [UInt8]
        /// The parsed CRL.
        public let crl: CertificateRevocationList
        /// Its CRL number.
        public let number: Int
        /// When it takes effect.
        public var thisUpdate: Date { crl.thisUpdate }
        /// When it stops being in force.
        public let nextUpdate: Date
    }

    /// A folder of pre-signed root CRLs.
    public init(directory: URL) {
        self.directory = directory
    }

    private var superseded: URL { directory.appendingPathComponent("superseded", isDirectory: true) }

    /// The CRLs of the current batch, each checked: signed by `root`, issued by it, with a CRL
    /// number and a nextUpdate; sorted by thisUpdate.
    /// - Throws: `pki.root-crl.invalid` for a file that fails a check (never served).
    public func load(root: Certificate) throws -> [Stored] {
        try Self.read(directory, root: root).sorted { $0.thisUpdate < $1.thisUpdate }
    }

    /// The highest CRL number ever written here (current and superseded batches), or 0.
    public func highestNumber(root: Certificate) throws -> Int {
        (try Self.read(directory, root: root) + Self.read(superseded, root: root)).map(\.number).max() ?? 0
    }

    /// The CRL in force at `date`: the latest `thisUpdate` not after it, if its nextUpdate is
    /// still ahead.
    public static func inForce(_ crls: [Stored], at date: Date) -> Stored? {
        crls.filter { $0.thisUpdate <= date && date < $0.nextUpdate }.max { $0.thisUpdate < $1.thisUpdate }
    }

    /// Signs a batch with the root key and stores it, moving the previous batch to `superseded/`.
    /// - Parameters:
    ///   - builder: The root's CRL builder (the root key, brought from offline media).
    ///   - entries: The revoked issuing-CA certificates (usually none).
    ///   - firstNumber: The first CRL number; must be above every number written here before.
    ///   - start: The first CRL's thisUpdate.
    ///   - count: How many CRLs.
    ///   - period: Time between two thisUpdates.
    ///   - overlap: How long a CRL stays in force after the next one's thisUpdate.
    /// - Returns: The CRLs written.
    public func signBatch(
        builder: CRLBuilder, entries: [CRLEntry], firstNumber: Int, start: Date, count: Int, period: TimeInterval, overlap: TimeInterval
    ) throws -> [Stored] {
        guard count > 0, period > 0, overlap >= 0 else {
            throw PKIError.invalidConfiguration("A batch of root CRLs needs a positive count and period and a non-negative overlap.")
        }
        let root = builder.issuer.certificate
        let highest = try highestNumber(root: root)
        guard firstNumber > highest else {
            throw PKIError.invalidConfiguration("The first CRL number must be above \(highest), the highest one signed before.")
        }
        var batch: [Stored] = []
        for index in 0..<count {
            let thisUpdate = start.addingTimeInterval(Double(index) * period)
            let nextUpdate = thisUpdate.addingTimeInterval(period + overlap)
            let der = try builder.fullCRL(entries: entries, crlNumber: firstNumber + index, thisUpdate: thisUpdate, nextUpdate: nextUpdate)
            batch.append(Stored(der: der, crl: try CertificateRevocationList(derEncoded: der), number: firstNumber + index, nextUpdate: nextUpdate))
        }
        let files = FileManager.default
        do {
            try files.createDirectory(at: superseded, withIntermediateDirectories: true)
            // The new batch is written under temporary names first: a folder never holds half a batch.
            let staging = directory.appendingPathComponent(".staging-\(UUID().uuidString)", isDirectory: true)
            try files.createDirectory(at: staging, withIntermediateDirectories: true)
            for stored in batch {
                try Data(stored.der).write(to: staging.appendingPathComponent("\(stored.number).crl"), options: .atomic)
            }
            for name in try files.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".crl") {
                try files.moveItem(at: directory.appendingPathComponent(name), to: superseded.appendingPathComponent(name))
            }
            for stored in batch {
                let name = "\(stored.number).crl"
                try files.moveItem(at: staging.appendingPathComponent(name), to: directory.appendingPathComponent(name))
            }
            try files.removeItem(at: staging)
        } catch {
            throw PKIError.hierarchyStorage("The root CRLs cannot be written in \(directory.path): \(error.localizedDescription)")
        }
        return batch
    }

    private static func read(_ folder: URL, root: Certificate) throws -> [Stored] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return try names.filter { $0.hasSuffix(".crl") }.map { name in
            let file = folder.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw PKIError.invalidRootCRL(file.path, "it cannot be read")
            }
            let der = [UInt8](data)
            let crl: CertificateRevocationList
            do { crl = try CertificateRevocationList(derEncoded: der) } catch { throw PKIError.invalidRootCRL(file.path, "it is not a DER CRL") }
            guard crl.issuer == root.subject, crl.isSigned(by: root) else { throw PKIError.invalidRootCRL(file.path, "the root did not sign it") }
            guard let number = crl.crlNumber, let nextUpdate = crl.nextUpdate else {
                throw PKIError.invalidRootCRL(file.path, "it has no CRL number or no nextUpdate")
            }
            return Stored(der: der, crl: crl, number: number, nextUpdate: nextUpdate)
        }
    }
}

extension PKIError {
    /// A file of the pre-signed root CRLs fails a check.
    public static func invalidRootCRL(_ path: String, _ detail: String) -> PKIError {
        PKIError(code: "pki.root-crl.invalid", reason: "The root CRL \(path) is refused: \(detail).")
    }

    /// No pre-signed root CRL is in force: the offline step must sign more.
    public static func noRootCRLInForce(_ folder: String) -> PKIError {
        PKIError(code: "pki.root-crl.unavailable",
                 reason: "No root CRL signed ahead of time is in force in \(folder): run `opencps pki root-crls` with the offline root key.")
    }
}
