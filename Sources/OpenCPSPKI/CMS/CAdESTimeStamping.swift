import Foundation
import X509

/// CAdES-T: a CAdES-BES signature with a signature time-stamp token (ETSI EN 319 122-1 §5.3),
/// an unsigned attribute holding an RFC 3161 token over the signature value, so that the
/// signature keeps a trusted time after its certificate is revoked or has expired.
public enum CAdESTimeStamping {
    /// Signs `document` and time-stamps the signature value.
    /// - Parameters:
    ///   - document: the bytes signed.
    ///   - signer: the signature certificate.
    ///   - chain: the issuing CA's certificate.
    ///   - signingTime: the claimed signing time.
    ///   - sign: signs with the card's key (after its PIN).
    ///   - timeStamp: returns a DER time-stamp token over the bytes it is given (the signature
    ///     value), from a TSA in process or over HTTP.
    /// - Returns: the DER `ContentInfo`.
    public static func sign(
        _ document: some DataProtocol, signer: Certificate, chain: [Certificate], signingTime: Date,
        with sign: ([UInt8]) throws -> [UInt8], timeStamp: ([UInt8]) throws -> [UInt8]
    ) throws -> [UInt8] {
        let builder = try CAdESSignatureBuilder(document: document, signer: signer, chain: chain, signingTime: signingTime)
        let signature = try sign(builder.signedAttributes)
        let token = try timeStamp(signature)
        return try builder.signedData(signature: signature, unsignedAttributes: [attribute(token)])
    }

    /// The unsigned attribute id-aa-signatureTimeStampToken holding `token`.
    public static func attribute(_ token: [UInt8]) -> [UInt8] {
        CAdESSignatureBuilder.attribute(CMSObjectIdentifiers.signatureTimeStampToken, value: token)
    }
}
