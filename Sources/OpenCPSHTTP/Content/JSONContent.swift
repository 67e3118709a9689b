import Foundation
import Vapor

/// Reads and writes JSON bodies with the coders Vapor is configured with, without Vapor's
/// per-request media-type work: every JSON body of the `/api/v1` controllers is read through it.
///
/// `request.content.decode` parses the `Content-Type` header into an `HTTPMediaType` to look its
/// decoder up, and encoding a response writes the header back from one; under issuance load the
/// two cost about a tenth of the server's CPU. Here the header's text is compared as it came, the
/// coders are looked up once, and the answer's header is written as text. Another media type, or
/// none, is refused with 415 (`request.content` would try the plain-text or form decoder and
/// answer "body must be a list").
public struct JSONContent: Sendable {
    private let decoder: any ContentDecoder
    private let encoder: JSONEncoder

    /// The coders registered for `application/json` in `ContentConfiguration.global`.
    public init() {
        let configuration = ContentConfiguration.global
        decoder = (try? configuration.requireDecoder(for: .json)) ?? JSONDecoder.custom(dates: .iso8601)
        encoder = ((try? configuration.requireEncoder(for: .json)) as? JSONEncoder) ?? JSONEncoder.custom(dates: .iso8601)
    }

    /// Decodes the request's JSON body: a `DecodingError` (400) for malformed JSON, 422 without a
    /// body, 415 for another media type.
    public func decode<Body: Decodable>(_ type: Body.Type, from request: Request) throws -> Body {
        try decoder.decode(Body.self, from: body(of: request), headers: request.headers)
    }

    /// The request's JSON body as bytes, after the same checks as ``decode(_:from:)``: 415 for
    /// another media type, 422 without a body.
    public func body(of request: Request) throws -> ByteBuffer {
        guard let contentType = request.headers.first(name: .contentType), Self.isJSON(contentType) else {
            throw Self.notJSON
        }
        guard let body = request.body.data else {
            throw Self.noBody
        }
        return body
    }

    /// The refusal of a body that is not JSON (415).
    static let notJSON = Problem(status: .unsupportedMediaType, code: "http.415", detail: "the body must be JSON (Content-Type: application/json)")

    /// The refusal of a request without a body (422), as Vapor words it.
    static var noBody: Problem { ProblemMiddleware.problem(for: Abort(.unprocessableEntity)) }

    /// A response carrying JSON text already written (``FlatJSONWriter``).
    public func response(json bytes: [UInt8], status: HTTPResponseStatus = .ok) -> Response {
        Self.response(status: status, body: .init(buffer: ByteBuffer(bytes: bytes)))
    }

    /// A response carrying `value` as JSON (`application/json; charset=utf-8`, as Vapor writes it).
    public func response<Body: Encodable>(_ value: Body, status: HTTPResponseStatus = .ok) throws -> Response {
        Self.response(status: status, body: .init(data: try encoder.encode(value)))
    }

    private static func response(status: HTTPResponseStatus, body: Response.Body) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json; charset=utf-8")
        return Response(status: status, headers: headers, body: body)
    }

    /// Whether a `Content-Type` value names `application/json`, whatever its parameters and case.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        func isWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let trimmed = mediaType.drop(while: isWhitespace).reversed().drop(while: isWhitespace).reversed()
        let json = "application/json".utf8
        func lowercased(_ byte: UInt8) -> UInt8 {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 0x20 : byte
        }
        return trimmed.count == json.count && zip(trimmed, json).allSatisfy { lowercased($0) == $1 }
    }
}
