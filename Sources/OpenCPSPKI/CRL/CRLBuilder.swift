import Foundation
import SwiftASN1
import X509

/// Builds and signs RFC 5280 CRLs (v2) for one authority (an issuing CA, or the root for the
/// CRL that covers the issuing CA certificates).
///
/// Full CRLs carry authorityKeyIdentifier, cRLNumber and, when given, freshestCRL (where the
/// delta is) and issuingDistributionPoint. Delta CRLs add a critical deltaCRLIndicator with the
/// base CRL number. Entries carry reasonCode unless the reason is unspecified. Times are UTCTime
/// until 2049 and GeneralizedTime after, as RFC 5280 requires.
public struct CRLBuilder: Sendable {
    /// The authority whose revocations the CRL lists (and which signs it).
    public let issuer: AuthorityCertificate
    /// The authority's private key.
    public let signingKey: any PKISigningKey

    /// Creates a builder.
    /// - Parameters:
    ///   - issuer: The CA certificate.
    ///   - signingKey: Its key.
    public init(issuer: AuthorityCertificate, signingKey: any PKISigningKey) throws {
        guard signingKey.publicKey == issuer.certificate.publicKey else {
            throw PKIError.invalidConfiguration("The signing key does not belong to '\(issuer.slug)'.")
        }
        self.issuer = issuer
        self.signingKey = signingKey
    }

    /// Builds a signed full CRL.
    /// - Parameters:
    ///   - entries: The revoked and held certificates (see `RevocationRecord.fullCRLEntries`).
    ///   - crlNumber: A number that grows with every CRL of this issuer (full and delta share the sequence).
    ///   - thisUpdate: Issue time.
    ///   - nextUpdate: When the next CRL will be out at the latest.
    ///   - freshestCRLURL: The delta CRL's URL, written as a freshestCRL extension when given.
    ///   - issuingDistributionPointURL: Written as a critical issuingDistributionPoint when given;
    ///     leave `nil` unless every certificate covered names this URL in its CRL distribution point.
    /// - Returns: The CRL, DER-encoded.
    public func fullCRL(entries: [CRLEntry], crlNumber: Int, thisUpdate: Date, nextUpdate: Date,
                        freshestCRLURL: String? = nil, issuingDistributionPointURL: String? = nil) throws -> [UInt8] {
        guard !entries.contains(where: { $0.reason == .removeFromCRL }) else {
            throw PKIError.invalidCRL("removeFromCRL entries belong in delta CRLs only.")
        }
        var extensions: [Certificate.Extension] = []
        if let freshestCRLURL { extensions.append(try X509ExtensionEncoders.freshestCRL(freshestCRLURL)) }
        return try build(entries: entries, crlNumber: crlNumber, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
                         extra: extensions, idp: issuingDistributionPointURL)
    }

    /// Builds a signed delta CRL.
    /// - Parameters:
    ///   - entries: Changes since the base (see `RevocationRecord.deltaCRLEntries`), including
    ///     `removeFromCRL` for released holds.
    ///   - crlNumber: This CRL's number (greater than the base's).
    ///   - baseCRLNumber: The number of the full CRL this delta applies to.
    ///   - thisUpdate: Issue time.
    ///   - nextUpdate: Next delta at the latest.
    ///   - issuingDistributionPointURL: As for `fullCRL`; must match the base's.
    /// - Returns: The CRL, DER-encoded.
    public func deltaCRL(entries: [CRLEntry], crlNumber: Int, baseCRLNumber: Int, thisUpdate: Date, nextUpdate: Date,
                         issuingDistributionPointURL: String? = nil) throws -> [UInt8] {
        guard baseCRLNumber >= 0, crlNumber > baseCRLNumber else {
            throw PKIError.invalidCRL("A delta CRL's number must be greater than its base CRL number.")
        }
        let indicator = Certificate.Extension(oid: PKIObjectIdentifiers.deltaCRLIndicator, critical: true,
                                              value: try DERHelpers.encode(baseCRLNumber)[...])
        return try build(entries: entries, crlNumber: crlNumber, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
                         extra: [indicator], idp: issuingDistributionPointURL)
    }

    private func build(entries: [CRLEntry], crlNumber: Int, thisUpdate: Date, nextUpdate: Date,
                       extra: [Certificate.Extension], idp: String?) throws -> [UInt8] {
        guard crlNumber >= 0 else { throw PKIError.invalidCRL("CRL numbers are non-negative.") }
        guard thisUpdate < nextUpdate else { throw PKIError.invalidCRL("nextUpdate must be after thisUpdate.") }
        var extensions: [Certificate.Extension] = [
            try Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: issuer.keyIdentifier[...]), critical: false),
            Certificate.Extension(oid: PKIObjectIdentifiers.crlNumber, critical: false, value: try DERHelpers.encode(crlNumber)[...]),
        ]
        extensions.append(contentsOf: extra)
        if let idp {
            let value = try DERHelpers.encode { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try X509ExtensionEncoders.serializeDistributionPointName(idp, into: &coder)
                }
            }
            extensions.append(Certificate.Extension(oid: PKIObjectIdentifiers.issuingDistributionPoint, critical: true, value: value[...]))
        }
        let sorted = entries.sorted { $0.serialNumber.hex < $1.serialNumber.hex }
        let isRSA = signingKey.algorithm.isRSA
        let signatureOID = isRSA ? PKIObjectIdentifiers.sha256WithRSAEncryption : PKIObjectIdentifiers.ecdsaWithSHA256

        let tbs = try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1) // v2
                try DERHelpers.serializeAlgorithmIdentifier(signatureOID, nullParameters: isRSA, into: &coder)
                coder.serializeRawBytes(issuer.subjectDER)
                try DERTime.serializeX509Time(DERTime.truncated(thisUpdate), into: &coder)
                try DERTime.serializeX509Time(DERTime.truncated(nextUpdate), into: &coder)
                if !sorted.isEmpty {
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        for entry in sorted {
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(entry.serialNumber.bytes)
                                try DERTime.serializeX509Time(DERTime.truncated(entry.revocationDate), into: &coder)
                                if let reason = entry.reason, reason != .unspecified {
                                    let value = try DERHelpers.encode { try reason.rawValue.serialize(into: &$0, withIdentifier: .enumerated) }
                                    try DERHelpers.serializeExtensions(
                                        [Certificate.Extension(oid: PKIObjectIdentifiers.reasonCode, critical: false, value: value[...])],
                                        into: &coder)
                                }
                            }
                        }
                    }
                }
                try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                    try DERHelpers.serializeExtensions(extensions, into: &coder)
                }
            }
        }
        let signature = try signingKey.sign(tbs)
        return try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbs)
                try DERHelpers.serializeAlgorithmIdentifier(signatureOID, nullParameters: isRSA, into: &coder)
                try coder.serialize(ASN1BitString(bytes: signature[...]))
            }
        }
    }
}
