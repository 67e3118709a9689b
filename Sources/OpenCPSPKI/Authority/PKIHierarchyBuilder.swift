import Foundation
import SwiftASN1
import X509

/// Creates the hierarchy of DESIGN.md §2 (`opencps pki init`) and renews OCSP responders.
///
/// Key labels: `root`, `forte-personnes`, `elementaire-personnes`, and
/// `<ca>-ocsp-<yyyyMMddHHmmss>` for responders (a new key on every renewal). Generating a key
/// under an existing label fails, so running `initialize` twice cannot replace a hierarchy.
public struct PKIHierarchyBuilder: Sendable {
    /// The configuration.
    public let configuration: PKIConfiguration
    /// Where keys are generated.
    public let keyStore: any KeyStore
    private let serials: SerialNumberGenerator

    /// Slug and key label of the root.
    public static let rootSlug = "root"

    /// Creates a builder.
    /// - Parameters:
    ///   - configuration: Names, key types, lifetimes, URLs, policies.
    ///   - keyStore: The store that generates and keeps the private keys.
    ///   - random: Source of serial numbers.
    public init(configuration: PKIConfiguration, keyStore: any KeyStore, random: RandomBytes = .system) {
        self.configuration = configuration
        self.keyStore = keyStore
        self.serials = SerialNumberGenerator(random: random)
    }

