import OpenCPSPKI
import X509

/// An OCSP request for one certificate of a CA.
enum OCSPRequestBytes {
    static func make(issuer: Certificate, serialHex: String) throws -> [UInt8] {
        try OCSPRequest(certIDs: [OCSPCertID(issuer: issuer, serialNumber: Certificate.SerialNumber(hex: serialHex)!)]).derEncoded()
    }
}
