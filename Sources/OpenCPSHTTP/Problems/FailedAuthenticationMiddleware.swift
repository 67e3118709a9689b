import OpenCPSServices
import Vapor

/// Hands every refused credential — an actor or operator token that is not valid, an e-CPS
/// device proof that does not verify — to ``FailedAuthentications`` for the audit log. Runs
/// inside ``ProblemMiddleware``, so it sees the error before it becomes a problem document.
/// A missing credential is not a failed authentication and is not recorded.
public struct FailedAuthenticationMiddleware: AsyncMiddleware {
    private let failures: FailedAuthentications

    /// The problem codes that mean "a credential was presented and refused", by what it was.
    static let kinds: [String: String] = [
        "auth.invalid-token": "bearer-token",
        "ecps.bad-proof": "ecps-device-proof",
    ]

    /// Creates the middleware.
    public init(failures: FailedAuthentications) {
        self.failures = failures
    }

    /// Passes the request on; records a refused credential and rethrows.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let code = ProblemMiddleware.problem(for: error).code
            if let kind = Self.kinds[code] {
                await failures.record(kind: kind, address: request.remoteAddress?.ipAddress ?? "unknown")
            }
            throw error
        }
    }
}
