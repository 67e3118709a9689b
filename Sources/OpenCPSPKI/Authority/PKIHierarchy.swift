import Foundation
import SwiftASN1
import X509

/// The two issuing CAs of DESIGN.md §2.
public enum IssuingCARole: String, Sendable, Codable, CaseIterable, Hashable {
    /// *Forte Personnes*: issues the certificates of physical cards.
    case fortePersonnes = "forte-personnes"
    /// *Élémentaire Personnes*: issues soft certificates and the phone app's.
    case elementairePersonnes = "elementaire-personnes"

    /// The URL slug, e.g. `forte-personnes`.
    public var slug: String { rawValue }
}

/// An issuing CA with its delegated OCSP responder, its URLs and its policy OIDs.
public struct IssuingAuthority: Sendable, Hashable {
    /// Which CA this is.
    public let role: IssuingCARole
    /// The CA certificate (issued by the root).
    public let ca: AuthorityCertificate
    /// The delegated OCSP responder certificate (issued by `ca`).
    public let ocspResponder: AuthorityCertificate
    /// The URLs put into the certificates this CA issues.
    public let urls: AuthorityURLs
    /// The certificate policy of authentication certificates issued by this CA.
    public let authenticationPolicy: ASN1ObjectIdentifier
    /// The certificate policy of signature certificates issued by this CA.
    public let signaturePolicy: ASN1ObjectIdentifier

    /// The slug, e.g. `forte-personnes`.
    public var slug: String { role.slug }
}

/// The whole hierarchy: root (ACR), the two issuing CAs and their OCSP responders.
///
/// It holds certificates and key labels only; private keys stay in the `KeyStore`.
/// Store it with `save(to:)` in the data folder and reload it on start with `load(from:)`.
public struct PKIHierarchy: Sendable, Hashable {
    /// The configuration it was built with.
    public let configuration: PKIConfiguration
    /// The self-signed root.
    public let root: AuthorityCertificate
    /// The *Forte Personnes* issuing CA.
    public let fortePersonnes: IssuingAuthority
    /// The *Élémentaire Personnes* issuing CA.
    public let elementairePersonnes: IssuingAuthority
    /// The time-stamping authority's certificate; nil in a data folder made before it existed,
    /// until ``PKIHierarchyBuilder/addTimeStampingAuthority(to:now:)`` gives it one.
    public let timeStamping: AuthorityCertificate?

    /// The slug of the time-stamping authority (`/pki/tsa.crt`).
    public static let timeStampingSlug = "tsa"

    /// Assembles a hierarchy from its parts.
    public init(configuration: PKIConfiguration, root: AuthorityCertificate,
                fortePersonnes: IssuingAuthority, elementairePersonnes: IssuingAuthority, timeStamping: AuthorityCertificate? = nil) {
        self.configuration = configuration
        self.root = root
        self.fortePersonnes = fortePersonnes
        self.elementairePersonnes = elementairePersonnes
        self.timeStamping = timeStamping
    }

    /// Both issuing CAs.
    public var issuingAuthorities: [IssuingAuthority] { [fortePersonnes, elementairePersonnes] }

    /// The URLs of the root (its CRL covers the issuing CA certificates).
    public var rootURLs: AuthorityURLs { configuration.urls(for: root.slug) }

    /// The issuing CA for a role.
    public func issuingAuthority(_ role: IssuingCARole) -> IssuingAuthority {
        switch role {
        case .fortePersonnes: return fortePersonnes
        case .elementairePersonnes: return elementairePersonnes
        }
    }

    /// The issuing CA with this slug (for `/ocsp/<ca>` and `/crl/<ca>.crl`), if any.
    public func issuingAuthority(slug: String) -> IssuingAuthority? {
        issuingAuthorities.first { $0.slug == slug }
    }

    /// Every certificate of the hierarchy: root, CAs, responders, time-stamping authority.
    public var allCertificates: [AuthorityCertificate] {
        [root, fortePersonnes.ca, fortePersonnes.ocspResponder, elementairePersonnes.ca, elementairePersonnes.ocspResponder]
            + (timeStamping.map { [$0] } ?? [])
    }

    /// The certificate with this slug (for `/pki/<slug>.crt`), e.g. `root`, `forte-personnes`.
    public func authority(slug: String) -> AuthorityCertificate? {
        allCertificates.first { $0.slug == slug }
    }

    /// The authority (root or issuing CA) whose CRLs are published under this slug.
    public func crlIssuer(slug: String) -> AuthorityCertificate? {
        slug == root.slug ? root : issuingAuthority(slug: slug)?.ca
    }
}
