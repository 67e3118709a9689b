import Foundation
import SwiftASN1

/// Everything that shapes the hierarchy: names, key types, lifetimes, the public base URL
/// and the certificate-policy OIDs. It is stored with the hierarchy (`hierarchy.json`).
///
/// Policy OIDs: the real IGC-Santé policy OIDs are not confirmed, so the defaults are
/// PLACEHOLDERS under `1.3.6.1.4.1.32473`, the IANA private enterprise number reserved for
/// documentation and examples (RFC 5612): they denote no real policy. Set the real values
/// here before any production use. (The `2.999` example arc was tried first, but pkilint's
/// ASN.1 decoder rejects it.)
public struct PKIConfiguration: Sendable, Codable, Hashable {
    /// The public base URL every URL in certificates is built from, without a trailing slash,
    /// e.g. `http://localhost:8080`. Layout: `BASE/crl/<ca>.crl`, `BASE/crl/<ca>-delta.crl`,
    /// `BASE/ocsp/<ca>`, `BASE/pki/<ca>.crt`.
    public var publicBaseURL: String
    /// The country of every authority (C).
    public var countryName: String
    /// The organisation of every authority (O).
    public var organizationName: String
    /// The common name of the root (ACR).
    public var rootCommonName: String
    /// The common name of the issuing CA for cards.
    public var fortePersonnesCommonName: String
    /// The common name of the issuing CA for soft certificates and the phone app.
    public var elementairePersonnesCommonName: String
    /// Key type of the root: RSA-4096 by default.
    public var rootKeyAlgorithm: KeyAlgorithm
    /// Key type of the issuing CAs: RSA-3072 by default (signs RSA-2048 card certificates and CRLs).
    public var issuingCAKeyAlgorithm: KeyAlgorithm
    /// Key type of the OCSP responders: RSA-2048 by default (short-lived, signs every OCSP answer, fast).
    public var ocspResponderKeyAlgorithm: KeyAlgorithm
    /// Lifetime of the root, in days (20 years).
    public var rootValidityDays: Int
    /// Lifetime of the issuing CAs, in days (10 years).
    public var issuingCAValidityDays: Int
    /// Lifetime of an OCSP responder certificate, in days (1 year; renew with `PKIHierarchyBuilder.renewOCSPResponders`).
    public var ocspResponderValidityDays: Int
    /// Policy OID of authentication card certificates (dotted). Placeholder default, see the type's doc.
    public var authenticationPolicyOID: String
    /// Policy OID of signature card certificates (dotted). Placeholder default.
    public var signaturePolicyOID: String
    /// Policy OID of Élémentaire (soft) authentication certificates (dotted). Placeholder default.
    public var elementaireAuthenticationPolicyOID: String
    /// Policy OID of Élémentaire (soft) signature certificates (dotted). Placeholder default.
    public var elementaireSignaturePolicyOID: String

    /// PLACEHOLDER policy OIDs under the RFC 5612 documentation arc: not official, replace in production.
    public static let placeholderAuthenticationPolicyOID = "1.3.6.1.4.1.32473.250.71.1.1"
    /// PLACEHOLDER, see `placeholderAuthenticationPolicyOID`.
    public static let placeholderSignaturePolicyOID = "1.3.6.1.4.1.32473.250.71.1.2"
    /// PLACEHOLDER, see `placeholderAuthenticationPolicyOID`.
    public static let placeholderElementaireAuthenticationPolicyOID = "1.3.6.1.4.1.32473.250.71.2.1"
    /// PLACEHOLDER, see `placeholderAuthenticationPolicyOID`.
    public static let placeholderElementaireSignaturePolicyOID = "1.3.6.1.4.1.32473.250.71.2.2"

