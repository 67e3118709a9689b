import Foundation
import Vapor

/// The operators allowed to change the registry through the API, by bearer token.
///
/// Tokens are compared in constant time (``BearerTokenTable``). Reads of the directory stay public, as the national
/// directory's are.
public struct OperatorTokens: Sendable {
    private let table: BearerTokenTable<String>

    /// Creates the set from `token → operator name` pairs.
    public init(_ tokens: [String: String]) {
        table = BearerTokenTable(tokens)
    }

    /// The operator holding this token, if any.
    public func operatorName(for token: String) -> String? {
        table.holder(of: token)
    }
}

/// Refuses a request without a valid operator bearer token, and remembers who sent it.
struct OperatorAuthenticationMiddleware: Middleware {
    let tokens: OperatorTokens

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard let bearer = request.headers.bearerAuthorization else {
            return request.eventLoop.makeFailedFuture(Problem(
                status: .unauthorized, code: "auth.missing-token", detail: "this operation needs an operator token: Authorization: Bearer <token>"))
        }
        guard let name = tokens.operatorName(for: bearer.token) else {
            return request.eventLoop.makeFailedFuture(Problem(status: .unauthorized, code: "auth.invalid-token", detail: "the operator token is not valid"))
        }
        request.storage[OperatorKey.self] = name
        return next.respond(to: request)
    }
}

private enum OperatorKey: StorageKey {
    typealias Value = String
}

extension Request {
    /// The authenticated actor for the audit log: `operator:<name>`.
    var auditActor: String {
        storage[OperatorKey.self].map { "operator:\($0)" } ?? "anonymous"
    }
}
