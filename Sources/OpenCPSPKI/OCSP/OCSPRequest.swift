import Foundation
import SwiftASN1
import X509

/// An RFC 6960 OCSPRequest: the list of CertIDs and the request extensions (nonce).
///
/// A request signature (`optionalSignature`) and a requestor name are read and ignored:
/// this responder answers anyone.
public struct OCSPRequest: Sendable, Hashable {
    /// One `Request` of the list.
    public struct SingleRequest: Sendable, Hashable {
        /// The certificate asked about.
        public var certID: OCSPCertID
        /// singleRequestExtensions, if any (ignored by the responder).
        public var extensions: [Certificate.Extension]

        /// Creates a single request.
        public init(certID: OCSPCertID, extensions: [Certificate.Extension] = []) {
            self.certID = certID
            self.extensions = extensions
        }
    }

    /// The requests, in order.
    public var requests: [SingleRequest]
    /// requestExtensions (e.g. the nonce), in order.
    public var extensions: [Certificate.Extension]
    /// Whether the request carried a requestorName.
    public var hasRequestorName: Bool
    /// Whether the request was signed (the signature is not checked).
    public var isSigned: Bool

    /// Creates a request.
    /// - Parameters:
    ///   - certIDs: The certificates to ask about.
    ///   - nonce: A nonce (1 to 32 bytes per RFC 8954), written as an OCTET STRING in the nonce extension.
    public init(certIDs: [OCSPCertID], nonce: [UInt8]? = nil) throws {
        self.requests = certIDs.map { SingleRequest(certID: $0) }
        self.extensions = []
        self.hasRequestorName = false
        self.isSigned = false
        if let nonce {
            extensions.append(Certificate.Extension(oid: PKIObjectIdentifiers.ocspNonce, critical: false,
                                                    value: try DERHelpers.encode(ASN1OctetString(contentBytes: nonce[...]))[...]))
        }
    }

    /// The nonce extension, if present (echoed as is in the response).
    public var nonceExtension: Certificate.Extension? {
        extensions.first { $0.oid == PKIObjectIdentifiers.ocspNonce }
    }

    /// The nonce bytes: the OCTET STRING inside the extension value (or the raw value if it is not one).
    public var nonce: [UInt8]? {
        guard let value = nonceExtension?.value else { return nil }
        if let octets = try? ASN1OctetString(derEncoded: value) { return Array(octets.bytes) }
        return Array(value)
    }

    /// Decodes DER.
    /// - Parameter der: The request.
    public init(derEncoded der: [UInt8]) throws {
        do {
            let root = try DER.parse(der)
            var requests: [SingleRequest] = []
            var extensions: [Certificate.Extension] = []
            var hasRequestorName = false
            var isSigned = false
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbs = nodes.next() else { throw PKIError.malformed("OCSP request", "no TBSRequest") }
                try DER.sequence(tbs, identifier: .sequence) { nodes in
                    let version = try DER.decodeDefaultExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific, defaultValue: 0)
                    guard version == 0 else { throw PKIError.malformed("OCSP request", "unsupported version") }
                    if try DER.optionalExplicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific, { $0 }) != nil {
                        hasRequestorName = true
                    }
                    guard let list = nodes.next() else { throw PKIError.malformed("OCSP request", "no requestList") }
                    requests = try DER.sequence(of: RawSingleRequest.self, identifier: .sequence, rootNode: list).map(\.value)
                    extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 2, tagClass: .contextSpecific) {
                        try DERHelpers.parseExtensions($0)
                    } ?? []
                    if nodes.next() != nil { throw PKIError.malformed("OCSP request", "trailing fields in TBSRequest") }
                }
                if try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific, { $0 }) != nil {
                    isSigned = true
                }
                if nodes.next() != nil { throw PKIError.malformed("OCSP request", "trailing fields") }
            }
            guard !requests.isEmpty else { throw PKIError.malformed("OCSP request", "empty requestList") }
            self.requests = requests
            self.extensions = extensions
            self.hasRequestorName = hasRequestorName
            self.isSigned = isSigned
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.malformed("OCSP request", String(describing: error))
        }
    }

    /// Encodes an unsigned request (version omitted as DEFAULT v1, no requestor name).
    /// - Returns: DER bytes.
    public func derEncoded() throws -> [UInt8] {
        try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        for request in requests {
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(request.certID)
                                if !request.extensions.isEmpty {
                                    try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                                        try DERHelpers.serializeExtensions(request.extensions, into: &coder)
                                    }
                                }
                            }
                        }
                    }
                    if !extensions.isEmpty {
                        try coder.serialize(explicitlyTaggedWithTagNumber: 2, tagClass: .contextSpecific) { coder in
                            try DERHelpers.serializeExtensions(extensions, into: &coder)
                        }
                    }
                }
            }
        }
    }

    /// Decodes the request of an RFC 5019 / RFC 6960 GET: the path segment after `/ocsp/<ca>/`,
    /// percent-encoded base64 of the DER.
    /// - Parameter pathComponent: The raw path segment (URL-decoding is done here).
    /// - Returns: The DER bytes, or `nil` if it is not base64.
    public static func derFromGETPathComponent(_ pathComponent: String) -> [UInt8]? {
        // Byte by byte, into one array: this runs on every GET, and Foundation's string and
        // base64 methods (four copies of the request) cost more than the rest of the answer.
        // After the URL decoding it reads what the former path through `Data(base64Encoded:)`
        // read (`-` and `_` for `+` and `/`, the final padding optional), except `=` anywhere
        // but at the end of the last group, which Foundation let through; a test holds it to both.
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        func sextet(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): 63
            default: nil
            }
        }
        var pathComponent = pathComponent
        return pathComponent.withUTF8 { input -> [UInt8]? in
            var der: [UInt8] = []
            der.reserveCapacity(input.count * 3 / 4)
            var accumulator: UInt32 = 0
            var sextets = 0
            var padding = 0
            var index = 0
            while index < input.count {
                var byte = input[index]
                if byte == UInt8(ascii: "%"), index + 2 < input.count, let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                    byte = high << 4 | low
                    index += 2
                }
                index += 1
                if byte == UInt8(ascii: "=") {
                    padding += 1
                    continue
                }
                // Nothing but padding after padding.
                guard padding == 0, let value = sextet(byte) else { return nil }
                accumulator = accumulator << 6 | value
                sextets += 1
                if sextets == 4 {
                    der.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                    der.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                    der.append(UInt8(truncatingIfNeeded: accumulator))
                    accumulator = 0
                    sextets = 0
                }
            }
            // The last group: two or three characters, padded to four (or not padded at all).
            switch (sextets, padding) {
            case (0, 0):
                break
            case (2, 0), (2, 1), (2, 2):
                der.append(UInt8(truncatingIfNeeded: accumulator >> 4))
            case (3, 0), (3, 1):
                der.append(UInt8(truncatingIfNeeded: accumulator >> 10))
                der.append(UInt8(truncatingIfNeeded: accumulator >> 2))
            default:
                return nil
            }
            return der
        }
    }

    private struct RawSingleRequest: DERParseable {
        let value: SingleRequest
        init(derEncoded node: ASN1Node) throws {
            value = try DER.sequence(node, identifier: .sequence) { nodes in
                let certID = try OCSPCertID(derEncoded: &nodes)
                let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                    try DERHelpers.parseExtensions($0)
                } ?? []
                return SingleRequest(certID: certID, extensions: extensions)
            }
        }
    }
}
