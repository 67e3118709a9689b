import Foundation
import OpenCPSServices

extension OpenCPSConfiguration {
    /// The portal's settings from the environment: `OPENCPS_PORTAL_SECURE_COOKIE=false` turns
    /// the cookies' `Secure` flag off, which only a server whose public URL is
    /// `http://127.0.0.1` or `http://localhost` accepts (browser tests over plain HTTP).
    static func portalSettings(environment: [String: String], publicBaseURL: String) throws(ConfigurationError) -> PortalSettings {
        var settings = PortalSettings()
        guard let text = environment["OPENCPS_PORTAL_SECURE_COOKIE"], !text.isEmpty else { return settings }
        switch text.lowercased() {
        case "true", "1", "yes":
            settings.secureCookies = true
        case "false", "0", "no":
            guard publicBaseURL.hasPrefix("http://127.0.0.1") || publicBaseURL.hasPrefix("http://localhost") else {
                throw ConfigurationError(
                    "portal-secure-cookie", "OPENCPS_PORTAL_SECURE_COOKIE=false is only for a server at http://127.0.0.1 or http://localhost, not \(publicBaseURL)")
            }
            settings.secureCookies = false
        default:
            throw ConfigurationError("portal-secure-cookie", "OPENCPS_PORTAL_SECURE_COOKIE is true or false, got '\(text)'")
        }
        return settings
    }

    /// The file holding the portal's client secret at its provider (made on first start, 0600).
    public var portalClientSecretFile: URL { dataDirectory.appendingPathComponent("portal-client-secret") }
}
