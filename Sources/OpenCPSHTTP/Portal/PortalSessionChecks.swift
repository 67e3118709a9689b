import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// Reading the portal's session from its cookie and checking a form's CSRF token: the one
/// implementation the professional's pages and the staff pages share, so that a fix to either
/// reaches every page.
extension PortalSessions {
    /// The open session the request's cookie names, if any.
    func session(of request: Request) async throws -> PortalSession? {
        guard let value = request.cookies[PortalController.sessionCookie]?.string, !value.isEmpty else { return nil }
        return try await session(cookie: value)
    }

    /// The open session, or the 401 page inviting to log in.
    func requireSession(of request: Request) async throws -> PortalSession {
        guard let session = try await session(of: request) else {
            throw PortalPageError(status: .unauthorized, title: "Session expirée", text: "Votre session a pris fin. Connectez-vous de nouveau.")
        }
        return session
    }
}

/// The CSRF check of every portal form: the token the form sent must be the session's,
/// compared in constant time.
enum PortalCSRF {
    /// Refuses a form whose token (read from the body by the caller, such as a multipart
    /// upload's part) is missing or wrong, with the 403 page.
    static func check(token: String, _ session: PortalSession) throws {
        let left = Array(token.utf8), right = Array(session.csrfToken.utf8)
        guard left.count == right.count, zip(left, right).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw PortalPageError(
                status: .forbidden, title: "Action refusée",
                text: "Ce formulaire n'est pas valable (jeton de sécurité absent ou périmé). Revenez à votre espace et recommencez.")
        }
    }

    /// Refuses a URL-encoded form whose `csrf` field is missing or wrong (403 page).
    static func check(_ request: Request, _ session: PortalSession) throws {
        try check(token: (try? request.content.get(String.self, at: "csrf")) ?? "", session)
    }
}
