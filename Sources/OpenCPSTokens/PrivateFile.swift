import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets (software tokens, PIN letters): created exclusively, readable by
/// their owner only.
///
/// Creation does not flush each file to disk: a production run writes hundreds of files and
/// flushes them together with ``flushAll()`` before it records the cards, which
/// costs one flush instead of one per file.
public enum PrivateFile {
    /// Creates a file that must not exist yet (mode 0600) holding `contents`.
    /// - Returns: nil, or the `errno` of the failure (`EEXIST` when the file exists).
    public static func create(_ url: URL, contents: Data) -> Int32? {
        let descriptor = open(url.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        let failure: Int32? = contents.withUnsafeBytes { buffer in
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
        if failure != nil { unlink(url.path) }
        return failure
    }

    /// Flushes to disk what was written so far, the files created here included.
    ///
    /// `sync(2)` is used because Glibc's Swift module does not expose `syncfs(2)`: it flushes
    /// every file system, which on a card production server is mostly this run's own writes.
    public static func flushAll() {
        sync()
    }
}
