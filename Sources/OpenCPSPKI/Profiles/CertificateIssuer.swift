import Foundation
import SwiftASN1
import X509
import Crypto
import _CryptoExtras

/// Issues card certificates (authentication and signature profiles of DESIGN.md §2) for one issuing CA.
///
/// Subject: `C=FR, title=<profession>, GN+CN+SN` for personal cards (CPS, CPF), and
/// `C=FR, O=<structure>, OU=<structure id>, title=..., GN+CN+SN` for staff cards (CPE, CPA, CDE,
/// CDA), whose structure is part of the holder's identity; the last RDN is multi-valued (DER
/// sorts the SET OF). Extensions: keyUsage (critical), EKU and UPN for
/// authentication, certificatePolicies (the CA's configured policy for the profile), CRL
/// distribution point, freshest CRL, AIA (OCSP + caIssuers), SKI, AKI, and the CPS private
/// extensions 1.2.250.1.71.1.2.2 (INTEGER card type) and 1.2.250.1.71.1.2.3 (IA5String
/// `issuerId/cardSerial`; IA5String because the value is ASCII digits and a slash).
public struct CertificateIssuer: Sendable {
    /// The issuing CA.
    public let authority: IssuingAuthority
    /// The CA's private key.
    public let signingKey: any PKISigningKey
    /// The country written in subjects.
    public let countryName: String
    /// Writes the certificates, with what is the same in every one of this CA encoded once.
    private let encoder: CardCertificateEncoder

    /// Creates an issuer.
    /// - Parameters:
    ///   - authority: The issuing CA (from `PKIHierarchy`).
    ///   - signingKey: Its key (from `authority.ca.signingKey(in:)`).
    ///   - countryName: Subject C, `FR` by default.
    public init(authority: IssuingAuthority, signingKey: any PKISigningKey, countryName: String = "FR") throws {
        guard signingKey.publicKey == authority.ca.certificate.publicKey else {
            throw PKIError.invalidConfiguration("The signing key does not belong to the CA '\(authority.slug)'.")
        }
        self.authority = authority
        self.signingKey = signingKey
        self.countryName = countryName
        self.encoder = try CardCertificateEncoder(
            issuer: authority.ca.certificate.subject, signatureAlgorithm: signingKey.signatureAlgorithm,
            countryName: countryName, fixed: try Self.fixedExtensions(authority))
    }

    /// Issues one certificate.
    /// - Parameters:
    ///   - request: Holder, structure, card and public key.
    ///   - profile: Authentication or signature.
    ///   - now: The time of issuance (the CA must be valid then).
    ///   - serial: The serial number (from `SerialNumberGenerator`).
    /// - Returns: The certificate and its encodings.
    public func issue(_ request: CardCertificateRequest, profile: CardCertificateProfile, now: Date,
                      serial: Certificate.SerialNumber) throws -> IssuedCertificate {
        try validate(request, now: now)
        let encoded = encoder.encode(
            request, profile: profile, serial: serial, publicKey: try CardCertificateEncoder.encodedKey(of: request))
        let der = CardCertificateEncoder.certificate(encoded, signature: try signingKey.sign(encoded.tbsCertificate))
        return IssuedCertificate(
            der: der, serialNumber: serial, subject: encoded.subject, notBefore: DERTime.truncated(request.notBefore),
            notAfter: DERTime.truncated(request.notAfter), profile: profile, issuerSlug: authority.slug)
    }

    /// The same certificate as ``issue(_:profile:now:serial:)`` makes, built by swift-certificates
    /// from its model of a certificate: the reference the tests hold the issuer's own DER writer to.
    func referenceCertificate(_ request: CardCertificateRequest, profile: CardCertificateProfile,
                              serial: Certificate.SerialNumber) throws -> Certificate {
        try CertificateFactory.make(
            serial: serial, publicKey: request.publicKey, notBefore: request.notBefore, notAfter: request.notAfter,
            issuer: authority.ca.certificate.subject, subject: try subjectName(request),
            extensions: try extensions(request, profile: profile), signer: signingKey)
    }

