// Hand-written on swift-asn1 and DERWriter rather than on swift-certificates' CMS types: those are
// SPI-only (`@_spi(CMS)`) in swift-certificates 1.21.1 and write no signing-certificate-v2 attribute.
// The bytes are checked against OpenSSL (`openssl cms -verify`, `-cmsout -print`) by the tests.

import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// A CAdES-BES detached signature (ETSI EN 319 122-1, RFC 5652 `SignedData`) in two steps, so
/// that the private key may stay on a card: ``signedAttributes`` are the bytes the card signs
/// (after the PIN is presented), then ``signedData(signature:unsignedAttributes:)`` wraps the
/// card's signature into the `ContentInfo` that is written as `.p7s`.
///
/// Signed attributes: content type (id-data), signing time, message digest (SHA-256 of the
/// document) and signing-certificate-v2 (SHA-256 of the signer's certificate, with its issuer
/// and serial). The signer's certificate and its chain (the issuing CA, not the root) travel in
/// `certificates`; the document does not (detached).
public struct CAdESSignatureBuilder: Sendable {
    /// The DER `SET OF Attribute` that the signer's key signs (tag `SET`, as RFC 5652 §5.4 says).
    public let signedAttributes: [UInt8]
    /// The signature algorithm the signer's key must use: RSA or ECDSA P-256, with SHA-256.
    public let signatureAlgorithm: Certificate.SignatureAlgorithm
    private let certificatesDER: [[UInt8]]
    private let issuerAndSerial: [UInt8]
    private let contentType: ASN1ObjectIdentifier
    private let encapsulatedContent: [UInt8]?

    /// Prepares a signature of `document`.
    /// - Parameters:
    ///   - document: the bytes signed (not carried in the signature).
    ///   - signer: the signature certificate of the card.
    ///   - chain: the certificates between the signer's and the root (the issuing CA).
    ///   - signingTime: the claimed signing time (whole seconds are written).
    /// - Throws: ``PKIError`` `pki.signing.failed` for a key that is neither RSA nor P-256.
    public init(document: some DataProtocol, signer: Certificate, chain: [Certificate], signingTime: Date) throws {
        try self.init(documentDigest: Array(SHA256.hash(data: document)), signer: signer, chain: chain, signingTime: signingTime)
    }

    /// Prepares a signature of a document of which only the SHA-256 digest is given.
    /// - Parameters:
    ///   - documentDigest: SHA-256 of the document (32 bytes).
    ///   - signer: the signature certificate of the card.
    ///   - chain: the certificates between the signer's and the root.
    ///   - signingTime: the claimed signing time.
    public init(documentDigest: [UInt8], signer: Certificate, chain: [Certificate], signingTime: Date) throws {
        try self.init(contentType: CMSObjectIdentifiers.data, content: nil, digest: documentDigest, signer: signer, chain: chain, signingTime: signingTime)
    }

    /// Prepares a signed data of any content type; `content` is carried (encapsulated) when given,
    /// as a time-stamp token carries its TSTInfo.
    init(contentType: ASN1ObjectIdentifier, content: [UInt8]?, digest documentDigest: [UInt8], signer: Certificate, chain: [Certificate],
         signingTime: Date, includesSigner: Bool = true) throws {
        self.contentType = contentType
        self.encapsulatedContent = content
        guard documentDigest.count == 32 else { throw PKIError.signingFailed("a SHA-256 digest has 32 bytes, not \(documentDigest.count)") }
        if _RSA.Signing.PublicKey(signer.publicKey) != nil {
            signatureAlgorithm = .sha256WithRSAEncryption
        } else if P256.Signing.PublicKey(signer.publicKey) != nil {
            signatureAlgorithm = .ecdsaWithSHA256
        } else {
            throw PKIError.signingFailed("the signer's key is neither RSA nor ECDSA P-256")
        }
        let signerDER = try DERHelpers.encode(signer)
        certificatesDER = includesSigner ? try [signerDER] + chain.map { try DERHelpers.encode($0) } : []
        let issuerDER = try DERHelpers.encode(signer.issuer)
        var issuerAndSerialContent = issuerDER
        DERWriter.append(DERWriter.Tag.integer, signer.serialNumber.bytes, to: &issuerAndSerialContent)
        issuerAndSerial = DERWriter.element(DERWriter.Tag.sequence, issuerAndSerialContent)

        // ESSCertIDv2 { certHash, issuerSerial { GeneralNames { [4] directoryName }, serial } },
        // hashAlgorithm left out: its DEFAULT is SHA-256.
        var issuerSerial = DERWriter.element(DERWriter.Tag.sequence, DERWriter.element(0xA4, issuerDER))
        DERWriter.append(DERWriter.Tag.integer, signer.serialNumber.bytes, to: &issuerSerial)
        var essCertID = DERWriter.element(DERWriter.Tag.octetString, Array(SHA256.hash(data: signerDER)))
        DERWriter.append(DERWriter.Tag.sequence, issuerSerial, to: &essCertID)
        let signingCertificate = DERWriter.element(DERWriter.Tag.sequence, DERWriter.element(DERWriter.Tag.sequence, DERWriter.element(DERWriter.Tag.sequence, essCertID)))

        var time: [UInt8] = []
        DERTime.appendX509Time(DERTime.truncated(signingTime), to: &time)
        let attributes = [
            Self.attribute(CMSObjectIdentifiers.contentType, value: try DERHelpers.encode(contentType)),
            Self.attribute(CMSObjectIdentifiers.signingTime, value: time),
            Self.attribute(CMSObjectIdentifiers.messageDigest, value: DERWriter.element(DERWriter.Tag.octetString, documentDigest)),
            Self.attribute(CMSObjectIdentifiers.signingCertificateV2, value: signingCertificate),
        ]
        signedAttributes = DERWriter.element(DERWriter.Tag.set, Self.sortedSetOf(attributes))
    }

