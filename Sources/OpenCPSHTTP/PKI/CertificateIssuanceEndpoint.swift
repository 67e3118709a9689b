import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSServices

/// The work behind `POST /api/v1/certificates`, apart from HTTP: reads an issuance request's
/// JSON body, checks it field by field, issues through ``PKIService`` (stored and audited before
/// it returns) and writes the answer's JSON.
///
/// The main server's ``CertificateController`` and the ``IssuanceListener`` both answer with it,
/// so that the two ports accept, refuse and answer alike.
struct CertificateIssuanceEndpoint: Sendable {
    let pki: PKIService
    /// Where the holder named by a request is looked up: a certificate names a professional the
    /// registry knows, by the names the registry has.
    let registry: RegistryService
    let clock: any WallClock

    /// An issued certificate's answer: the JSON body (``CertificateBody``) and its `Location`.
    struct Answer: Sendable {
        /// The body, JSON text.
        let json: [UInt8]
        /// `/api/v1/certificates/<issuer>/<serial>`.
        let location: String
    }

    /// Issues the certificate a JSON body asks for.
    /// - Parameters:
    ///   - body: the request's body, JSON text.
    ///   - actor: who asks, for the audit log (`operator:<name>`).
    /// - Throws: `DecodingError` for malformed JSON or a missing field; ``ValidationFailure``
    ///   (422) listing every refused field; the service's errors otherwise.
    func issue(body: some Collection<UInt8>, actor: String) async throws -> Answer {
        // Read by FlatJSONObject rather than Codable: issuance is the API's hot path.
        let body = try IssueCertificateBody(json: FlatJSONObject(bytes: body))
        var validator = FieldValidator()
        let profile = validator.read("profile") { () throws -> CardCertificateProfile in
            guard let profile = CardCertificateProfile(rawValue: body.profile) else {
                throw Problem(status: .unprocessableEntity, code: "field.unknown-code", detail: "must be one of \(CardCertificateProfile.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return profile
        }
        let role = validator.read("issuer") { () throws -> IssuingCARole in
            guard let role = IssuingCARole(rawValue: body.issuer ?? IssuingCARole.fortePersonnes.rawValue) else {
                throw Problem(status: .unprocessableEntity, code: "field.unknown-code", detail: "must be one of \(IssuingCARole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return role
        }
        let key = validator.read("csr") { try VerifiedRequestKey(csr: Self.derFromPEM(body.csr)) }
        let idNat = validator.read("idNat") { try IdNat(body.idNat) }
        // Personal certificates (CPS, CPF) carry no O/OU, as real IGC-Santé ones; staff
        // certificates (CPE, CPA) name their structure, which is part of the holder's identity.
        let cardTypeCode = body.cardTypeCode ?? 0
        for (field, value) in [("structureName", body.structureName), ("structureIdentifier", body.structureIdentifier)] {
            switch (cardTypeCode, value) {
            case (0...1, .some):
                validator.refuse(field, code: "field.not-allowed", reason: "a personal card's certificate (card type 0 or 1) names no structure")
            case (2...3, .none):
                validator.refuse(field, code: "field.required", reason: "a staff card's certificate (card type 2 or 3) names its structure")
            default:
                break
            }
        }
        if !(1...10).contains(body.validityYears ?? 3) {
            validator.refuse("validityYears", code: "field.out-of-range", reason: "must be between 1 and 10")
        }
        try validator.finish()
        try await checkHolder(idNat!, givenName: body.givenName, surname: body.surname)
        let now = clock.now()
        let certificateRequest = CardCertificateRequest(
            givenName: body.givenName, surname: body.surname, idNat: body.idNat, professionTitle: body.professionTitle,
            structureName: body.structureName, structureIdentifier: body.structureIdentifier, cardTypeCode: cardTypeCode,
            cardIssuerIdentifier: body.cardIssuerIdentifier ?? "80276", cardSerialNumber: body.cardSerialNumber,
            cardDomain: body.cardDomain ?? "cps.opencps.invalid", key: key!,
            notBefore: now, notAfter: now.addingTimeInterval(Double(body.validityYears ?? 3) * 365 * 86_400))
        let issued = try await pki.issue([.init(request: certificateRequest, profile: profile!, authority: role!)], actor: actor)
        let certificate = issued[0]
        let serial = certificate.serialHex
        let json = CertificateBody(
            issuer: certificate.issuerSlug, serial: serial, profile: certificate.profile.rawValue,
            subject: certificate.subject, notBefore: certificate.notBefore, notAfter: certificate.notAfter,
            pem: certificate.pem, status: "good", revokedAt: nil, reason: nil
        ).json
        return Answer(json: json, location: "/api/v1/certificates/\(certificate.issuerSlug)/\(serial)")
    }

    /// Refuses a certificate for a professional the registry does not know, or under other names
    /// than the registry's (compared without case or accents): an issuance operator cannot make a
    /// certificate for whoever they like.
    /// - Throws: ``Problem`` 422 `pki.issuance.unknown-professional` or `pki.issuance.subject-mismatch`.
    private func checkHolder(_ idNat: IdNat, givenName: String, surname: String) async throws {
        guard let holder = try await registry.names(of: idNat) else {
            throw Problem(status: .unprocessableEntity, code: "pki.issuance.unknown-professional", detail: "the registry has no professional with this idNat")
        }
        guard Self.sameName(givenName, holder.firstName), Self.sameName(surname, holder.lastName) else {
            throw Problem(
                status: .unprocessableEntity, code: "pki.issuance.subject-mismatch",
                detail: "givenName and surname must be the professional's names as the registry has them")
        }
    }

    /// Whether two names are the same but for case, accents and surrounding spaces.
    static func sameName(_ a: String, _ b: String) -> Bool {
        // Foundation's folding is costly on every issuance; names most often match as written.
        if a == b { return true }
        func folded(_ text: String) -> String {
            text.trimmingCharacters(in: .whitespaces).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        }
        return folded(a) == folded(b)
    }

    /// The DER of a PEM CSR: the base64 of every line but the armour lines.
    static func derFromPEM(_ text: String) throws -> [UInt8] {
        // Read as bytes: this runs on every issuance.
        var base64: [UInt8] = []
        base64.reserveCapacity(text.utf8.count)
        for line in text.utf8.split(whereSeparator: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
        where !line.starts(with: "-----".utf8) {
            base64.append(contentsOf: line)
        }
        guard let data = Data(base64Encoded: Data(base64)), !data.isEmpty else {
            throw Problem(status: .unprocessableEntity, code: "pki.invalid-csr", detail: "the CSR must be PEM (-----BEGIN CERTIFICATE REQUEST-----)")
        }
        return Array(data)
    }
}