    /// The subject name of a card certificate.
    /// - Parameter request: The request.
    /// - Returns: `C, [O, OU,] title, GN+CN+SN`.
    public func subjectName(_ request: CardCertificateRequest) throws -> DistinguishedName {
        var rdns = [RelativeDistinguishedName(try .init(type: .RDNAttributeType.countryName, printableString: countryName))]
        if let name = request.structureName, let identifier = request.structureIdentifier {
            rdns.append(RelativeDistinguishedName(.init(type: .RDNAttributeType.organizationName, utf8String: name)))
            rdns.append(RelativeDistinguishedName(.init(type: .RDNAttributeType.organizationalUnitName, utf8String: identifier)))
        }
        return DistinguishedName(rdns + [
            RelativeDistinguishedName(.init(type: PKIObjectIdentifiers.title, utf8String: request.professionTitle)),
            RelativeDistinguishedName([
                .init(type: PKIObjectIdentifiers.givenName, utf8String: request.givenName),
                .init(type: .RDNAttributeType.commonName, utf8String: request.idNat),
                .init(type: PKIObjectIdentifiers.surname, utf8String: request.surname),
            ]),
        ])
    }

    /// The extensions of a card certificate as swift-certificates models them, in the order
    /// the issuer writes them (for ``referenceCertificate(_:profile:serial:)``).
    private func extensions(_ request: CardCertificateRequest, profile: CardCertificateProfile) throws -> [Certificate.Extension] {
        let fixed = try Self.fixedExtensions(authority)
        var result: [Certificate.Extension] = []
        result.reserveCapacity(11)
        switch profile {
        case .authentication:
            result.append(fixed.authenticationKeyUsage)
            result.append(fixed.authenticationExtendedKeyUsage)
            let upn = GeneralName.OtherName(typeID: PKIObjectIdentifiers.userPrincipalName,
                                            value: try ASN1Any(erasing: ASN1UTF8String(request.userPrincipalName)))
            result.append(try Certificate.Extension(SubjectAlternativeNames([.otherName(upn)]), critical: false))
            result.append(fixed.authenticationPolicies)
        case .signature:
            result.append(fixed.signatureKeyUsage)
            result.append(fixed.signaturePolicies)
        }
        result.append(try Certificate.Extension(SubjectKeyIdentifier(hash: request.publicKey), critical: false))
        result.append(fixed.authorityKeyIdentifier)
        result.append(fixed.crlDistributionPoints)
        result.append(fixed.freshestCRL)
        result.append(fixed.authorityInformationAccess)
        result.append(try X509ExtensionEncoders.cardType(request.cardTypeCode))
        result.append(try X509ExtensionEncoders.cardIssuerAndSerial(request.cardIssuerAndSerial))
        return result
    }

    /// The extensions that depend only on the CA and the profile.
    private static func fixedExtensions(_ authority: IssuingAuthority) throws -> CardCertificateEncoder.FixedExtensions {
        CardCertificateEncoder.FixedExtensions(
            authenticationKeyUsage: try Certificate.Extension(KeyUsage(digitalSignature: true), critical: true),
            authenticationExtendedKeyUsage: try Certificate.Extension(
                ExtendedKeyUsage([.clientAuth, .init(oid: PKIObjectIdentifiers.smartCardLogon)]), critical: false),
            authenticationPolicies: try X509ExtensionEncoders.certificatePolicies([authority.authenticationPolicy]),
            signatureKeyUsage: try Certificate.Extension(KeyUsage(digitalSignature: true, nonRepudiation: true), critical: true),
            signaturePolicies: try X509ExtensionEncoders.certificatePolicies([authority.signaturePolicy]),
            authorityKeyIdentifier: try Certificate.Extension(
                AuthorityKeyIdentifier(keyIdentifier: authority.ca.keyIdentifier[...]), critical: false),
            crlDistributionPoints: try X509ExtensionEncoders.crlDistributionPoints(authority.urls.crl),
            freshestCRL: try X509ExtensionEncoders.freshestCRL(authority.urls.deltaCRL),
            authorityInformationAccess: try X509ExtensionEncoders.authorityInformationAccess(
                ocsp: authority.urls.ocsp, caIssuers: authority.urls.caIssuers))
    }

