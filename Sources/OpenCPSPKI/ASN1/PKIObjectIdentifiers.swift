import SwiftASN1

/// The object identifiers the OpenCPS PKI writes or reads.
public enum PKIObjectIdentifiers {
    // MARK: Name attributes
    /// id-at-title (2.5.4.12): the profession of the holder.
    public static let title: ASN1ObjectIdentifier = [2, 5, 4, 12]
    /// id-at-givenName (2.5.4.42).
    public static let givenName: ASN1ObjectIdentifier = [2, 5, 4, 42]
    /// id-at-surname (2.5.4.4).
    public static let surname: ASN1ObjectIdentifier = [2, 5, 4, 4]

    // MARK: Certificate and CRL extensions
    /// id-ce-certificatePolicies.
    public static let certificatePolicies: ASN1ObjectIdentifier = [2, 5, 29, 32]
    /// id-ce-cRLDistributionPoints.
    public static let crlDistributionPoints: ASN1ObjectIdentifier = [2, 5, 29, 31]
    /// id-ce-freshestCRL (the delta CRL location).
    public static let freshestCRL: ASN1ObjectIdentifier = [2, 5, 29, 46]
    /// id-ce-cRLNumber.
    public static let crlNumber: ASN1ObjectIdentifier = [2, 5, 29, 20]
    /// id-ce-deltaCRLIndicator.
    public static let deltaCRLIndicator: ASN1ObjectIdentifier = [2, 5, 29, 27]
    /// id-ce-issuingDistributionPoint.
    public static let issuingDistributionPoint: ASN1ObjectIdentifier = [2, 5, 29, 28]
    /// id-ce-cRLReasons (CRL entry extension).
    public static let reasonCode: ASN1ObjectIdentifier = [2, 5, 29, 21]
    /// id-ce-authorityKeyIdentifier.
    public static let authorityKeyIdentifier: ASN1ObjectIdentifier = [2, 5, 29, 35]
    /// id-pkix-ocsp-nocheck: the responder certificate is not checked for revocation.
    public static let ocspNoCheck: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 5]
    /// id-pkix-ocsp-nonce.
    public static let ocspNonce: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 2]
    /// id-pkix-ocsp-basic.
    public static let ocspBasic: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 1]

    // MARK: CPS specifics
    /// Microsoft User Principal Name (otherName in the subject alternative name).
    public static let userPrincipalName: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 311, 20, 2, 3]
    /// Microsoft smart-card logon extended key usage.
    public static let smartCardLogon: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 311, 20, 2, 2]
    /// CPS private extension: the card type as an INTEGER (0 CPS, 1 CPF, 2 CPE, 3 CPA).
    public static let cpsCardType: ASN1ObjectIdentifier = [1, 2, 250, 1, 71, 1, 2, 2]
    /// CPS private extension: "issuerId/cardSerial" as an IA5String.
    public static let cpsCardIssuerAndSerial: ASN1ObjectIdentifier = [1, 2, 250, 1, 71, 1, 2, 3]

    // MARK: Algorithms
    /// sha256WithRSAEncryption.
    public static let sha256WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 11]
    /// ecdsa-with-SHA256.
    public static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    /// id-sha1 (OCSP CertID hashes).
    public static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]
    /// id-sha256 (OCSP CertID hashes).
    public static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
}
