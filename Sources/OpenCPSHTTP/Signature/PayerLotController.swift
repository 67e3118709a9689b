import Foundation
import OpenCPSServices
import Vapor

/// `POST /api/v1/payer/lots`: the DEMONSTRATION payer of the platform (a real payer, such as the
/// Assurance Maladie, runs its own) receives a lot of signed care sheets and answers an
/// acknowledgment listing the accepted and refused sheets.
public struct PayerLotController: Sendable {
    private let payer: PayerLotService
    private let json = JSONContent()
    /// The largest lot body: 500 sheets of a few kilobytes, base64 in JSON.
    public static let maximumBodySize = 32 * 1024 * 1024

    /// Creates the controller.
    public init(payer: PayerLotService) {
        self.payer = payer
    }

    /// Registers the route on `api` (`/api/v1`).
    public func register(on api: any RoutesBuilder) {
        api.on(.POST, "payer", "lots", body: .collect(maxSize: ByteCount(value: Self.maximumBodySize)), use: receive)
    }

    @Sendable
    func receive(_ request: Request) async throws -> Response {
        let body = try json.decode(LotBody.self, from: request)
        // A sheet that is not base64 is one of the lot's refusals, not the lot's: it decodes to no bytes.
        let sheets = body.sheets.map { sheet in
            SignedCareSheet(document: Data(base64Encoded: sheet.document).map(Array.init) ?? [],
                            signature: Data(base64Encoded: sheet.signature).map(Array.init) ?? [])
        }
        let acknowledgment: LotAcknowledgment
        do throws(LotError) {
            acknowledgment = try await payer.receive(sheets)
        } catch {
            throw Problem(status: .unprocessableEntity, code: error.code, detail: error.reason)
        }
        return try json.response(AcknowledgmentBody(acknowledgment))
    }
}

/// `POST /api/v1/payer/lots`'s body.
struct LotBody: Content {
    struct Sheet: Content {
        /// The care sheet's JSON bytes, base64.
        var document: String
        /// The detached CMS signature (DER), base64.
        var signature: String
    }

    var sheets: [Sheet]
}

/// The acknowledgment.
struct AcknowledgmentBody: Content {
    struct Sheet: Content {
        var index: Int
        var signerIdNat: String?
        var totalCents: Int?
        var reasons: [LotRefusalReason]
    }

    var lotId: UUID
    var receivedAt: Date
    var acceptedCount: Int
    var refusedCount: Int
    var accepted: [Sheet]
    var refused: [Sheet]

    init(_ acknowledgment: LotAcknowledgment) {
        let sheet = { (outcome: LotSheetOutcome) in
            Sheet(index: outcome.index, signerIdNat: outcome.signerIdNat, totalCents: outcome.totalCents, reasons: outcome.reasons)
        }
        lotId = acknowledgment.lotId
        receivedAt = acknowledgment.receivedAt
        acceptedCount = acknowledgment.accepted.count
        refusedCount = acknowledgment.refused.count
        accepted = acknowledgment.accepted.map(sheet)
        refused = acknowledgment.refused.map(sheet)
    }
}
