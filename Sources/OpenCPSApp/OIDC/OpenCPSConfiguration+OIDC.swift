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

/// Where and how the mutual TLS card login listens: its port, and the listener's own
/// certificate chain and key (PEM files), which a browser or `curl --cacert` checks.
public struct CardTLSLoginSettings: Sendable, Equatable {
    /// The port, on the server's address.
    public var port: Int
    /// The listener's certificate chain, leaf first (PEM).
    public var certificateChainFile: URL
    /// The listener's private key (PEM).
    public var privateKeyFile: URL

    /// Creates the settings.
    public init(port: Int, certificateChainFile: URL, privateKeyFile: URL) {
        self.port = port
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }
}

extension OpenCPSConfiguration {
    /// The mutual TLS card login from the environment: `OPENCPS_OIDC_MTLS_PORT` turns it on and
    /// needs `OPENCPS_OIDC_MTLS_CERTIFICATE` and `OPENCPS_OIDC_MTLS_KEY`; off when the port is unset.
    /// - Parameter otherPorts: the ports already taken (main, OCSP, issuance).
    static func cardTLSLoginSettings(environment: [String: String], otherPorts: [Int]) throws(ConfigurationError) -> CardTLSLoginSettings? {
        func text(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let certificate = text("OPENCPS_OIDC_MTLS_CERTIFICATE")
        let key = text("OPENCPS_OIDC_MTLS_KEY")
        guard let portText = text("OPENCPS_OIDC_MTLS_PORT") else {
            if certificate != nil || key != nil {
                throw ConfigurationError("oidc-mtls-port", "OPENCPS_OIDC_MTLS_CERTIFICATE and OPENCPS_OIDC_MTLS_KEY need OPENCPS_OIDC_MTLS_PORT, the port of the mutual TLS login")
            }
            return nil
        }
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw ConfigurationError("oidc-mtls-port", "OPENCPS_OIDC_MTLS_PORT must be a port from 0 to 65535, got '\(portText)'")
        }
        if port != 0, otherPorts.contains(port) {
            throw ConfigurationError("oidc-mtls-port", "OPENCPS_OIDC_MTLS_PORT must differ from the main, OCSP and issuance ports (\(port))")
        }
        guard let certificate, let key else {
            throw ConfigurationError("oidc-mtls-certificate", "the mutual TLS login needs the listener's certificate chain and key: OPENCPS_OIDC_MTLS_CERTIFICATE and OPENCPS_OIDC_MTLS_KEY (PEM files)")
        }
        return CardTLSLoginSettings(port: port, certificateChainFile: URL(fileURLWithPath: certificate), privateKeyFile: URL(fileURLWithPath: key))
    }
}
