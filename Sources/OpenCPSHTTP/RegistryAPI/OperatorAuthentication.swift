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
        switch OperatorAuthentication.operatorName(authorization: request.headers.first(name: .authorization), tokens: tokens) {
        case .success(let name):
            request.storage[OperatorKey.self] = name
            return next.respond(to: request)
        case .failure(let refusal):
            return request.eventLoop.makeFailedFuture(refusal)
        }
    }
}

/// Who sends a request, from its `Authorization` header: the one check of the main server's
/// middleware and of the listeners that skip Vapor (``IssuanceListener``).
enum OperatorAuthentication {
    /// The operator named by `Authorization: Bearer <token>`, or the 401 problem to answer.
    static func operatorName(authorization: String?, tokens: OperatorTokens) -> Result<String, Problem> {
        guard let token = bearerToken(authorization) else {
            return .failure(Problem(
                status: .unauthorized, code: "auth.missing-token", detail: "this operation needs an operator token: Authorization: Bearer <token>"))
        }
        guard let name = tokens.operatorName(for: token) else {
            return .failure(Problem(status: .unauthorized, code: "auth.invalid-token", detail: "the operator token is not valid"))
        }
        return .success(name)
    }

    /// The audit log's actor for an operator: `operator:<name>`.
    static func auditActor(operatorName name: String) -> String {
        "operator:\(name)"
    }

    /// The token of a `Bearer` authorization, read as Vapor's `bearerAuthorization` reads it:
    /// two words split on spaces, the first `bearer` in any case.
    static func bearerToken(_ authorization: String?) -> String? {
        guard let parts = authorization?.split(separator: " "), parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }
}

private enum OperatorKey: StorageKey {
    typealias Value = String
}

extension Request {
    /// The authenticated actor for the audit log: `operator:<name>`.
    var auditActor: String {
        storage[OperatorKey.self].map(OperatorAuthentication.auditActor(operatorName:)) ?? "anonymous"
    }
}
