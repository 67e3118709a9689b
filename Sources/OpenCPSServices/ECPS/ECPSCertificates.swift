import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSPKI
import OpenCPSPersistence
import SwiftASN1
import X509

/// Short-lived authentication certificates for e-CPS devices, from the *Élémentaire
/// Personnes* CA (DESIGN.md §2: Élémentaire for soft certificates and e-CPS).
///
/// A device that approved a login may ask, with a proof signed by its device key, for a
/// certificate of that very key: the key never leaves the device, and the proof shows the
/// caller holds it. The subject names the holder exactly as their active card's authentication
/// certificate does (same C, O, OU, title, GN+CN+SN, card type and card serial extensions);
/// the policy OID is the Élémentaire CA's, which tells a relying service it is not a card.
///
/// As every certificate of the platform, it is recorded as an intent before the CA signs
/// (an intent never completed answers revoked on OCSP and is on the CRLs), then stored with
/// its link to the device, the login and the card in one transaction. Revoking the device, or
/// blocking the card it names (or the holder's last active card), revokes it in that
/// transaction (``revokeCertificates(_:reason:actor:detail:database:clock:pki:)``).
public struct ECPSCertificates: Sendable {
    let core: ECPSCore
    let logins: ECPSLogins
    let pki: PKIService
    let cardDomain: String

    /// Creates the service.
    /// - Parameters:
    ///   - cardDomain: the UPN domain card certificates use (``CardServiceSettings/cardDomain``).
    public init(logins: ECPSLogins, pki: PKIService, cardDomain: String) {
        self.core = logins.core
        self.logins = logins
        self.pki = pki
        self.cardDomain = cardDomain
    }

    /// Issues the certificate of the proving device's key, after a login it approved.
    /// - Parameters:
    ///   - proof: the device's proof of its device key.
    ///   - requestID: the login request the device approved (one certificate per login).
    /// - Returns: the certificate.
    /// - Throws: `ecps.bad-proof`, `ecps.device-*`, `ecps.request-unknown` (not approved by this
    ///   device), `ecps.certificate-window` (asked too long after the approval),
    ///   `ecps.certificate-issued` (asked twice), `ecps.no-active-card`.
    public func issue(proof: ECPSDeviceProof, requestID: String) async throws -> IssuedCertificate {
        let device = try await logins.device(proof: proof)
        let now = core.clock.now()
        let repository = core.repository
        guard let request = try await repository.loginRequest(id: requestID), request.deviceID == device.id,
              request.state == .approved || request.state == .consumed, let decidedAt = request.decidedAt else {
            throw ECPSRuleError.requestUnknown
        }
        guard now.timeIntervalSince(decidedAt) <= core.settings.certificateRequestWindow else {
            throw ECPSRuleError(code: "ecps.certificate-window", reason: "a certificate is asked for within \(Int(core.settings.certificateRequestWindow / 60)) minutes of the login's approval")
        }
        guard try await repository.certificateLink(requestID: requestID) == nil else { throw Self.alreadyIssued }
        let (card, request509) = try await certificateRequest(for: device, at: now)
        let serial = pki.reserveSerial()
        let issuance = PKIService.IssuanceRequest(request: request509, profile: .authentication, authority: .elementairePersonnes, serialHex: serial)
        // Recorded before the CA's key signs: a certificate the database does not hold is never good.
        try await CertificateIntentRepository(database: core.database.independent, clock: core.clock).record([CertificateIntent(
            issuer: IssuingCARole.elementairePersonnes.slug, serial: serial, profile: CardCertificateProfile.authentication.rawValue,
            idNat: device.holder.value, cardSerial: card.value, notAfter: request509.notAfter, intendedAt: now)])
        guard let issued = try pki.sign([issuance]).first else { throw PKIError.invalidRequest("nothing was signed") }
        try await core.database.transaction { database in
            let repository = core.repository
            try await repository.lock()
            // The device or the card may have stopped serving while the CA signed: then the
            // intent stays incomplete, and the sweep puts it on the CRLs.
            guard let current = try await repository.device(id: device.id) else { throw ECPSRuleError.deviceUnknown }
            try current.checkUsable(at: now)
            try await core.requireActiveCard(device.holder)
            guard try await repository.certificateLink(requestID: requestID) == nil else { throw Self.alreadyIssued }
            try await CertificateRepository(database: database, clock: core.clock)
                .insert(pki.stored([issued], requests: [issuance]).map { ($0, ECPSCore.actor(device.holder)) })
            try await repository.insert(ECPSCertificateLink(
                requestID: requestID, issuer: issued.issuerSlug, serial: issued.serialHex, deviceID: device.id, holder: device.holder.value,
                cardSerial: card.value, notAfter: issued.notAfter, issuedAt: now))
            try await repository.record([AuditEvent(
                actor: ECPSCore.actor(device.holder), action: "ecps.certificate.issue", entityType: "ecps-device", entityID: device.id,
                detail: "means=ecps certificate=\(issued.issuerSlug)/\(issued.serialHex) login=\(requestID) client=\(request.clientID) until \(StoredTimestamp.string(issued.notAfter))")])
        }
        return issued
    }

