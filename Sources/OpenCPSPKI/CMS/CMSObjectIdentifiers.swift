import SwiftASN1

/// The object identifiers of CMS (RFC 5652), CAdES (ETSI EN 319 122) and time-stamping (RFC 3161).
public enum CMSObjectIdentifiers {
    /// id-data: the content type of the signed document.
    public static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
    /// id-signedData.
    public static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 2]
    /// id-contentType (signed attribute).
    public static let contentType: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 3]
    /// id-messageDigest (signed attribute).
    public static let messageDigest: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 4]
    /// id-signingTime (signed attribute).
    public static let signingTime: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 5]
    /// id-aa-signingCertificateV2 (RFC 5035, signed attribute of CAdES-BES).
    public static let signingCertificateV2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 2, 47]
    /// id-aa-signatureTimeStampToken (unsigned attribute of CAdES-T).
    public static let signatureTimeStampToken: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 2, 14]
    /// id-ct-TSTInfo: the content type of a time-stamp token.
    public static let tstInfo: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 1, 4]
    /// rsaEncryption, which OpenSSL writes as the signature algorithm of RSA signer infos.
    public static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 1]
    /// id-kp-timeStamping.
    public static let timeStamping: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 3, 8]
}
