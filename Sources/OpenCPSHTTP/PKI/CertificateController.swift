import Foundation
import OpenCPSDomain
import OpenCPSPKI
import X509
import OpenCPSServices
import Vapor

/// The certificates API under `/api/v1/certificates`, for operators: issue from a CSR, read,
/// revoke, hold and release.
public struct CertificateController: Sendable {
    private let pki: PKIService
    private let holds: OperatorCertificateHolds
    private let tokens: OperatorTokens
    private let clock: any WallClock
    private let issuance: CertificateIssuanceEndpoint
    private let json = JSONContent()

    /// Creates the controller.
    /// - Parameters:
    ///   - holds: operators' releases, which leave a suspended card's holds to the card.
    ///   - registry: where the holder of a certificate to issue is looked up.
    public init(pki: PKIService, holds: OperatorCertificateHolds, registry: RegistryService, tokens: OperatorTokens, clock: any WallClock) {
        self.pki = pki
        self.holds = holds
        self.tokens = tokens
        self.clock = clock
        self.issuance = CertificateIssuanceEndpoint(pki: pki, registry: registry, clock: clock)
    }

    /// Registers the routes under `api`.
    public func register(on api: any RoutesBuilder) {
        let certificates = api.grouped("certificates")
        // Issuing and revoking are separate roles; both read what they act on.
        certificates.grouped(OperatorAuthenticationMiddleware(tokens: tokens, role: .issuance)).post(use: issue)
        certificates.grouped(OperatorAuthenticationMiddleware(tokens: tokens, roles: [.issuance, .security]))
            .get(":issuer", ":serial", use: read)
        let security = certificates.grouped(OperatorAuthenticationMiddleware(tokens: tokens, role: .security))
        security.post(":issuer", ":serial", "revocation", use: revoke)
        security.post(":issuer", ":serial", "hold", use: hold)
        security.post(":issuer", ":serial", "release", use: release)
    }

    @Sendable
    func issue(_ request: Request) async throws -> Response {
        let answer = try await issuance.issue(body: json.body(of: request).readableBytesView, actor: request.auditActor)
        let response = json.response(json: answer.json, status: .created)
        response.headers.replaceOrAdd(name: .location, value: answer.location)
        return response
    }

    @Sendable
    func read(_ request: Request) async throws -> CertificateBody {
        let (issuer, serial) = try Self.key(request)
        return CertificateBody(try await pki.certificate(issuer: issuer, serialHex: serial))
    }

    @Sendable
    func revoke(_ request: Request) async throws -> CertificateBody {
        let (issuer, serial) = try Self.key(request)
        let body = try json.decode(RevocationBody.self, from: request)
        guard let reason = RevocationReason.named(body.reason), reason != .removeFromCRL, reason != .certificateHold else {
            throw ValidationFailure([FieldProblem(
                field: "reason", code: "field.unknown-code",
                reason: "must be one of \(RevocationReason.allCases.filter { $0 != .removeFromCRL && $0 != .certificateHold }.map(\.name).joined(separator: ", ")) (use /hold for a suspension)")])
        }
        return CertificateBody(try await pki.revoke(issuer: issuer, serialHex: serial, reason: reason, actor: request.auditActor, detail: body.detail))
    }

    @Sendable
    func hold(_ request: Request) async throws -> CertificateBody {
        let (issuer, serial) = try Self.key(request)
        let note = try self.note(of: request)
        return CertificateBody(try await pki.revoke(issuer: issuer, serialHex: serial, reason: .certificateHold, actor: request.auditActor, detail: note))
    }

    @Sendable
    func release(_ request: Request) async throws -> CertificateBody {
        let (issuer, serial) = try Self.key(request)
        let note = try self.note(of: request)
        return CertificateBody(try await holds.release(issuer: issuer, serialHex: serial, actor: request.auditActor, detail: note))
    }

    /// The optional note of a hold or a release, `{"detail": "..."}`: no body is no note, and a
    /// body that is there is read as strictly as any other.
    private func note(of request: Request) throws -> String? {
        guard let body = request.body.data, body.readableBytes > 0 else { return nil }
        return try json.decode(NoteBody.self, from: request).detail
    }

    private static func key(_ request: Request) throws -> (String, String) {
        let issuer = try request.parameters.require("issuer")
        let serialText = try request.parameters.require("serial")
        guard let serial = Certificate.SerialNumber(hex: serialText) else {
            throw ValidationFailure([FieldProblem(field: "serial", code: "field.not-hex", reason: "a serial number is written in hexadecimal")])
        }
        return (issuer, serial.hex)
    }
}

