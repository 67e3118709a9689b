import Foundation
import OpenCPSDomain

extension OpenCPSConfiguration {
    /// e-CPS's settings from the environment: `OPENCPS_ECPS_OUTBOX` and
    /// `OPENCPS_ECPS_DEVICE_VALIDITY_MONTHS` and
    /// `OPENCPS_ECPS_CERTIFICATE_HOURS`; the rest keep ``ECPSSettings``'s defaults.
    static func ecpsSettings(environment: [String: String], dataDirectory: URL) throws(ConfigurationError) -> ECPSSettings {
        var settings = ECPSSettings()
        if let path = environment["OPENCPS_ECPS_OUTBOX"], !path.isEmpty {
            settings.outbox = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        }
        if let text = environment["OPENCPS_ECPS_DEVICE_VALIDITY_MONTHS"], !text.isEmpty {
            guard let months = Int(text), (1...60).contains(months) else {
                throw ConfigurationError("ecps-device-validity-months", "OPENCPS_ECPS_DEVICE_VALIDITY_MONTHS must be a number from 1 to 60, got '\(text)'")
            }
            settings.deviceValidityMonths = months
        }
        if let text = environment["OPENCPS_ECPS_CERTIFICATE_HOURS"], !text.isEmpty {
            guard let hours = Int(text), (1...168).contains(hours) else {
                throw ConfigurationError("ecps-certificate-hours", "OPENCPS_ECPS_CERTIFICATE_HOURS must be a number from 1 to 168, got '\(text)'")
            }
            settings.deviceCertificateLifetime = TimeInterval(hours * 3600)
        }
        return settings
    }

    /// Where activation messages are written.
    public var ecpsOutbox: URL {
        ecps.outbox ?? dataDirectory.appendingPathComponent("outbox", isDirectory: true).appendingPathComponent("ecps", isDirectory: true)
    }
}
