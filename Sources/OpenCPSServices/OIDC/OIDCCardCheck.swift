import _CryptoExtras
import Crypto
import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSPKI
import X509

/// Decides whether a card may log in, fail-closed, on every login: its authentication
/// certificate chains to one of our issuing CAs, is the one we issued and stored, is within
/// its validity, and is neither revoked nor on hold; the card it belongs to is active and not
/// expired; and the signature was made by that certificate's key (challenge logins; mutual
/// TLS proved possession of the key in the handshake).
public struct OIDCCardCheck: Sendable {
    let pki: PKIService
    let database: ServiceDatabase
    let clock: any WallClock
    let limits: OIDCLimits

    /// Checks a card's certificate (DER or PEM) and, when given, its signature of `message`.
    /// - Returns: the authenticated professional.
    public func authenticate(
        certificate certificateBytes: [UInt8], signature: [UInt8]?, message: [UInt8], means: OIDCAuthenticationMeans, address: String
    ) async throws -> AuthenticatedSubject {
        let now = clock.now()
        let certificate: Certificate
        do {
            if let pem = String(bytes: certificateBytes, encoding: .utf8), pem.contains("-----BEGIN") {
                certificate = try Certificate(pemEncoded: pem)
            } else {
                certificate = try Certificate(derEncoded: certificateBytes)
            }
        } catch {
            throw OIDCError(.invalidRequest, code: "oidc.card.bad-certificate", reason: "the certificate is not a DER or PEM X.509 certificate")
        }
        guard let authority = pki.hierarchy.issuingAuthorities.first(where: {
            $0.ca.certificate.subject == certificate.issuer && $0.ca.certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        }) else {
            throw OIDCError(.accessDenied, code: "oidc.card.untrusted-certificate", reason: "the certificate was not issued by an OpenCPS CA")
        }
        let serial = certificate.serialNumber.hex
        try await limits.check(["card:\(authority.slug):\(serial)"])
        guard now >= certificate.notValidBefore, now <= certificate.notValidAfter else {
            throw OIDCError(.accessDenied, code: "oidc.card.certificate-expired", reason: "the certificate is not valid now (expired or not yet valid)")
        }
        // Fail-closed: a certificate this PKI has no record of never logs in.
        let stored: CertificateView
        do {
            stored = try await pki.certificate(issuer: authority.slug, serialHex: serial)
        } catch {
            throw OIDCError(.accessDenied, code: "oidc.card.certificate-unknown", reason: "the certificate's status is unknown here")
        }
        guard (try? Certificate(derEncoded: stored.der)) == certificate else {
            throw OIDCError(.accessDenied, code: "oidc.card.certificate-unknown", reason: "the certificate differs from the one issued under its serial")
        }
        guard stored.profile == "authentication" else {
            throw OIDCError(.accessDenied, code: "oidc.card.not-authentication-certificate", reason: "only a card's authentication certificate logs in")
        }
        switch stored.status {
        case .good: break
        case .onHold:
            throw OIDCError(.accessDenied, code: "oidc.card.certificate-on-hold", reason: "the card's certificate is on hold (suspended card)")
        case .revoked:
            throw OIDCError(.accessDenied, code: "oidc.card.certificate-revoked", reason: "the card's certificate is revoked")
        }
        let holder = try CardCertificateReader.holder(of: certificate)
        guard let idNat = try? IdNat(holder.idNat) else {
            throw OIDCError(.accessDenied, code: "oidc.card.bad-certificate", reason: "the certificate names no professional")
        }
        let cards = try await CardRepository(database: database.current, clock: clock).cards(holder: idNat)
        guard let card = cards.first(where: { $0.manufacture?.certificates.issuer == authority.slug && $0.manufacture?.certificates.authentication == serial }) else {
            throw OIDCError(.accessDenied, code: "oidc.card.unknown", reason: "no card carries this certificate")
        }
        switch card.state {
        case .active: break
        case .suspended: throw OIDCError(.accessDenied, code: "oidc.card.suspended", reason: "the card is suspended")
        case .opposed: throw OIDCError(.accessDenied, code: "oidc.card.opposed", reason: "the card is opposed (lost or stolen)")
        case .revoked: throw OIDCError(.accessDenied, code: "oidc.card.revoked", reason: "the card is revoked")
        case .expired: throw OIDCError(.accessDenied, code: "oidc.card.expired", reason: "the card has expired")
        default: throw OIDCError(.accessDenied, code: "oidc.card.not-active", reason: "the card is not active (\(card.state.rawValue))")
        }
        if let expiresOn = card.manufacture?.expiresOn, CivilDate(now) > expiresOn {
            throw OIDCError(.accessDenied, code: "oidc.card.expired", reason: "the card expired on \(expiresOn)")
        }
        if let signature {
            guard Self.isValid(signature, of: message, by: certificate.publicKey) else {
                try await limits.fail(["card:\(authority.slug):\(serial)", "address:\(address)"])
                throw OIDCError(.accessDenied, code: "oidc.card.bad-signature", reason: "the signature was not made by the certificate's key")
            }
        }
        return AuthenticatedSubject(idNat: idNat, cardID: card.id, means: means, authenticatedAt: now)
    }

    /// ECDSA P-256 (DER signature) or RSA PKCS #1 v1.5, over SHA-256: what cards sign with.
    static func isValid(_ signature: [UInt8], of message: [UInt8], by key: Certificate.PublicKey) -> Bool {
        if let p256 = P256.Signing.PublicKey(key) {
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return p256.isValidSignature(parsed, for: SHA256.hash(data: message))
        }
        if let rsa = _RSA.Signing.PublicKey(key) {
            return rsa.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        }
        return false
    }
}

/// Ends the SSO sessions opened with a card, and their tokens, when the card is blocked:
/// called by the card lifecycle inside the transaction that changes the card's state.
public enum OIDCCardSessions {
    /// The card states in which a card's sessions end.
    public static func endsSessions(_ state: CardState) -> Bool {
        switch state {
        case .suspended, .opposed, .revoked, .expired, .superseded: true
        default: false
        }
    }

    /// Ends every session of the card, in the running transaction.
    static func end(cardID: String, state: CardState, database: any Database, clock: any WallClock) async throws {
        try await OIDCRepository(database: database, clock: clock)
            .endSessions(where: .card, equals: cardID, reason: "card \(state.rawValue)", at: clock.now())
    }
}
