import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// Staff in the portal tests: roles given through the staff directory (as `opencps staff add`
/// does), and a portal session opened by the sessions service, as the provider's login ends
/// (the login itself is PortalTests' subject).
enum StaffLogin {
    static func directory(_ app: Application) -> StaffDirectory {
        StaffDirectory(database: ServiceDatabase { app.db }, clock: SystemWallClock())
    }

    /// A browser logged in as `idNat`, with the given table roles.
    static func browser(_ app: Application, _ idNat: String, clock: any WallClock, roles: [CardActor] = []) async throws -> PortalBrowser {
        let person = try IdNat(idNat)
        for role in roles { try await directory(app).add(person, role: role, actor: "operator:test") }
        let sessions = PortalSessions(database: ServiceDatabase { app.db }, clock: clock, random: .system, settings: PortalSettings())
        let (cookie, _) = try await sessions.open(idNat: person, idToken: "not-used-by-staff-pages", address: "127.0.0.1")
        var browser = PortalBrowser(app: app)
        browser.cookies["opencps_portal"] = cookie
        return browser
    }
}
