import Foundation
import Vapor

/// What an operator token may do: one token, one or more roles, so that a leaked issuance token
/// cannot rewrite the registry nor release a hold.
public enum OperatorRole: String, Hashable, Sendable, CaseIterable {
    /// Registry writes: professionals, their registrations, structures.
    case registry
    /// Certificates from a CSR (`POST /api/v1/certificates`, on the main server and the issuance listener), and reads of them.
    case issuance
    /// Revocations, holds and releases of certificates, and reads of them.
    case security
}

/// The operators allowed to write through the API, by bearer token, each with its roles.
///
/// Tokens are compared in constant time (``BearerTokenTable``). Reads of the directory stay public, as the national
/// directory's are.
public struct OperatorTokens: Sendable {
    private let table: BearerTokenTable<Operator>

    /// An operator: its name for the audit log and what its token may do.
    struct Operator: Sendable {
        let name: String
        let roles: Set<OperatorRole>
    }

    /// Creates the set from `token → operator name` pairs, and each token's roles: a token absent from `roles` has
    /// every role (the settings' format before roles, kept readable).
    public init(_ tokens: [String: String], roles: [String: Set<OperatorRole>] = [:]) {
        table = BearerTokenTable(tokens.reduce(into: [:]) { table, entry in
            table[entry.key] = Operator(name: entry.value, roles: roles[entry.key] ?? Set(OperatorRole.allCases))
        })
    }

    /// The operator holding this token, if any.
    public func operatorName(for token: String) -> String? {
        table.holder(of: token)?.name
    }

    /// The operator holding this token and its roles, if any.
    func holder(of token: String) -> Operator? {
        table.holder(of: token)
    }
}

/// Refuses a request without a valid operator bearer token of one of `roles`, and remembers who sent it.
struct OperatorAuthenticationMiddleware: Middleware {
    let tokens: OperatorTokens
    let roles: Set<OperatorRole>

    init(tokens: OperatorTokens, role: OperatorRole) {
        self.tokens = tokens
        self.roles = [role]
    }

    init(tokens: OperatorTokens, roles: Set<OperatorRole>) {
        self.tokens = tokens
        self.roles = roles
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        switch OperatorAuthentication.operatorName(authorization: request.headers.first(name: .authorization), tokens: tokens, roles: roles) {
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
    /// The operator named by `Authorization: Bearer <token>` if its token has one of `roles`, or the problem to
    /// answer: 401 without a valid token, 403 `auth.operator-role` for a token of another role (which names the
    /// roles needed, nothing of the resource).
    static func operatorName(authorization: String?, tokens: OperatorTokens, roles: Set<OperatorRole>) -> Result<String, Problem> {
        guard let token = bearerToken(authorization) else {
            return .failure(Problem(
                status: .unauthorized, code: "auth.missing-token", detail: "this operation needs an operator token: Authorization: Bearer <token>"))
        }
        guard let holder = tokens.holder(of: token) else {
            return .failure(Problem(status: .unauthorized, code: "auth.invalid-token", detail: "the operator token is not valid"))
        }
        guard !holder.roles.isDisjoint(with: roles) else {
            let needed = roles.map(\.rawValue).sorted().joined(separator: " or ")
            return .failure(Problem(
                status: .forbidden, code: "auth.operator-role", detail: "this operation needs an operator token of the \(needed) role"))
        }
        return .success(holder.name)
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
