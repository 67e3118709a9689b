import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSServices
import Vapor

/// Signature endpoints for relying services:
/// - `POST /tsa` (`application/timestamp-query` → `application/timestamp-reply`): the RFC 3161
///   time-stamping authority;
/// - `POST /api/v1/signatures/verification`: a document, its detached CMS signature and its type
///   → the signer, the signing time and its source, and one verdict per check.
public struct SignatureController: Sendable {
    private let signatures: SignatureService
    private let json = JSONContent()
    /// The largest time-stamp query accepted (a SHA-512 imprint with a nonce is under 200 bytes).
    public static let maximumQuerySize = 4 * 1024
    /// The largest verification body: a document and its signature, base64 in JSON.
    public static let maximumVerificationSize = 8 * 1024 * 1024

    /// Creates the controller.
    public init(signatures: SignatureService) {
        self.signatures = signatures
    }

    /// Registers `/tsa` on `routes` and the verification on `api` (`/api/v1`).
    public func register(on routes: any RoutesBuilder, api: any RoutesBuilder) {
        routes.on(.POST, "tsa", body: .collect(maxSize: ByteCount(value: Self.maximumQuerySize)), use: timeStamp)
        api.on(.POST, "signatures", "verification", body: .collect(maxSize: ByteCount(value: Self.maximumVerificationSize)), use: verify)
    }

    @Sendable
    func timeStamp(_ request: Request) async throws -> Response {
        guard request.headers.contentType == HTTPMediaType(type: "application", subType: "timestamp-query") else {
            throw Problem(status: .unsupportedMediaType, code: "tsa.content-type", detail: "a time-stamp query is sent as application/timestamp-query")
        }
        let reply = try signatures.timeStamp(request.body.data.map { Array($0.readableBytesView) } ?? [])
        let response = Response(status: .ok, body: .init(data: Data(reply)))
        response.headers.contentType = HTTPMediaType(type: "application", subType: "timestamp-reply")
        response.headers.cacheControl = .init(noStore: true)
        return response
    }

    @Sendable
    func verify(_ request: Request) async throws -> Response {
        let body = try json.decode(VerificationBody.self, from: request)
        var refused: [String] = []
        let document = Data(base64Encoded: body.document)
        let signature = Data(base64Encoded: body.signature)
        if document == nil { refused.append("document: not base64") }
        if signature == nil { refused.append("signature: not base64") }
        var type: SignedDocumentType?
        do {
            type = try SignedDocumentType(code: body.documentType)
        } catch {
            refused.append("documentType: \(error.reason)")
        }
        guard let document, let signature, let type, refused.isEmpty else {
            throw Problem(status: .badRequest, code: "signature.request-invalid", detail: refused.joined(separator: "; "))
        }
        let result = await signatures.verify(document: Array(document), signature: Array(signature), as: type)
        return try json.response(VerificationResultBody(result))
    }
}

/// `POST /api/v1/signatures/verification`'s body.
struct VerificationBody: Content {
    /// `prescription`, `medical-certificate` or `care-sheet`.
    var documentType: String
    /// The document, base64.
    var document: String
    /// The detached CMS signature (DER), base64.
    var signature: String
}

/// The answer of a verification.
struct VerificationResultBody: Content {
    struct Signer: Content {
        var idNat: String
        var givenName: String?
        var surname: String?
        var profession: String?
        var professionCode: String?
        var cardType: String?
        var cardIssuerAndSerial: String?
    }

    var valid: Bool
    var documentType: String
    var signer: Signer?
    var certificateSerial: String?
    var issuer: String?
    var signingTime: Date?
    var signingTimeSource: String
    var claimedSigningTime: Date?
    var verdicts: [String: SignatureVerdict]

    init(_ result: SignatureVerification) {
        valid = result.isValid
        documentType = result.documentType.code
        signer = result.signer.map {
            Signer(idNat: $0.idNat, givenName: $0.givenName, surname: $0.surname, profession: $0.professionTitle,
                   professionCode: $0.profession?.code, cardType: $0.cardType?.code, cardIssuerAndSerial: $0.cardIssuerAndSerial)
        }
        certificateSerial = result.signerCertificate?.serialNumber.description
        issuer = result.issuerSlug
        signingTime = result.signingTime
        signingTimeSource = result.signingTimeSource.rawValue
        claimedSigningTime = result.claimedSigningTime
        verdicts = [
            "integrity": result.integrity, "chain": result.chain, "revocationAtSigningTime": result.revocationAtSigningTime,
            "revocationNow": result.revocationNow, "policy": result.policy,
        ]
        if let timeStamp = result.timeStamp { verdicts["timeStamp"] = timeStamp }
    }
}