/// A request to issue a card certificate from a CSR.
public struct IssueCertificateBody: Content {
    /// `authentication` or `signature`.
    public var profile: String
    /// `forte-personnes` (default) or `elementaire-personnes`.
    public var issuer: String?
    /// The PKCS#10 request, PEM.
    public var csr: String
    /// Holder's given name.
    public var givenName: String
    /// Holder's surname.
    public var surname: String
    /// Holder's idNat (CN).
    public var idNat: String
    /// Profession label (title).
    public var professionTitle: String
    /// Structure name (O): staff card types (2 CPE, 3 CPA) only.
    public var structureName: String?
    /// Structure identifier (OU): with ``structureName``.
    public var structureIdentifier: String?
    /// Card type code (0 CPS, 1 CPF, 2 CPE, 3 CPA).
    public var cardTypeCode: Int?
    /// Card issuer identifier.
    public var cardIssuerIdentifier: String?
    /// Card serial number.
    public var cardSerialNumber: String
    /// The UPN domain.
    public var cardDomain: String?
    /// Validity in years (1–10, default 3).
    public var validityYears: Int?

    /// Reads the body from its JSON object; the errors are those `Codable` decoding would raise.
    init(json: FlatJSONObject) throws {
        profile = try json.string("profile")
        issuer = try json.optionalString("issuer")
        csr = try json.string("csr")
        givenName = try json.string("givenName")
        surname = try json.string("surname")
        idNat = try json.string("idNat")
        professionTitle = try json.string("professionTitle")
        structureName = try json.optionalString("structureName")
        structureIdentifier = try json.optionalString("structureIdentifier")
        cardTypeCode = try json.optionalInteger("cardTypeCode")
        cardIssuerIdentifier = try json.optionalString("cardIssuerIdentifier")
        cardSerialNumber = try json.string("cardSerialNumber")
        cardDomain = try json.optionalString("cardDomain")
        validityYears = try json.optionalInteger("validityYears")
    }
}

/// A note for the audit log, on a hold or a release.
struct NoteBody: Content {
    var detail: String?
}

/// A revocation request.
public struct RevocationBody: Content {
    /// The RFC 5280 reason name (`keyCompromise`, `superseded`, ...).
    public var reason: String
    /// A note for the audit log.
    public var detail: String?
}

/// A certificate in the API.
public struct CertificateBody: Content {
    /// Issuing CA slug.
    public var issuer: String
    /// Serial, hex.
    public var serial: String
    /// Profile.
    public var profile: String
    /// Subject.
    public var subject: String
    /// Validity start.
    public var notBefore: Date
    /// Validity end.
    public var notAfter: Date
    /// The certificate, PEM.
    public var pem: String
    /// `good`, `revoked` or `on-hold`.
    public var status: String
    /// When revoked or held.
    public var revokedAt: Date?
    /// The reason name.
    public var reason: String?

    init(issuer: String, serial: String, profile: String, subject: String, notBefore: Date, notAfter: Date, pem: String, status: String, revokedAt: Date?, reason: String?) {
        self.issuer = issuer
        self.serial = serial
        self.profile = profile
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.pem = pem
        self.status = status
        self.revokedAt = revokedAt
        self.reason = reason
    }

    /// The body as JSON text, written field by field (the issuance path's answer).
    var json: [UInt8] {
        var writer = FlatJSONWriter(capacity: pem.utf8.count + subject.utf8.count + 256)
        writer.add("issuer", issuer)
        writer.add("serial", serial)
        writer.add("profile", profile)
        writer.add("subject", subject)
        writer.add("notBefore", notBefore)
        writer.add("notAfter", notAfter)
        writer.add("pem", pem)
        writer.add("status", status)
        writer.add("revokedAt", revokedAt)
        writer.add("reason", reason)
        return writer.finish()
    }

    init(_ certificate: CertificateView) {
        self.init(
            issuer: certificate.issuer, serial: certificate.serial, profile: certificate.profile, subject: certificate.subject,
            notBefore: certificate.notBefore, notAfter: certificate.notAfter, pem: certificate.pem,
            status: certificate.status.rawValue, revokedAt: certificate.revokedAt, reason: certificate.reason?.name)
    }
}

