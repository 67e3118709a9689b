import Vapor

/// Echoes the request id (the one the request's logger carries in every line) in the
/// `X-Request-ID` response header, so that a caller can quote it to the help desk.
///
/// An event-loop middleware, like every middleware of OpenCPS: Vapor runs each
/// `AsyncMiddleware` in a task of its own, two thread hops per middleware and request.
public struct RequestIDMiddleware: Middleware {
    /// Creates the middleware.
    public init() {}

    /// Answers with the request id attached.
    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).map { response in
            response.headers.replaceOrAdd(name: "X-Request-ID", value: request.id)
            return response
        }
    }
}
