import OpenCPSDomain
import Vapor

/// Turns every error into an RFC 9457 problem document, in one place: domain errors by
/// their code, framework errors by their status, anything else into a 500 that says
/// nothing of the internals.
public struct ProblemMiddleware: Middleware {
    /// Creates the middleware.
    public init() {}

    /// Runs the rest of the chain and answers errors with a problem document.
    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in
            var problem = Self.problem(for: error)
            // A path the routes answer under other methods: 405 with the methods it takes.
            let allowed = error is RouteNotFound ? AllowedMethods.at(request.url.path, in: request.application.routes) : []
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            if !allowed.isEmpty {
                problem = Problem(
                    status: .methodNotAllowed, code: "route.method-not-allowed",
                    detail: "\(request.method.rawValue) is not answered here; the methods answered are \(allow)")
            }
            if problem.status >= 500 {
                request.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            } else {
                request.logger.debug("request refused", metadata: ["code": "\(problem.code)"])
            }
            let response = Self.response(for: problem, request: request)
            if !allowed.isEmpty {
                response.headers.replaceOrAdd(name: .allow, value: allow)
            }
            if let limited = error as? any RateLimitedError {
                response.headers.replaceOrAdd(name: .retryAfter, value: String(limited.retryAfter))
            }
            return response
        }
    }

    /// The problem document for an error.
    public static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let failure as ValidationFailure:
            return Problem(status: .unprocessableEntity, code: failure.code, detail: failure.reason, errors: failure.errors)
        case let error as any DomainError:
            let status = status(forCode: error.code)
            // A server-side failure keeps its code, but its reason (a file, a statement) stays in the log.
            guard status.code < 500 else {
                return Problem(status: status, code: error.code, detail: "an internal error occurred; it has been logged")
            }
            return Problem(status: status, code: error.code, detail: error.reason)
        case let error as DecodingError:
            return Problem(status: .badRequest, code: "request.malformed-body", detail: describe(error))
        case let error as MultipartError:
            return Problem(status: .badRequest, code: error.code, detail: error.reason)
        case let abort as any AbortError:
            let code = abort.status == .notFound ? "route.not-found" : "http.\(abort.status.code)"
            return Problem(status: abort.status, code: code, detail: abort.reason)
        default:
            return Problem(status: .internalServerError, code: "server.internal", detail: "an internal error occurred; it has been logged")
        }
    }

    /// The HTTP status for a domain error code: the edge's one mapping table.
    static func status(forCode code: String) -> HTTPResponseStatus {
        switch code {
        case "registry.not-found": .notFound
        case "registry.duplicate": .conflict
        case "registry.version-conflict": .preconditionFailed
        case "storage.corrupt-row": .internalServerError
        case "card.forbidden": .forbidden
        case "card.transition-refused": .conflict
        case "certificate.hold-owned-by-card", "certificate.already-revoked": .conflict
        case "token.not-found": .notFound
        case "card.letter-failed", "token.write-failed": .internalServerError
        case "card.pin-blocked", "card.puk-exhausted": .locked
        case "pki.tsa.unavailable", "pki.root-crl.unavailable": .serviceUnavailable
        case let code where code.hasPrefix("ecps."): ECPSProblems.status(forCode: code)
        default: .unprocessableEntity
        }
    }

    /// The response carrying a problem.
    static func response(for problem: Problem, request: Request) -> Response {
        let response = Response(status: HTTPResponseStatus(statusCode: problem.status))
        do {
            try response.content.encode(problem, as: .json)
        } catch {
            response.body = .init(string: #"{"title":"Internal Server Error","status":500}"#)
        }
        response.headers.contentType = HTTPMediaType(type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
        return response
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "body" : text)
        }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "the body is not valid JSON" : "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "\(parent == "body" ? "" : parent + ".")\(key.stringValue) is required"
        case .typeMismatch(let type, let context):
            return "\(path(context)) must be \(describeType(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) must be \(describeType(type)), not null"
        @unknown default:
            return "the body could not be read"
        }
    }

    /// The JSON kind a Swift type is read from, with its article.
    private static func describeType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        // A dictionary is a collection too, but JSON writes it as an object.
        case is [String: Any].Type, is any (Collection & ExpressibleByDictionaryLiteral).Type: "a JSON object"
        default: type is any Collection.Type ? "a list" : "a JSON object"
        }
    }
}
