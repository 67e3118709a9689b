import Foundation
import Testing

/// A self-signed certificate with a card-like subject, made by openssl: from a CA that is not ours.
struct OIDCStrangerCertificate {
    let pem: String

    init() throws {
        let folder = try ExternalTool.temporaryFolder("oidc-stranger")
        let result = try ExternalTool.run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/C=FR/CN=810100271385 Stranger", "-keyout", folder.appendingPathComponent("key.pem").path,
            "-out", folder.appendingPathComponent("cert.pem").path,
        ])
        try #require(result.status == 0, "\(result.output)")
        pem = try String(contentsOf: folder.appendingPathComponent("cert.pem"), encoding: .utf8)
    }
}
