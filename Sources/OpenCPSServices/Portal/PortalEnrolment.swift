import Foundation
import OpenCPSDomain

extension ECPSDevices {
    /// A one-time QR enrolment code (90 seconds, one use) for the holder of a portal session.
    ///
    /// The e-CPS rules (DESIGN.md §4) enrol a phone "with the card" or with the registered
    /// contact details: a browser session stands in for the card only when it was itself
    /// opened with the card or with an e-CPS device already enrolled with it. The session's
    /// ID token, checked at login, says how (`amr`); anything else is refused, and the code is
    /// made by the same service as the card-authenticated API's, which also asks for an
    /// active card and audits the start as the holder.
    /// - Throws: `ecps.session-not-strong` when the session was not opened with the card or an
    ///   e-CPS device; what ``startCardEnrolment(holder:)`` throws (`ecps.no-active-card`).
    public func startPortalEnrolment(session: PortalSession) async throws -> ECPSEnrolmentOffer {
        let methods = Self.authenticationMethods(idToken: session.idToken)
        guard methods.contains("card") || methods.contains("ecps") else {
            throw ECPSRuleError(
                code: "ecps.session-not-strong",
                reason: "a device is enrolled from a session opened with the card or an enrolled e-CPS device")
        }
        return try await startCardEnrolment(holder: session.idNat)
    }

    /// The `amr` of an ID token the portal verified at login (read, not verified again: it
    /// comes from the session's own row, never from the browser).
    static func authenticationMethods(idToken: String) -> [String] {
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]),
              let claims = try? JSONDecoder().decode([String: JSONValue].self, from: Data(payload)),
              case .array(let values) = claims["amr"] else { return [] }
        return values.compactMap(\.string)
    }
}
