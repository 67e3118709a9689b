import Foundation
import Testing

/// A self-signed certificate with a card-like subject, made by openssl: from a CA that is not ours.
struct OIDCStrangerCertificate {
    let pem: String
    /// The certificate and its private key as files (for `curl --cert --key`).
    let certificateFile: URL
    let keyFile: URL

    init() throws {
        let folder = try ExternalTool.temporaryFolder("oidc-stranger")
        let result = try ExternalTool.run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/C=FR/CN=810100271385 Stranger", "-keyout", folder.appendingPathComponent("key.pem").path,
            "-out", folder.appendingPathComponent("cert.pem").path,
        ])
        try #require(result.status == 0, "\(result.output)")
        certificateFile = folder.appendingPathComponent("cert.pem")
        keyFile = folder.appendingPathComponent("key.pem")
        pem = try String(contentsOf: certificateFile, encoding: .utf8)
    }
}
