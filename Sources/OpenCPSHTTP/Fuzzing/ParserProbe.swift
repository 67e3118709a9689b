import Foundation
import NIOCore
import NIOHTTP1
import OpenCPSDomain
import OpenCPSPKI
import Vapor

/// What one of the server's parsers made of an input, as the fuzz harness counts it.
public enum ParserVerdict: Sendable, Equatable {
    /// The input was read (a well-formed request, even if the server would then refuse what it asks).
    case accepted
    /// The input was refused with the problem the server answers: a client error, with its code.
    case refused(status: Int, code: String)
    /// The input was refused with a server error or an error that says nothing: a defect.
    case unclear(String)
}

/// Entry points for the fuzz harness (`opencps bench fuzz`, `ParserFuzzTests`) into the parsers of
/// the HTTP layer that requests reach: each runs the very code a request runs and words its error
/// as ``ProblemMiddleware`` would, so that "every malformed input gets its clear error" can be
/// checked without a socket.
public enum ParserProbe {
    /// The issuance body's hand-written JSON reader (``FlatJSONObject``) and its field reads.
    public static func flatJSON(_ bytes: [UInt8]) -> ParserVerdict {
        verdict {
            let object = try FlatJSONObject(bytes: bytes)
            _ = try object.optionalString("idNat")
            _ = try object.optionalString("csr")
        }
    }

    /// A document upload's multipart body, read as the card API reads it (``DocumentUpload``
    /// over ``MultipartFormData``).
    public static func documentUpload(_ bytes: [UInt8], boundary: String) -> ParserVerdict {
        verdict {
            _ = try DocumentUpload(bytes: bytes, boundary: boundary)
        }
    }

    /// Raw bytes on a dedicated listener's connection (OCSP, issuance): SwiftNIO's HTTP/1.1 server
    /// pipeline as ``LeanHTTPServer`` configures it, then ``LeanHTTPHandler`` with its body cap.
    /// A request read whole is answered by the handler (here: `route.not-found`, counted as
    /// accepted); malformed bytes must get a `400` from the pipeline's error handling and the
    /// connection closed, or wait for more bytes.
    public static func listenerBytes(_ bytes: [UInt8], maximumBodySize: Int = 4096) -> ParserVerdict {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        do {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)
            try channel.pipeline.syncOperations.addHandler(LeanHTTPHandler(maximumBodySize: maximumBodySize))
        } catch {
            return .unclear("the pipeline could not be built: \(error)")
        }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            try channel.writeInbound(buffer)
        } catch {
            // The pipeline's error handler answers 400 and closes; an error that still reaches
            // the end of the pipeline was answered before it got there, so read what was written.
        }
        var written: [UInt8] = []
        while let part = try? channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let chunk) = part { written += chunk.readableBytesView }
        }
        guard !written.isEmpty else {
            // Nothing answered: an incomplete request, waiting for the rest of its bytes.
            return .accepted
        }
        return listenerVerdict(String(decoding: written.prefix(64), as: UTF8.self))
    }

    /// The status line of the first answer on a listener's connection, as a verdict.
    private static func listenerVerdict(_ head: String) -> ParserVerdict {
        let parts = head.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            return .unclear("the answer is not HTTP: \(head.prefix(32))")
        }
        switch status {
        case 404: return .accepted
        case 400..<500: return .refused(status: status, code: "http.\(status)")
        default: return .unclear("answered \(status)")
        }
    }

    /// Runs `read` and words its error as the server would.
    public static func verdict(_ read: () throws -> Void) -> ParserVerdict {
        do {
            try read()
            return .accepted
        } catch {
            let problem = ProblemMiddleware.problem(for: error)
            guard problem.status < 500 else {
                return .unclear("\(problem.code): \(String(reflecting: error))")
            }
            return .refused(status: problem.status, code: problem.code)
        }
    }
}
