import Foundation
import OpenCPSPKI
import X509

/// The root's CRLs as the server serves them: read from the folder the offline step writes
/// (``RootCRLFolder``), never signed here, since the server does not hold the root key.
///
/// The folder is read again when its modification time changes, so a batch signed while the
/// server runs is served from the next request on.
public final class PreSignedRootCRLs: @unchecked Sendable {
    // @unchecked: `loaded` and `stamp` are guarded by `lock`.
    private let folder: RootCRLFolder
    private let root: Certificate
    private let lock = NSLock()
    private var loaded: [RootCRLFolder.Stored] = []
    private var stamp: Date?

    /// Reads the folder once, so that a bad file stops the start-up rather than a later request.
    /// - Throws: `pki.root-crl.invalid` for a file that fails its checks.
    public init(folder: RootCRLFolder, root: Certificate) throws {
        self.folder = folder
        self.root = root
        _ = try batch()
    }

    /// The CRL in force at `date`.
    /// - Throws: `pki.root-crl.unavailable` when none is (the batch ran out: the offline step is late).
    public func current(at date: Date) throws -> PublishedCRL {
        guard let stored = RootCRLFolder.inForce(try batch(), at: date) else {
            throw PKIError.noRootCRLInForce(folder.directory.path)
        }
        return PublishedCRL(der: stored.der, number: stored.number, thisUpdate: stored.thisUpdate, nextUpdate: stored.nextUpdate)
    }

    /// Until when the batch covers, for start-up warnings.
    public func coveredUntil() throws -> Date? {
        try batch().map(\.nextUpdate).max()
    }

    private func batch() throws -> [RootCRLFolder.Stored] {
        let modified = (try? FileManager.default.attributesOfItem(atPath: folder.directory.path))?[.modificationDate] as? Date
        if let cached = lock.withLock({ stamp != nil && stamp == modified ? loaded : nil }) { return cached }
        let fresh = try folder.load(root: root)
        lock.withLock {
            loaded = fresh
            stamp = modified
        }
        return fresh
    }
}
