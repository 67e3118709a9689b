import SwiftASN1
import X509

/// Encoders for the certificate extensions swift-certificates has no type for.
enum X509ExtensionEncoders {
    /// certificatePolicies: `SEQUENCE OF PolicyInformation { policyIdentifier }` without qualifiers.
    static func certificatePolicies(_ policies: [ASN1ObjectIdentifier]) throws -> Certificate.Extension {
        let value = try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                for policy in policies {
                    try coder.appendConstructedNode(identifier: .sequence) { coder in try coder.serialize(policy) }
                }
            }
        }
        return Certificate.Extension(oid: PKIObjectIdentifiers.certificatePolicies, critical: false, value: value[...])
    }

    /// The shared body of cRLDistributionPoints and freshestCRL: one DistributionPoint with a fullName URI.
    static func distributionPoints(_ uri: String) throws -> [UInt8] {
        try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try serializeDistributionPointName(uri, into: &coder)
                }
            }
        }
    }

    /// `distributionPoint [0] DistributionPointName` with `fullName [0] GeneralNames` holding one URI.
    static func serializeDistributionPointName(_ uri: String, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
            try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                try coder.serialize(GeneralName.uniformResourceIdentifier(uri))
            }
        }
    }

    /// cRLDistributionPoints with one URI.
    static func crlDistributionPoints(_ uri: String) throws -> Certificate.Extension {
        Certificate.Extension(oid: PKIObjectIdentifiers.crlDistributionPoints, critical: false,
                              value: try distributionPoints(uri)[...])
    }

    /// freshestCRL (delta CRL location) with one URI.
    static func freshestCRL(_ uri: String) throws -> Certificate.Extension {
        Certificate.Extension(oid: PKIObjectIdentifiers.freshestCRL, critical: false, value: try distributionPoints(uri)[...])
    }

    /// id-pkix-ocsp-nocheck, whose value is NULL.
    static func ocspNoCheck() throws -> Certificate.Extension {
        Certificate.Extension(oid: PKIObjectIdentifiers.ocspNoCheck, critical: false, value: try DERHelpers.encode(ASN1Null())[...])
    }

    /// The CPS card-type extension, an INTEGER.
    static func cardType(_ code: Int) throws -> Certificate.Extension {
        Certificate.Extension(oid: PKIObjectIdentifiers.cpsCardType, critical: false, value: try DERHelpers.encode(code)[...])
    }

    /// The CPS "issuerId/cardSerial" extension, an IA5String.
    static func cardIssuerAndSerial(_ value: String) throws -> Certificate.Extension {
        Certificate.Extension(oid: PKIObjectIdentifiers.cpsCardIssuerAndSerial, critical: false,
                              value: try DERHelpers.encode(ASN1IA5String(value))[...])
    }

    /// authorityInformationAccess with an optional OCSP URL and a caIssuers URL.
    static func authorityInformationAccess(ocsp: String?, caIssuers: String) throws -> Certificate.Extension {
        var descriptions: [AuthorityInformationAccess.AccessDescription] = []
        if let ocsp {
            descriptions.append(.init(method: .ocspServer, location: .uniformResourceIdentifier(ocsp)))
        }
        descriptions.append(.init(method: .issuingCA, location: .uniformResourceIdentifier(caIssuers)))
        return try Certificate.Extension(AuthorityInformationAccess(descriptions), critical: false)
    }

    /// The RFC 5280 method-1 key identifier: SHA-1 of the subjectPublicKey BIT STRING contents.
    static func keyIdentifier(_ key: Certificate.PublicKey) -> [UInt8] {
        Array(SubjectKeyIdentifier(hash: key).keyIdentifier)
    }
}
