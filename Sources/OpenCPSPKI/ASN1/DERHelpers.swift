import SwiftASN1
import X509

/// Small DER building blocks shared by the CRL and OCSP encoders.
enum DERHelpers {
    /// Serializes one value to DER bytes.
    static func encode(_ value: some DERSerializable) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.serialize(value)
        return coder.serializedBytes
    }

    /// Serializes with a closure to DER bytes.
    static func encode(_ body: (inout DER.Serializer) throws -> Void) rethrows -> [UInt8] {
        var coder = DER.Serializer()
        try body(&coder)
        return coder.serializedBytes
    }

    /// Appends an AlgorithmIdentifier `{ algorithm, parameters }`; `nullParameters` writes an explicit NULL.
    static func serializeAlgorithmIdentifier(_ oid: ASN1ObjectIdentifier, nullParameters: Bool,
                                             into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(oid)
            if nullParameters { try coder.serialize(ASN1Null()) }
        }
    }

    /// Parses an AlgorithmIdentifier, returning its OID and ignoring NULL or absent parameters.
    static func parseAlgorithmIdentifier(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            while nodes.next() != nil {}
            return oid
        }
    }

    /// Serializes `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension`.
    static func serializeExtensions(_ extensions: [Certificate.Extension], into coder: inout DER.Serializer) throws {
        try coder.serializeSequenceOf(extensions)
    }

    /// Parses `Extensions`.
    static func parseExtensions(_ node: ASN1Node) throws -> [Certificate.Extension] {
        try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: node)
    }

    /// Strips leading zero bytes that DER would not keep, leaving at least one byte.
    static func minimalUnsigned(_ bytes: [UInt8]) -> [UInt8] {
        var slice = bytes[...]
        while slice.count > 1, slice.first == 0 { slice = slice.dropFirst() }
        return Array(slice)
    }

    /// Lowercase hexadecimal.
    static func hex(_ bytes: some Collection<UInt8>) -> String {
        // Written into the string's own storage: a string per byte, joined, cost more than the
        // rest of recording an issued certificate.
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            var index = 0
            for byte in bytes {
                buffer[index] = digits.utf8Start[Int(byte >> 4)]
                buffer[index + 1] = digits.utf8Start[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }
}

extension Certificate.SignatureAlgorithm {
    /// The two signature algorithms this PKI produces, from their OIDs.
    init?(knownOID oid: ASN1ObjectIdentifier) {
        switch oid {
        case PKIObjectIdentifiers.sha256WithRSAEncryption: self = .sha256WithRSAEncryption
        case PKIObjectIdentifiers.ecdsaWithSHA256: self = .ecdsaWithSHA256
        default: return nil
        }
    }
}