    static let alreadyIssued = ECPSRuleError(code: "ecps.certificate-issued", reason: "a certificate was already issued after this login")

    /// The request for the device's key, named as the holder's active card names them.
    private func certificateRequest(for device: ECPSDevice, at now: Date) async throws -> (CardSerial, CardCertificateRequest) {
        let cards = try await CardRepository(database: core.database.current, clock: core.clock).cards(holder: device.holder)
        guard let card = cards.first(where: { $0.state == .active && $0.manufacture != nil }), let manufacture = card.manufacture else {
            throw ECPSRuleError.noActiveCard
        }
        guard let stored = try await CertificateRepository(database: core.database.current, clock: core.clock)
            .certificate(issuer: manufacture.certificates.issuer, serial: manufacture.certificates.authentication)
        else { throw ECPSRuleError.noActiveCard }
        let certificate = try Certificate(derEncoded: stored.derBytes)
        let holder = try CardCertificateReader.holder(of: certificate)
        var organisation: (name: String?, unit: String?) = (nil, nil)
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.organizationName { organisation.name = String(attribute.value) }
                if attribute.type == .RDNAttributeType.organizationalUnitName { organisation.unit = String(attribute.value) }
            }
        }
        let issuerAndSerial = (holder.cardIssuerAndSerial ?? "").split(separator: "/", maxSplits: 1).map(String.init)
        let key = try ES256.publicKey(base64URLDER: device.deviceKey)
        let notAfter = now.addingTimeInterval(core.settings.deviceCertificateLifetime)
        let request = CardCertificateRequest(
            givenName: holder.givenName ?? "", surname: holder.surname ?? "", idNat: holder.idNat, professionTitle: holder.professionTitle ?? "",
            structureName: organisation.name, structureIdentifier: organisation.unit, cardTypeCode: holder.cardType?.rawValue ?? card.kind.cardType.numericCode,
            cardIssuerIdentifier: issuerAndSerial.first ?? "", cardSerialNumber: issuerAndSerial.count == 2 ? issuerAndSerial[1] : manufacture.serial.value,
            cardDomain: cardDomain, publicKey: Certificate.PublicKey(key), notBefore: now, notAfter: min(notAfter, manufacture.expiresOn.adding(days: 1).startOfDayUTC))
        return (manufacture.serial, request)
    }

    /// Revokes the unexpired device certificates selected, in the running transaction (the
    /// device's revocation, or the card lifecycle's). One revoked already is left as is.
    static func revokeCertificates(
        _ selection: ECPSRepository.CertificateSelection, reason: RevocationReason, actor: String, detail: String,
        database: any Database, clock: any WallClock, pki: PKIService
    ) async throws {
        let links = try await ECPSRepository(database: database, clock: clock).unexpiredCertificates(selection, at: clock.now())
        for link in links {
            do {
                _ = try await pki.revoke(issuer: link.issuer, serialHex: link.serial, reason: reason, actor: actor, detail: detail)
            } catch let error as PersistenceError where error.code == "certificate.already-revoked" {
                // Revoked for good already.
            }
        }
    }
}
