import Foundation
import OpenCPSDomain

extension OpenCPSConfiguration {
    /// The OpenID Connect provider's lifetimes from the environment
    /// (`OPENCPS_OIDC_ACCESS_TOKEN_SECONDS`, `OPENCPS_OIDC_REFRESH_TOKEN_SECONDS`,
    /// `OPENCPS_OIDC_SESSION_SECONDS`, `OPENCPS_OIDC_SESSION_IDLE_SECONDS`,
    /// `OPENCPS_OIDC_KEY_ROTATION_SECONDS`); the rest keep ``OIDCSettings``'s defaults.
    static func oidcSettings(environment: [String: String]) throws(ConfigurationError) -> OIDCSettings {
        var settings = OIDCSettings(issuer: "")
        func seconds(_ name: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> TimeInterval? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError("oidc-lifetime", "\(name) must be a number of seconds from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return TimeInterval(value)
        }
        if let value = try seconds("OPENCPS_OIDC_ACCESS_TOKEN_SECONDS", 10...3600) {
            settings.accessTokenLifetime = value
            settings.idTokenLifetime = value
        }
        if let value = try seconds("OPENCPS_OIDC_REFRESH_TOKEN_SECONDS", 60...86_400) { settings.refreshTokenLifetime = value }
        if let value = try seconds("OPENCPS_OIDC_SESSION_SECONDS", 60...86_400) { settings.sessionLifetime = value }
        if let value = try seconds("OPENCPS_OIDC_SESSION_IDLE_SECONDS", 60...86_400) { settings.sessionIdleTimeout = value }
        if let value = try seconds("OPENCPS_OIDC_KEY_ROTATION_SECONDS", 3600...31_536_000) { settings.keyRotationInterval = value }
        return settings
    }
}
