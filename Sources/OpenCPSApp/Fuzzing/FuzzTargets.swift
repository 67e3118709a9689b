import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSPKI
import SwiftASN1
import X509

/// A parser that the network or a file reaches, with the seeds its inputs grow from.
struct FuzzTarget: Sendable {
    /// The name `opencps bench fuzz --target` takes.
    let name: String
    /// What it parses, for the report.
    let summary: String
    /// Valid inputs to mutate.
    let seeds: [[UInt8]]
    /// Tokens that mean something to the parser, inserted by the mutator.
    let dictionary: [[UInt8]]
    /// Parses one input and says what became of it.
    let probe: @Sendable ([UInt8]) -> ParserVerdict
}

extension FuzzTarget {
    /// Every hand-written (or hand-wired) parser reachable from the network or a file (issue 21).
    static func all() throws -> [FuzzTarget] {
        let ocspRequests = try sampleOCSPRequests()
        return [
            FuzzTarget(
                name: "json", summary: "the issuance body's JSON reader (FlatJSON)",
                seeds: jsonSeeds, dictionary: ["{", "}", "[", "]", "\"", "\\u00e9", "\\ud83d", ":", ",", "null", "true", "1e999", "-0", "\"idNat\""].map(bytes),
                probe: ParserProbe.flatJSON),
            FuzzTarget(
                name: "ocsp-der", summary: "OCSP requests, DER (POST body)",
                seeds: ocspRequests, dictionary: [[0x30, 0x80], [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], [0xA0, 0x00], [0xA2, 0x03], [0x02, 0x00], [0x04, 0x00], [0x06, 0x00]],
                probe: { input in ParserProbe.verdict { _ = try OCSPRequest(derEncoded: input) } }),
            FuzzTarget(
                name: "ocsp-get", summary: "OCSP requests, GET path form (percent-encoded base64)",
                seeds: ocspRequests.map { bytes(percentEncodedBase64($0)) }, dictionary: ["%2B", "%2F", "%3D", "%", "%%", "=", "/", "+", "%ZZ"].map(bytes),
                probe: { input in
                    ParserProbe.verdict {
                        guard let der = OCSPRequest.derFromGETPathComponent(String(decoding: input, as: UTF8.self)) else {
                            throw PKIError.malformed("OCSP request", "the GET path is not base64")
                        }
                        _ = try OCSPRequest(derEncoded: der)
                    }
                }),
            FuzzTarget(
                name: "csr", summary: "PKCS #10 certificate signing requests (PEM or DER)",
                seeds: try sampleCSRs(), dictionary: [bytes("-----BEGIN CERTIFICATE REQUEST-----\n"), bytes("-----END CERTIFICATE REQUEST-----\n"), [0x30, 0x82], [0x03, 0x42, 0x00]],
                probe: { input in ParserProbe.verdict { _ = try VerifiedRequestKey(csr: input) } }),
            FuzzTarget(
                name: "listener", summary: "raw bytes on the OCSP and issuance listeners' connections (HTTP/1.1)",
                seeds: listenerSeeds(ocspRequests), dictionary: ["\r\n", "\r\n\r\n", "Content-Length: ", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", " HTTP/1.1", "Connection: close\r\n", "Expect: 100-continue\r\n"].map(bytes),
                probe: { ParserProbe.listenerBytes($0) }),
            FuzzTarget(
                name: "multipart", summary: "a card file's document upload (multipart/form-data)",
                seeds: multipartSeeds, dictionary: ["--X", "--X--", "\r\n", "Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n", "Content-Type: application/pdf\r\n", "name=\"kind\""].map(bytes),
                probe: { ParserProbe.documentUpload($0, boundary: "X") }),
            FuzzTarget(
                name: "extraction", summary: "directory extraction files (header and activity lines)",
                seeds: extractionSeeds, dictionary: ["|", "\n", "\r\n", "\u{FEFF}", "810002345678", "0000000000", "RPPS", "ADELI", "\u{E9}"].map(bytes),
                probe: readExtraction),
        ]
    }

    private static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private static let jsonSeeds: [[UInt8]] = [
        #"{"idNat":"810002345678","givenName":"Marie","surname":"Durand","professionTitle":"Médecin","csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"}"#,
        #"{"idNat":"810002345678","structureName":null,"structureId":"0751234567","cardType":0,"keyUsage":"authentication"}"#,
        #" { "a" : [1, 2.5e-3, {"b": [true, false, null]}], "c": "\u00e9\n\t\\" } "#,
        #"{"n":-12345678901234567890,"s":"\ud83d\ude00","e":{}}"#,
        "{}",
    ].map(bytes)

    private static let multipartSeeds: [[UInt8]] = [
        "--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nidentity\r\n--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"id.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 data\r\n--X--\r\n",
        "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.png\"\r\nContent-Type: image/png\r\n\r\n\u{89}PNG\r\n--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ndiploma_or_register_entry\r\n--X--\r\n",
        "preamble\r\n--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pi\u{E8}ce \\\"1\\\".pdf\"\r\n\r\n\r\n--X\r\nContent-Disposition: form-data; name=kind\r\n\r\nproof_of_address\r\n--X--\r\nepilogue",
    ].map(bytes)

    private static let extractionSeeds: [[UInt8]] = [
        bytes(ExtractionHeader.standardLine + "\n") + ExtractionGenerator(seed: 21).bytes(rows: 3),
        bytes(ExtractionHeader.standardLine + "\r\n") + ExtractionGenerator(seed: 42).bytes(rows: 1),
    ]

    /// Reads an extraction file from memory as the importer reads a file: its header, then each line.
    private static func readExtraction(_ input: [UInt8]) -> ParserVerdict {
        ParserProbe.verdict {
            let reader = ExtractionLineReader(bytes: input)
            guard let headerLine = try reader.nextLine() else { return }
            let row = ExtractionRow(header: try ExtractionHeader(bytes: headerLine.bytes))
            while let line = try reader.nextLine() {
                do {
                    _ = try row.record(from: line)
                } catch {
                    // The importer reports a refused line and goes on: only its wording matters.
                    if case .unclear = ParserProbe.verdict({ throw error }) { throw error }
                }
            }
        }
    }

    /// OCSP requests for a throw-away issuer: one serial, several serials, with a nonce.
    private static func sampleOCSPRequests() throws -> [[UInt8]] {
        let key = try P256.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))
        let name = try DistinguishedName { CommonName("Fuzz CA") }
        let issuer = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: Date(timeIntervalSince1970: 0),
            notValidAfter: Date(timeIntervalSince1970: 4_000_000_000), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: Certificate.Extensions(), issuerPrivateKey: .init(key))
        let ids = try [[0x01], [0x00, 0xFF, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80], Array(repeating: 0x42, count: 20)].map {
            try OCSPCertID(issuer: issuer, serialNumber: Certificate.SerialNumber(bytes: $0))
        }
        return try [
            OCSPRequest(certIDs: [ids[0]]).derEncoded(),
            OCSPRequest(certIDs: ids).derEncoded(),
            OCSPRequest(certIDs: [ids[1]], nonce: Array(repeating: 0xA5, count: 16)).derEncoded(),
        ]
    }

    /// PKCS #10 requests, DER and PEM, signed by a P-256 key.
    private static func sampleCSRs() throws -> [[UInt8]] {
        let key = try P256.Signing.PrivateKey(rawRepresentation: Data(repeating: 9, count: 32))
        let request = try CertificateSigningRequest(
            version: .v1, subject: DistinguishedName { CommonName("fuzz") }, privateKey: .init(key), attributes: CertificateSigningRequest.Attributes(),
            signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        let der = serializer.serializedBytes
        return [der, bytes(try request.serializeAsPEM().pemString + "\n")]
    }

    /// Requests as a client writes them to a listener: OCSP POST and GET, issuance, pipelined, chunked.
    private static func listenerSeeds(_ ocsp: [[UInt8]]) -> [[UInt8]] {
        let body = ocsp[0]
        let post = bytes("POST /ocsp/forte-personnes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: \(body.count)\r\n\r\n") + body
        let get = bytes("GET /ocsp/forte-personnes/\(percentEncodedBase64(body)) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let json = bytes(#"{"idNat":"810002345678"}"#)
        let issuance = bytes("POST /api/v1/certificates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: \(json.count)\r\n\r\n") + json
        let chunked = bytes("POST /ocsp/forte-personnes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(String(body.count, radix: 16))\r\n") + body + bytes("\r\n0\r\n\r\n")
        return [post, get, issuance, chunked, get + post]
    }

    private static func percentEncodedBase64(_ der: [UInt8]) -> String {
        Data(der).base64EncodedString().replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "=", with: "%3D")
    }
}
