import OpenCPSDomain
import Vapor

/// A document sent to a card file: a `multipart/form-data` body with the fields `kind` (a
/// ``DocumentKind``) and `file` (the document, with its media type).
public struct DocumentUpload: Sendable, Equatable {
    /// What the document proves.
    public var kind: DocumentKind
    /// The media type the sender gave, `application/octet-stream` if none.
    public var mediaType: String
    /// The document's bytes.
    public var content: [UInt8]

    /// Reads the upload from a request's collected body, with the boundary of its `Content-Type`.
    init(_ request: Request) throws {
        guard let boundary = request.headers.contentType?.parameters["boundary"] else {
            throw MultipartError("the Content-Type names no boundary")
        }
        let body = request.body.data.map { Array($0.readableBytesView) } ?? []
        try self.init(bytes: body, boundary: boundary)
    }

    /// Reads the upload from a body and its boundary.
    /// - Throws: ``MultipartError`` for a malformed body, ``ValidationFailure`` for a missing or
    ///   unknown field.
    public init(bytes: [UInt8], boundary: String) throws {
        let form = try MultipartFormData(bytes: bytes, boundary: boundary)
        var problems: [FieldProblem] = []
        let kind = form.part(named: "kind").flatMap { DocumentKind(rawValue: $0.text) }
        if form.part(named: "kind") == nil {
            problems.append(FieldProblem(field: "kind", code: "field.required", reason: "the kind of document is required"))
        } else if kind == nil {
            problems.append(FieldProblem(
                field: "kind", code: "field.unknown-code", reason: "must be one of \(DocumentKind.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        let file = form.part(named: "file")
        if file == nil {
            problems.append(FieldProblem(field: "file", code: "field.required", reason: "the document file is required"))
        }
        guard let kind, let file, problems.isEmpty else { throw ValidationFailure(problems) }
        self.kind = kind
        self.mediaType = file.contentType ?? "application/octet-stream"
        self.content = file.body
    }
}
