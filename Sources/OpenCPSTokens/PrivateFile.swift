import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets (software tokens, PIN letters): created exclusively, readable by
/// their owner only.
///
/// A production run creates a batch's files under pending names, flushes them to disk with
/// one ``flushAll()``, then renames them while it records the cards and makes the renames
/// durable with one ``flushDirectories(_:)``.
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

    /// Flushes to disk every file written so far (`sync(2)`: Glibc's Swift module does not
    /// expose `syncfs(2)`, so every file system is flushed). One call makes a whole batch of
    /// files durable, where `durable` creation pays one flush per file.
    public static func flushAll() {
        sync()
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
