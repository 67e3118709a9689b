import OpenCPSDomain
import Vapor

/// An RFC 9457 problem document, the body of every error the JSON API returns.
public struct Problem: Content, Error, Equatable {
    /// A URI naming the kind of problem; OpenCPS uses `urn:opencps:problem:<code>`.
    public var type: String
    /// A short summary of the kind of problem.
    public var title: String
    /// The HTTP status.
    public var status: Int
    /// What went wrong this time, for a person.
    public var detail: String
    /// The stable code, the same as in `type`.
    public var code: String
    /// The fields at fault, for a validation failure.
    public var errors: [FieldProblem]?

    /// Creates a problem.
    public init(status: HTTPResponseStatus, code: String, detail: String, errors: [FieldProblem]? = nil) {
        self.type = "urn:opencps:problem:\(code)"
        self.title = status.reasonPhrase
        self.status = Int(status.code)
        self.detail = detail
        self.code = code
        self.errors = errors
    }
}

extension Problem: DomainError {
    /// The detail: what a field validator records when a check refuses with a problem.
    public var reason: String { detail }
}

/// One field refused by validation: where it is in the body, and why.
public struct FieldProblem: Content, Equatable, Error {
    /// The field's path in the request body, such as `exercises[0].activities[1].structureId`.
    public var field: String
    /// The stable code of the refusal, such as `identifier.check-digit`.
    public var code: String
    /// Why the value was refused.
    public var reason: String

    /// Creates a field problem.
    public init(field: String, code: String, reason: String) {
        self.field = field
        self.code = code
        self.reason = reason
    }
}

/// A request body or query whose values were refused; mapped to 422 with every field named.
public struct ValidationFailure: DomainError {
    /// The refused fields.
    public var errors: [FieldProblem]
    /// The stable code.
    public var code: String { "request.invalid" }
    /// A summary naming the first field.
    public var reason: String {
        guard let first = errors.first else { return "the request is invalid" }
        let more = errors.count > 1 ? " (and \(errors.count - 1) more)" : ""
        return "\(first.field): \(first.reason)\(more)"
    }

    /// Creates a failure from its fields.
    public init(_ errors: [FieldProblem]) {
        self.errors = errors
    }
}