    /// The whole signature: `ContentInfo { id-signedData, [0] SignedData }`, DER.
    /// - Parameters:
    ///   - signature: the signer's signature of ``signedAttributes`` (PKCS#1 v1.5 bytes, or a DER ECDSA-Sig-Value).
    ///   - unsignedAttributes: DER `Attribute`s to carry unsigned, such as a signature time-stamp token.
    /// - Returns: the DER `ContentInfo`.
    public func signedData(signature: [UInt8], unsignedAttributes: [[UInt8]] = []) throws -> [UInt8] {
        let sha256 = DERWriter.element(DERWriter.Tag.sequence, try DERHelpers.encode(PKIObjectIdentifiers.sha256))
        let algorithm: [UInt8]
        switch signatureAlgorithm {
        case .sha256WithRSAEncryption:
            algorithm = try DERHelpers.encode { try DERHelpers.serializeAlgorithmIdentifier(PKIObjectIdentifiers.sha256WithRSAEncryption, nullParameters: true, into: &$0) }
        default:
            algorithm = try DERHelpers.encode { try DERHelpers.serializeAlgorithmIdentifier(PKIObjectIdentifiers.ecdsaWithSHA256, nullParameters: false, into: &$0) }
        }
        var signerInfo: [UInt8] = [DERWriter.Tag.integer, 0x01, 0x01]
        signerInfo += issuerAndSerial
        signerInfo += sha256
        // [0] IMPLICIT SET OF Attribute: the signed bytes with their tag changed.
        signerInfo += [0xA0] + signedAttributes.dropFirst()
        signerInfo += algorithm
        DERWriter.append(DERWriter.Tag.octetString, signature, to: &signerInfo)
        if !unsignedAttributes.isEmpty {
            DERWriter.append(0xA1, Self.sortedSetOf(unsignedAttributes), to: &signerInfo)
        }

        // RFC 5652 §5.1: version 3 when the content is not id-data (a TSTInfo), else 1.
        var body: [UInt8] = [DERWriter.Tag.integer, 0x01, contentType == CMSObjectIdentifiers.data ? 0x01 : 0x03]
        DERWriter.append(DERWriter.Tag.set, sha256, to: &body)
        var encapsulated = try DERHelpers.encode(contentType)
        if let encapsulatedContent {
            DERWriter.append(0xA0, DERWriter.element(DERWriter.Tag.octetString, encapsulatedContent), to: &encapsulated)
        }
        DERWriter.append(DERWriter.Tag.sequence, encapsulated, to: &body)
        if !certificatesDER.isEmpty {
            DERWriter.append(0xA0, Self.sortedSetOf(certificatesDER), to: &body)
        }
        DERWriter.append(DERWriter.Tag.set, DERWriter.element(DERWriter.Tag.sequence, signerInfo), to: &body)

        var contentInfo = try DERHelpers.encode(CMSObjectIdentifiers.signedData)
        DERWriter.append(0xA0, DERWriter.element(DERWriter.Tag.sequence, body), to: &contentInfo)
        return DERWriter.element(DERWriter.Tag.sequence, contentInfo)
    }

    /// Signs `document` in one go with a signing function (a card after its PIN, a key of the key store).
    /// - Parameters:
    ///   - document: the bytes signed.
    ///   - signer: the signature certificate.
    ///   - chain: the issuing CA's certificate.
    ///   - signingTime: the claimed signing time.
    ///   - sign: signs the bytes it is given with SHA-256 and the signer's key.
    /// - Returns: the DER `ContentInfo`.
    public static func sign(
        _ document: some DataProtocol, signer: Certificate, chain: [Certificate], signingTime: Date,
        with sign: ([UInt8]) throws -> [UInt8]
    ) throws -> [UInt8] {
        let builder = try CAdESSignatureBuilder(document: document, signer: signer, chain: chain, signingTime: signingTime)
        return try builder.signedData(signature: try sign(builder.signedAttributes))
    }

    /// `Attribute ::= SEQUENCE { attrType, attrValues SET OF AttributeValue }` with one value.
    static func attribute(_ type: ASN1ObjectIdentifier, value: [UInt8]) -> [UInt8] {
        var content = (try? DERHelpers.encode(type)) ?? []
        DERWriter.append(DERWriter.Tag.set, value, to: &content)
        return DERWriter.element(DERWriter.Tag.sequence, content)
    }

    /// The members of a DER `SET OF`, in the order X.690 §11.6 requires.
    static func sortedSetOf(_ members: [[UInt8]]) -> [UInt8] {
        members.sorted(by: DERWriter.setOfPrecedes).flatMap { $0 }
    }
}