    /// Checks a request as ``issue(_:profile:now:serial:)`` will, without signing: what a
    /// caller runs before recording the certificate's intent, so that a refused request leaves
    /// no intent behind.
    /// - Throws: `pki.issuance.invalid-request`, `pki.issuance.unsupported-key`.
    public func check(_ request: CardCertificateRequest, now: Date) throws {
        try validate(request, now: now)
        _ = try CardCertificateEncoder.encodedKey(of: request)
    }

    private func validate(_ request: CardCertificateRequest, now: Date) throws {
        let ca = authority.ca.certificate
        guard ca.notValidBefore <= now, now <= ca.notValidAfter else {
            throw PKIError.invalidRequest("The CA '\(authority.slug)' is not valid at the time of issuance.")
        }
        guard request.notBefore < request.notAfter else {
            throw PKIError.invalidRequest("The certificate's validity must start before it ends.")
        }
        guard request.notAfter <= ca.notValidAfter else {
            throw PKIError.invalidRequest("The certificate cannot outlive its CA (\(ca.notValidAfter)).")
        }
        guard (0...3).contains(request.cardTypeCode) else {
            throw PKIError.invalidRequest("The card type code must be 0 (CPS), 1 (CPF), 2 (CPE) or 3 (CPA).")
        }
        guard (request.structureName == nil) == (request.structureIdentifier == nil) else {
            throw PKIError.invalidRequest("The structure name and identifier go together: give both or neither.")
        }
        // Personal cards (CPS 0, CPF 1) name no structure; staff cards (CPE 2, CPA 3) do.
        guard (request.structureName == nil) == (request.cardTypeCode <= 1) else {
            throw PKIError.invalidRequest(request.cardTypeCode <= 1
                ? "A personal card's certificate (CPS, CPF) names no structure (no O/OU)."
                : "A staff card's certificate (CPE, CPA) names its structure (O and OU).")
        }
        var bounded: [(String, String)] = [("given name", request.givenName), ("surname", request.surname),
                                           ("idNat", request.idNat), ("profession title", request.professionTitle)]
        if let name = request.structureName, let identifier = request.structureIdentifier {
            bounded += [("structure name", name), ("structure identifier", identifier)]
        }
        // Blank means only spaces and tabs (CharacterSet.whitespaces), tested on the scalars:
        // Foundation's trimming went through NSString on every issuance.
        func isBlank(_ value: String) -> Bool {
            value.unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
        }
        for (field, value) in bounded where isBlank(value) || value.count > 64 {
            throw PKIError.invalidRequest("The \(field) must have 1 to 64 characters.")
        }
        let ascii = request.cardIssuerAndSerial + request.cardDomain
        guard !request.cardDomain.isEmpty, !request.cardIssuerIdentifier.isEmpty, !request.cardSerialNumber.isEmpty,
              ascii.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x21 && $0.value < 0x7F }),
              !request.idNat.utf8.contains(UInt8(ascii: "@")) else {
            throw PKIError.invalidRequest("The card issuer, card serial and card domain must be non-empty printable ASCII.")
        }
        if let rsa = _RSA.Signing.PublicKey(request.publicKey) {
            guard rsa.keySizeInBits >= 2048 else {
                throw PKIError.unsupportedKey("RSA keys must have at least 2048 bits (got \(rsa.keySizeInBits)).")
            }
        } else if P256.Signing.PublicKey(request.publicKey) == nil {
            throw PKIError.unsupportedKey("Card certificates take RSA (2048 bits or more) or ECDSA P-256 keys.")
        }
    }
}