    /// Creates a configuration; only the base URL is required.
    public init(
        publicBaseURL: String,
        countryName: String = "FR",
        organizationName: String = "OpenCPS",
        rootCommonName: String = "OpenCPS AC Racine",
        fortePersonnesCommonName: String = "OpenCPS AC Forte Personnes",
        elementairePersonnesCommonName: String = "OpenCPS AC Élémentaire Personnes",
        rootKeyAlgorithm: KeyAlgorithm = .rsa4096,
        issuingCAKeyAlgorithm: KeyAlgorithm = .rsa3072,
        ocspResponderKeyAlgorithm: KeyAlgorithm = .rsa2048,
        rootValidityDays: Int = 7305,
        issuingCAValidityDays: Int = 3652,
        ocspResponderValidityDays: Int = 365,
        authenticationPolicyOID: String = PKIConfiguration.placeholderAuthenticationPolicyOID,
        signaturePolicyOID: String = PKIConfiguration.placeholderSignaturePolicyOID,
        elementaireAuthenticationPolicyOID: String = PKIConfiguration.placeholderElementaireAuthenticationPolicyOID,
        elementaireSignaturePolicyOID: String = PKIConfiguration.placeholderElementaireSignaturePolicyOID
    ) {
        var base = publicBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicBaseURL = base
        self.countryName = countryName
        self.organizationName = organizationName
        self.rootCommonName = rootCommonName
        self.fortePersonnesCommonName = fortePersonnesCommonName
        self.elementairePersonnesCommonName = elementairePersonnesCommonName
        self.rootKeyAlgorithm = rootKeyAlgorithm
        self.issuingCAKeyAlgorithm = issuingCAKeyAlgorithm
        self.ocspResponderKeyAlgorithm = ocspResponderKeyAlgorithm
        self.rootValidityDays = rootValidityDays
        self.issuingCAValidityDays = issuingCAValidityDays
        self.ocspResponderValidityDays = ocspResponderValidityDays
        self.authenticationPolicyOID = authenticationPolicyOID
        self.signaturePolicyOID = signaturePolicyOID
        self.elementaireAuthenticationPolicyOID = elementaireAuthenticationPolicyOID
        self.elementaireSignaturePolicyOID = elementaireSignaturePolicyOID
    }

    /// The URLs published for the authority with this slug.
    /// - Parameter slug: e.g. `forte-personnes`.
    /// - Returns: The URLs.
    public func urls(for slug: String) -> AuthorityURLs {
        AuthorityURLs(crl: "\(publicBaseURL)/crl/\(slug).crl",
                      deltaCRL: "\(publicBaseURL)/crl/\(slug)-delta.crl",
                      ocsp: "\(publicBaseURL)/ocsp/\(slug)",
                      caIssuers: "\(publicBaseURL)/pki/\(slug).crt")
    }

    /// Checks that the policy OIDs parse and the base URL is http(s).
    public func validate() throws {
        guard publicBaseURL.hasPrefix("http://") || publicBaseURL.hasPrefix("https://") else {
            throw PKIError.invalidConfiguration("The public base URL must start with http:// or https:// (got '\(publicBaseURL)').")
        }
        for oid in [authenticationPolicyOID, signaturePolicyOID, elementaireAuthenticationPolicyOID, elementaireSignaturePolicyOID] {
            _ = try Self.parseOID(oid)
        }
    }

    static func parseOID(_ dotted: String) throws -> ASN1ObjectIdentifier {
        do { return try ASN1ObjectIdentifier(dotRepresentation: dotted) } catch {
            throw PKIError.invalidConfiguration("'\(dotted)' is not a valid object identifier.")
        }
    }
}

/// The URLs that certificates point to for one authority.
public struct AuthorityURLs: Sendable, Hashable, Codable {
    /// Full CRL: `BASE/crl/<ca>.crl`.
    public var crl: String
    /// Delta CRL: `BASE/crl/<ca>-delta.crl`.
    public var deltaCRL: String
    /// OCSP responder: `BASE/ocsp/<ca>`.
    public var ocsp: String
    /// The authority's certificate (DER): `BASE/pki/<ca>.crt`.
    public var caIssuers: String
}
