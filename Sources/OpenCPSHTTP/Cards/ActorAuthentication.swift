import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// Who may act on cards, by bearer token: holders, professional orders, regional agencies,
/// establishment managers, the help desk and the agency's operators.
///
/// Until professionals log in through the OpenID Connect provider, each actor gets a token
/// from the configuration (`OPENCPS_ACTOR_TOKENS`), compared in constant time.
public struct ActorTokens: Sendable {
    private let table: BearerTokenTable<CardActor>

    /// Creates the set from `token → actor` pairs.
    public init(_ tokens: [String: CardActor]) {
        table = BearerTokenTable(tokens)
    }

    /// The actor holding this token, if any.
    public func actor(for token: String) -> CardActor? {
        table.holder(of: token)
    }
}

/// Refuses a request without a valid actor token and remembers the actor.
struct ActorAuthenticationMiddleware: Middleware {
    let tokens: ActorTokens

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard let bearer = request.headers.bearerAuthorization else {
            return request.eventLoop.makeFailedFuture(Problem(
                status: .unauthorized, code: "auth.missing-token", detail: "this operation needs a token: Authorization: Bearer <token>"))
        }
        guard let actor = tokens.actor(for: bearer.token) else {
            return request.eventLoop.makeFailedFuture(Problem(status: .unauthorized, code: "auth.invalid-token", detail: "the token is not valid"))
        }
        request.storage[ActorKey.self] = actor
        return next.respond(to: request)
    }
}

private enum ActorKey: StorageKey {
    typealias Value = CardActor
}

extension Request {
    /// The authenticated card actor.
    var cardActor: CardActor {
        get throws {
            guard let actor = storage[ActorKey.self] else {
                throw Problem(status: .unauthorized, code: "auth.missing-token", detail: "no authenticated actor")
            }
            return actor
        }
    }
}
