import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets (software tokens, PIN letters): created exclusively, readable by
/// their owner only.
///
/// A production run creates a batch's files under pending names without flushing each, flushes
/// the batch's files together with ``flush(_:)``, then renames them while it records the cards
/// and makes the renames durable with one ``flushDirectories(_:)``.
public enum PrivateFile {
    /// Creates a file that must not exist yet (mode 0600) holding `contents`.
    /// - Returns: nil, or the `errno` of the failure (`EEXIST` when the file exists).
    /// - Parameter durable: whether the content is flushed to disk (`fsync`) before returning.
    public static func create(_ url: URL, contents: Data, durable: Bool = false) -> Int32? {
        let descriptor = open(url.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        var failure: Int32? = contents.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if failure == nil, durable, fsync(descriptor) != 0 { failure = errno }
        if failure != nil { unlink(url.path) }
        return failure
    }

    /// Flushes these files' contents to disk (`fdatasync`), several at once: a batch's files
    /// become durable together, where `durable` creation waits for one flush per file. Only
    /// these files are flushed, not the rest of their file system.
    /// - Returns: nil, or the `errno` of the first failure.
    public static func flush(_ files: [URL]) -> Int32? {
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let descriptor = open(files[index].path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return failures.add(errno) }
            defer { close(descriptor) }
            if fdatasync(descriptor) != 0 { failures.add(errno) }
        }
        return failures.first
    }

    /// Makes the entries of these folders (files created, renamed or removed) durable.
    /// - Returns: nil, or the `errno` of the failure.
    public static func flushDirectories(_ directories: [URL]) -> Int32? {
        for directory in directories {
            let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { return errno }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else { return errno }
        }
        return nil
    }
}

/// The errors of a parallel flush.
private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by lock.
    private var errors: [Int32] = []

    func add(_ error: Int32) { lock.withLock { errors.append(error) } }
    var first: Int32? { lock.withLock { errors.first } }
}