    /// Generates every key and certificate of a new hierarchy.
    /// - Parameter now: The start of validity of every certificate.
    /// - Returns: The hierarchy (save it with `save(to:)`).
    public func initialize(now: Date) throws -> PKIHierarchy {
        try configuration.validate()
        let c = configuration
        let rootKey = try keyStore.generateKey(label: Self.rootSlug, algorithm: c.rootKeyAlgorithm)
        let rootName = try CertificateFactory.authorityName(country: c.countryName, organization: c.organizationName,
                                                            commonName: c.rootCommonName)
        let rootCertificate = try CertificateFactory.make(
            serial: serials.next(), publicKey: rootKey.publicKey, notBefore: now,
            notAfter: now.addingTimeInterval(Double(c.rootValidityDays) * 86_400),
            issuer: rootName, subject: rootName,
            extensions: [
                try Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: nil), critical: true),
                try Certificate.Extension(KeyUsage(keyCertSign: true, cRLSign: true), critical: true),
                try Certificate.Extension(SubjectKeyIdentifier(hash: rootKey.publicKey), critical: false),
            ],
            signer: rootKey)
        let root = try AuthorityCertificate(slug: Self.rootSlug, kind: .root, keyLabel: rootKey.label, certificate: rootCertificate)

        let forte = try makeIssuingAuthority(.fortePersonnes, commonName: c.fortePersonnesCommonName,
                                             policies: (c.authenticationPolicyOID, c.signaturePolicyOID),
                                             root: root, rootKey: rootKey, now: now)
        let elementaire = try makeIssuingAuthority(.elementairePersonnes, commonName: c.elementairePersonnesCommonName,
                                                   policies: (c.elementaireAuthenticationPolicyOID, c.elementaireSignaturePolicyOID),
                                                   root: root, rootKey: rootKey, now: now)
        let hierarchy = PKIHierarchy(configuration: c, root: root, fortePersonnes: forte, elementairePersonnes: elementaire)
        return try addTimeStampingAuthority(to: hierarchy, now: now, rootKey: rootKey)
    }

    /// Gives a hierarchy its time-stamping authority: a new key and a certificate issued by the
    /// root (keyUsage digitalSignature + nonRepudiation, extended key usage timeStamping, both
    /// critical as RFC 3161 §2.3 asks), valid as long as an issuing CA. A data folder made before
    /// the TSA existed gets one this way; the other certificates stay as they are.
    /// - Parameters:
    ///   - hierarchy: the hierarchy, with or without a TSA.
    ///   - now: the start of validity.
    /// - Returns: the hierarchy with a new TSA certificate (save it again).
    public func addTimeStampingAuthority(to hierarchy: PKIHierarchy, now: Date) throws -> PKIHierarchy {
        try addTimeStampingAuthority(to: hierarchy, now: now, rootKey: hierarchy.root.signingKey(in: keyStore))
    }

    private func addTimeStampingAuthority(to hierarchy: PKIHierarchy, now: Date, rootKey: any PKISigningKey) throws -> PKIHierarchy {
        let c = hierarchy.configuration
        let root = hierarchy.root
        let label = "\(PKIHierarchy.timeStampingSlug)-\(Self.labelTime(now))"
        let key = try keyStore.generateKey(label: label, algorithm: c.ocspResponderKeyAlgorithm)
        let notAfter = min(now.addingTimeInterval(Double(c.issuingCAValidityDays) * 86_400), root.certificate.notValidAfter)
        let rootURLs = c.urls(for: root.slug)
        let certificate = try CertificateFactory.make(
            serial: serials.next(), publicKey: key.publicKey, notBefore: now, notAfter: notAfter,
            issuer: root.certificate.subject,
            subject: try CertificateFactory.authorityName(
                country: c.countryName, organization: c.organizationName, commonName: "\(c.rootCommonName) - Horodatage"),
            extensions: [
                try Certificate.Extension(KeyUsage(digitalSignature: true, nonRepudiation: true), critical: true),
                try Certificate.Extension(ExtendedKeyUsage([.timeStamping]), critical: true),
                try Certificate.Extension(SubjectKeyIdentifier(hash: key.publicKey), critical: false),
                try Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: root.keyIdentifier[...]), critical: false),
                try X509ExtensionEncoders.crlDistributionPoints(rootURLs.crl),
                try X509ExtensionEncoders.authorityInformationAccess(ocsp: nil, caIssuers: rootURLs.caIssuers),
            ],
            signer: rootKey)
        let authority = try AuthorityCertificate(slug: PKIHierarchy.timeStampingSlug, kind: .timeStampingAuthority, keyLabel: label, certificate: certificate)
        return PKIHierarchy(configuration: c, root: root, fortePersonnes: hierarchy.fortePersonnes,
                            elementairePersonnes: hierarchy.elementairePersonnes, timeStamping: authority)
    }

    private static func labelTime(_ now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return formatter.string(from: now)
    }

    /// Issues new OCSP responder certificates (with new keys) for both issuing CAs.
    /// - Parameters:
    ///   - hierarchy: The current hierarchy.
    ///   - now: The start of validity.
    /// - Returns: The hierarchy with the new responders (save it again).
    public func renewOCSPResponders(of hierarchy: PKIHierarchy, now: Date) throws -> PKIHierarchy {
        func renew(_ authority: IssuingAuthority) throws -> IssuingAuthority {
            let caKey = try authority.ca.signingKey(in: keyStore)
            let responder = try makeResponder(for: authority.role, ca: authority.ca, caKey: caKey, now: now)
            return IssuingAuthority(role: authority.role, ca: authority.ca, ocspResponder: responder, urls: authority.urls,
                                    authenticationPolicy: authority.authenticationPolicy, signaturePolicy: authority.signaturePolicy)
        }
        return PKIHierarchy(configuration: hierarchy.configuration, root: hierarchy.root,
                            fortePersonnes: try renew(hierarchy.fortePersonnes),
                            elementairePersonnes: try renew(hierarchy.elementairePersonnes), timeStamping: hierarchy.timeStamping)
    }

    private func makeIssuingAuthority(_ role: IssuingCARole, commonName: String, policies: (String, String),
                                      root: AuthorityCertificate, rootKey: any PKISigningKey, now: Date) throws -> IssuingAuthority {
        let c = configuration
        let key = try keyStore.generateKey(label: role.slug, algorithm: c.issuingCAKeyAlgorithm)
        let authenticationPolicy = try PKIConfiguration.parseOID(policies.0)
        let signaturePolicy = try PKIConfiguration.parseOID(policies.1)
        let rootURLs = c.urls(for: root.slug)
        let notAfter = min(now.addingTimeInterval(Double(c.issuingCAValidityDays) * 86_400), root.certificate.notValidAfter)
        let certificate = try CertificateFactory.make(
            serial: serials.next(), publicKey: key.publicKey, notBefore: now, notAfter: notAfter,
            issuer: root.certificate.subject,
            subject: try CertificateFactory.authorityName(country: c.countryName, organization: c.organizationName, commonName: commonName),
            extensions: [
                try Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: 0), critical: true),
                try Certificate.Extension(KeyUsage(keyCertSign: true, cRLSign: true), critical: true),
                try Certificate.Extension(SubjectKeyIdentifier(hash: key.publicKey), critical: false),
                try Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: root.keyIdentifier[...]), critical: false),
                try X509ExtensionEncoders.certificatePolicies([authenticationPolicy, signaturePolicy]),
                try X509ExtensionEncoders.crlDistributionPoints(rootURLs.crl),
                try X509ExtensionEncoders.authorityInformationAccess(ocsp: nil, caIssuers: rootURLs.caIssuers),
            ],
            signer: rootKey)
        let ca = try AuthorityCertificate(slug: role.slug, kind: .issuingCA, keyLabel: key.label, certificate: certificate)
        let responder = try makeResponder(for: role, ca: ca, caKey: key, now: now)
        return IssuingAuthority(role: role, ca: ca, ocspResponder: responder, urls: c.urls(for: role.slug),
                                authenticationPolicy: authenticationPolicy, signaturePolicy: signaturePolicy)
    }

    private func makeResponder(for role: IssuingCARole, ca: AuthorityCertificate, caKey: any PKISigningKey,
                               now: Date) throws -> AuthorityCertificate {
        let c = configuration
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        let label = "\(role.slug)-ocsp-\(formatter.string(from: now))"
        let key = try keyStore.generateKey(label: label, algorithm: c.ocspResponderKeyAlgorithm)
        let notAfter = min(now.addingTimeInterval(Double(c.ocspResponderValidityDays) * 86_400), ca.certificate.notValidAfter)
        let caName = ca.certificate.subject.first(where: { $0.first?.type == .RDNAttributeType.commonName })?.first?.value
        let commonName = "\(caName.map { String(describing: $0) } ?? role.slug) - Répondeur OCSP"
        let certificate = try CertificateFactory.make(
            serial: serials.next(), publicKey: key.publicKey, notBefore: now, notAfter: notAfter,
            issuer: ca.certificate.subject,
            subject: try CertificateFactory.authorityName(country: c.countryName, organization: c.organizationName, commonName: commonName),
            extensions: [
                try Certificate.Extension(KeyUsage(digitalSignature: true), critical: true),
                try Certificate.Extension(ExtendedKeyUsage([.ocspSigning]), critical: false),
                try X509ExtensionEncoders.ocspNoCheck(),
                try Certificate.Extension(SubjectKeyIdentifier(hash: key.publicKey), critical: false),
                try Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: ca.keyIdentifier[...]), critical: false),
            ],
            signer: caKey)
        return try AuthorityCertificate(slug: "\(role.slug)-ocsp", kind: .ocspResponder, keyLabel: label, certificate: certificate)
    }
}
