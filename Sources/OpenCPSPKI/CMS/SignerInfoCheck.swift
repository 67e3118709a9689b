import Crypto
import Foundation
import SwiftASN1
import X509

/// The checks every CMS signer info gets, for a document signature and for a time-stamp token
/// alike: its certificate among those carried, SHA-256, the message digest of the content, and
/// the signature of the signed attributes by the certificate's key.
enum SignerInfoCheck {
    /// Why a signer info does not hold.
    enum Failure: Error {
        case signerCertificateMissing
        case unsupportedAlgorithm(String)
        case noSignedAttributes
        case contentAltered
        case signatureInvalid
        case signingCertificateMismatch
    }

    /// The certificate the signer info names, among `certificates`.
    static func signerCertificate(_ info: CMSSignerInfo, in certificates: [Certificate]) -> Certificate? {
        certificates.first { certificate in
            switch info.identifier {
            case .issuerAndSerial(let issuer, let serial):
                return certificate.serialNumber.bytes.elementsEqual(serial)
                    && (try? DERHelpers.encode(certificate.issuer)) == issuer
            case .subjectKeyIdentifier(let keyID):
                return (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier.elementsEqual(keyID) ?? false
            }
        }
    }

    /// Checks `info` over content whose SHA-256 is `contentDigest`, signed by `certificate`.
    static func check(_ info: CMSSignerInfo, contentDigest: [UInt8], certificate: Certificate) throws(Failure) {
        guard info.digestAlgorithm == PKIObjectIdentifiers.sha256 else {
            throw .unsupportedAlgorithm("digest \(info.digestAlgorithm)")
        }
        guard let signed = info.signedAttributesDER else { throw .noSignedAttributes }
        guard let digestValue = info.signedAttribute(CMSObjectIdentifiers.messageDigest)?.first,
              let digest = try? ASN1OctetString(derEncoded: digestValue),
              Array(digest.bytes) == contentDigest else {
            throw .contentAltered
        }
        let algorithm: Certificate.SignatureAlgorithm
        switch info.signatureAlgorithm {
        case PKIObjectIdentifiers.ecdsaWithSHA256: algorithm = .ecdsaWithSHA256
        case PKIObjectIdentifiers.sha256WithRSAEncryption, CMSObjectIdentifiers.rsaEncryption: algorithm = .sha256WithRSAEncryption
        default: throw .unsupportedAlgorithm("signature \(info.signatureAlgorithm)")
        }
        guard certificate.publicKey.isValidSignature(info.signature, for: signed, signatureAlgorithm: algorithm) else {
            throw .signatureInvalid
        }
        // signing-certificate-v2, when present, must name this certificate (CAdES-BES has it;
        // a plain CMS signature such as `openssl cms -sign` writes without -cades has not).
        if let value = info.signedAttribute(CMSObjectIdentifiers.signingCertificateV2)?.first {
            guard let hash = firstCertificateHash(value), let der = try? DERHelpers.encode(certificate),
                  hash == Array(SHA256.hash(data: der)) else {
                throw .signingCertificateMismatch
            }
        }
    }

    /// The certHash of the first ESSCertIDv2 of a SigningCertificateV2 (its hash algorithm must be SHA-256).
    private static func firstCertificateHash(_ value: [UInt8]) -> [UInt8]? {
        guard let root = try? DER.parse(value), let lists = try? CMSSignedData.children(root), let certs = lists.first,
              let first = (try? CMSSignedData.children(certs))?.first, let parts = try? CMSSignedData.children(first),
              let head = parts.first else { return nil }
        var hashNode = head
        if head.identifier == .sequence {
            guard (try? DERHelpers.parseAlgorithmIdentifier(head)) == PKIObjectIdentifiers.sha256, parts.count > 1 else { return nil }
            hashNode = parts[1]
        }
        return (try? ASN1OctetString(derEncoded: hashNode)).map { Array($0.bytes) }
    }

    /// The signing-time attribute, when present.
    static func signingTime(_ info: CMSSignerInfo) -> Date? {
        guard let value = info.signedAttribute(CMSObjectIdentifiers.signingTime)?.first, let node = try? DER.parse(value) else { return nil }
        return try? DERTime.parseX509Time(node)
    }
}
