import Vapor

/// Echoes the request id (the one the request's logger carries in every line) in the
/// `X-Request-ID` response header, so that a caller can quote it to the help desk.
public struct RequestIDMiddleware: AsyncMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Answers with the request id attached.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "X-Request-ID", value: request.id)
        return response
    }
}
