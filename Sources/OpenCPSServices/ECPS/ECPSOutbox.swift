import Foundation
import OpenCPSDomain

/// Where activation messages go: OpenCPS has no mail or SMS gateway, so each message is a
/// file in a folder (by default `<data>/outbox/ecps`), for the operator's own gateway (or a
/// person, in a demo) to send and delete. Files are readable by their owner only: they hold
/// a live activation code.
public struct ECPSOutbox: Sendable {
    /// The folder.
    public let folder: URL

    /// Names the folder.
    public init(folder: URL) {
        self.folder = folder
    }

    /// Writes one message.
    /// - Returns: the file written.
    func write(to recipient: String, channel: String, subject: String, body: String, name: String) throws -> URL {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let file = folder.appendingPathComponent("\(name).txt")
            let text = "Channel: \(channel)\nTo: \(recipient)\nSubject: \(subject)\n\n\(body)\n"
            guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            return file
        } catch {
            throw ECPSRuleError(code: "ecps.outbox-failed", reason: "the activation message could not be written to \(folder.path)")
        }
    }
}
