import Foundation
import OpenCPSPersistence
import Testing

/// Issuance requests as the API's clients send them: a fresh OpenSSL key, its CSR, and the
/// fields of `POST /api/v1/certificates` for the demo holder (Dr Claire Lambert).
enum TestIssuance {
    /// Makes a key and its PEM certificate request in `folder` with `openssl req`; `newKey` are
    /// its key options (`["rsa:2048"]`, `["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]`).
    static func csr(in folder: URL, name: String, newKey: [String]) throws -> String {
        let key = folder.appendingPathComponent("\(name).key").path
        let csr = folder.appendingPathComponent("\(name).csr").path
        let made = try ExternalTool.run("openssl", ["req", "-new", "-newkey"] + newKey + ["-nodes", "-keyout", key, "-subj", "/CN=ignored", "-out", csr])
        try #require(made.status == 0, "\(made.output)")
        return try String(contentsOfFile: csr, encoding: .utf8)
    }

    /// The request's JSON fields for `csr`.
    static func fields(csr: String, profile: String = "authentication", cardSerialNumber: String = "1000000001") -> [String: Any] {
        [
            "profile": profile, "csr": csr, "givenName": "CLAIRE", "surname": "LAMBERT", "idNat": "810099990011",
            "professionTitle": "Médecin",
            "cardSerialNumber": cardSerialNumber,
        ]
    }

    /// A certificate's record as the group commit stores it (a stand-in DER), issued at `testNow`.
    static func storedCertificate(serial: String, subject: String = "CN=Dr Élise Ñúñez", idNat: String? = "810100271385") -> StoredCertificate {
        StoredCertificate(
            issuer: "forte-personnes", serial: serial, profile: "authentication", subject: subject, idNat: idNat, cardSerial: nil,
            notBefore: testNow, notAfter: testNow.addingTimeInterval(86_400), issuedAt: testNow, der: [0x30, 0x03, 0x02, 0x01, 0x01])
    }
}
