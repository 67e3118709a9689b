import Foundation
import OpenCPSDomain
import OpenCPSServices
import OpenCPSTokens
import Vapor

/// The card lifecycle under `/api/v1/cards` and the help desk under `/api/v1/helpdesk`.
/// Each handler reads the request, calls one card service as the authenticated actor, and
/// returns the file; the service (with the domain's rules) decides who may do what.
public struct CardController: Sendable {
    private let cards: CardServices
    private let tokens: ActorTokens
    private let json = JSONContent()

    /// Creates the controller.
    public init(cards: CardServices, tokens: ActorTokens) {
        self.cards = cards
        self.tokens = tokens
    }

    /// Registers the routes under `api`.
    public func register(on api: any RoutesBuilder) {
        let routes = api.grouped(ActorAuthenticationMiddleware(tokens: tokens))
        let card = routes.grouped("cards")
        card.post(use: apply)
        card.get(use: list)
        card.get(":id", use: read)
        card.get(":id", "history", use: history)
        card.on(.POST, ":id", "documents", body: .collect(maxSize: "12mb"), use: upload)
        card.post(":id", "submit") { try await file($0, cards.ordering.submit(id($0), actor: $0.cardActor)) }
        card.post(":id", "request-documents") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.ordering.requestDocuments(id(request), reason: body.reason, actor: request.cardActor))
        }
        card.post(":id", "validate") { try await file($0, cards.ordering.validate(id($0), actor: $0.cardActor)) }
        card.post(":id", "reject") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.ordering.reject(id(request), reason: body.reason, actor: request.cardActor))
        }
        card.post(":id", "express") { request in
            let body = try json.decode(JustificationBody.self, from: request)
            return try await file(request, cards.helpDesk.moveToExpress(id(request), justification: body.justification, actor: request.cardActor))
        }
        card.post(":id", "manufacture") { try await file($0, cards.production.manufacture(id($0), actor: $0.cardActor)) }
        card.post(":id", "delivery") { try await file($0, cards.production.deliver(id($0), actor: $0.cardActor)) }
        card.post(":id", "activation") { request in
            try await cards.secrets.authorizePresentation(id(request), actor: request.cardActor)
            let body = try json.decode(PINBody.self, from: request)
            return try await file(request, cards.secrets.activate(id(request), pin: body.pin, actor: request.cardActor))
        }
        card.post(":id", "pin", "verify") { request in
            try await cards.secrets.authorizePresentation(id(request), actor: request.cardActor)
            let body = try json.decode(PINBody.self, from: request)
            return try secretResponse(try await cards.secrets.verifyPIN(id(request), pin: body.pin, actor: request.cardActor), puk: false)
        }
        card.post(":id", "pin", "change") { request in
            try await cards.secrets.authorizePresentation(id(request), actor: request.cardActor)
            let body = try json.decode(PINChangeBody.self, from: request)
            return try secretResponse(try await cards.secrets.changePIN(id(request), current: body.currentPIN, new: body.newPIN, actor: request.cardActor), puk: false)
        }
        card.post(":id", "pin", "unblock") { request in
            try await cards.secrets.authorizePresentation(id(request), actor: request.cardActor)
            let body = try json.decode(UnblockBody.self, from: request)
            return try secretResponse(try await cards.secrets.unblockPIN(id(request), puk: body.puk, newPIN: body.newPIN, actor: request.cardActor), puk: true)
        }
        card.get(":id", "pin") { request -> CountersBody in
            let counters = try await cards.secrets.counters(id(request), actor: request.cardActor)
            return CountersBody(pinTriesLeft: counters.pinTriesLeft, pukTriesLeft: counters.pukTriesLeft, status: counters.status.rawValue)
        }
        card.post(":id", "opposition") { request -> OppositionBody in
            let body = try json.decode(ReasonBody.self, from: request)
            let result = try await cards.blocking.oppose(id(request), reason: body.reason, actor: request.cardActor)
            return OppositionBody(opposed: CardBody(result.opposed), replacement: CardBody(result.replacement))
        }
        card.post(":id", "suspension") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.blocking.suspend(id(request), reason: body.reason, actor: request.cardActor))
        }
        card.post(":id", "reinstatement") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.blocking.reinstate(id(request), reason: body.reason, actor: request.cardActor))
        }
        card.post(":id", "revocation") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.blocking.revoke(id(request), reason: body.reason, actor: request.cardActor))
        }
        card.post(":id", "renewal") { try await file($0, cards.renewal.renew(id($0), actor: $0.cardActor)) }
        card.post(":id", "temporary-card") { try await file($0, cards.blocking.issueTemporaryCard(for: id($0), actor: $0.cardActor)) }

        routes.post("production-runs", use: productionRun)

        let helpDesk = routes.grouped("helpdesk")
        helpDesk.get("files", use: findFiles)
        helpDesk.get("overdue") { request -> [CardBody] in
            try await cards.helpDesk.overdueFiles(actor: request.cardActor).map(CardBody.init)
        }
    }

    /// The most files one production run takes.
    static let maximumProductionRun = 10_000

    /// A production run: the validated files named, made in batches; each file not made is
    /// listed with the problem that kept it.
    @Sendable
    func productionRun(_ request: Request) async throws -> ProductionRunBody {
        try CardAuthorization.checkProductionRun(try request.cardActor)
        let body = try json.decode(ProductionRunRequest.self, from: request)
        let ids = body.cardIds.map { $0.lowercased() }
        guard !ids.isEmpty, ids.count <= Self.maximumProductionRun, Set(ids).count == ids.count else {
            throw Problem(status: .unprocessableEntity, code: "production-run.invalid",
                          detail: "cardIds lists 1 to \(Self.maximumProductionRun) distinct card files")
        }
        let run = await cards.production.manufacture(ids, actor: try request.cardActor)
        return ProductionRunBody(
            manufactured: run.manufactured.map(CardBody.init),
            refused: run.failures.map { failure in
                let problem = ProblemMiddleware.problem(for: failure.error)
                return RefusedFileBody(cardId: failure.id, status: problem.status, code: problem.code, detail: problem.detail)
            })
    }

    @Sendable
    func apply(_ request: Request) async throws -> Response {
        let body = try json.decode(ApplicationBody.self, from: request)
        var validator = FieldValidator()
        let idNat = validator.read("idNat") { try IdNat(body.idNat) }
        let kind = validator.read("kind") { () throws -> CardKind in
            guard let kind = CardKind(rawValue: body.kind.uppercased()) else {
                throw Problem(status: .unprocessableEntity, code: "field.unknown-code", detail: "must be one of CPS, CPF, CPE, CPA, CDE, CDA")
            }
            return kind
        }
        try validator.finish()
        let card = try await cards.ordering.apply(
            idNat: idNat!, kind: kind!, professionCode: body.professionCode, structureID: body.structureId,
            actor: request.cardActor)
        let response = try await file(request, card).encodeResponse(status: .created, for: request)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/cards/\(card.id)")
        return response
    }

    @Sendable
    func list(_ request: Request) async throws -> [CardBody] {
        var validator = FieldValidator()
        let idNat = validator.read("idNat") { () throws -> IdNat in
            guard let text = request.query[String.self, at: "idNat"] else {
                throw Problem(status: .unprocessableEntity, code: "field.required", detail: "is required: the holder whose cards are listed")
            }
            return try IdNat(text)
        }
        try validator.finish()
        return try await cards.reading.cards(of: idNat!, actor: request.cardActor).map(CardBody.init)
    }

    @Sendable
    func read(_ request: Request) async throws -> CardFileBody {
        CardFileBody(try await cards.reading.file(id(request), actor: request.cardActor))
    }

    @Sendable
    func history(_ request: Request) async throws -> [HistoryEntryBody] {
        try await cards.reading.history(id(request), actor: request.cardActor).map(HistoryEntryBody.init)
    }

    @Sendable
    func upload(_ request: Request) async throws -> Response {
        try await cards.ordering.authorizeDocuments(to: id(request), actor: request.cardActor)
        guard request.headers.contentType?.type == "multipart" else {
            throw Problem(status: .unsupportedMediaType, code: "card.multipart-required", detail: "documents are sent as multipart/form-data with fields kind and file")
        }
        let upload = try DocumentUpload(request)
        let document = try await cards.ordering.addDocument(
            to: id(request), kind: upload.kind, mediaType: upload.mediaType, content: upload.content, actor: request.cardActor)
        return try await DocumentBody(document).encodeResponse(status: .created, for: request)
    }

    @Sendable
    func findFiles(_ request: Request) async throws -> [CardFileBody] {
        let query = (try? request.query.get(String.self, at: "q")) ?? ""
        return try await cards.helpDesk.findFiles(query, actor: request.cardActor).map(CardFileBody.init)
    }
}

private func id(_ request: Request) throws -> String {
    try request.parameters.require("id").lowercased()
}

private func file(_ request: Request, _ card: Card) async throws -> CardBody {
    CardBody(card)
}

private func secretResponse(_ result: TokenSecretResult, puk: Bool) throws -> Response {
    switch result {
    case .accepted:
        let response = Response(status: .ok)
        try response.content.encode(["result": "accepted"])
        return response
    case .wrong(let left):
        throw Problem(status: .unprocessableEntity, code: puk ? "card.puk-wrong" : "card.pin-wrong",
                      detail: "wrong \(puk ? "PUK" : "PIN"): \(left) tries left")
    case .pinBlocked:
        throw Problem(status: .locked, code: "card.pin-blocked", detail: "the PIN is blocked: unblock it with the PUK")
    case .pukExhausted:
        throw Problem(status: .locked, code: "card.puk-exhausted", detail: "the PUK is used up: the card is dead and must be replaced")
    }
}

/// An application for a card.
struct ApplicationBody: Content {
    var idNat: String
    var kind: String
    var professionCode: String?
    var structureId: String?
}

/// The files of a production run.
struct ProductionRunRequest: Content {
    var cardIds: [String]
}

/// What a production run made, and what it refused.
public struct ProductionRunBody: Content {
    /// The cards made and shipped.
    public var manufactured: [CardBody]
    /// The files not made, each with its problem.
    public var refused: [RefusedFileBody]
}

/// A file a production run did not make: the problem it would have answered alone.
public struct RefusedFileBody: Content {
    /// The file.
    public var cardId: String
    /// The HTTP status the problem carries when the file is made alone.
    public var status: Int
    /// The problem's stable code.
    public var code: String
    /// Why.
    public var detail: String
}

/// A reason.
struct ReasonBody: Content {
    var reason: String
}

/// An emergency's justification.
struct JustificationBody: Content {
    var justification: String
}

/// A PIN.
struct PINBody: Content {
    var pin: String
}

/// A PIN change.
struct PINChangeBody: Content {
    var currentPIN: String
    var newPIN: String
}

/// An unblocking.
struct UnblockBody: Content {
    var puk: String
    var newPIN: String
}


/// A card in the API.
public struct CardBody: Content {
    /// The file's identifier.
    public var id: String
    /// The holder.
    public var idNat: String
    /// CPS, CPF, CPE, CPA, CDE, CDA.
    public var kind: String
    /// The state.
    public var state: String
    /// The state in French.
    public var stateLabel: String
    /// `automatic` or `manual`.
    public var orderMode: String
    /// `first`, `renewal`, `replacement`, `reissue`, `temporary`.
    public var orderReason: String
    /// The competent instance.
    public var instance: String
    /// The profession.
    public var professionCode: String?
    /// The structure.
    public var structureId: String?
    /// On the express path.
    public var express: Bool
    /// Why it was rejected.
    public var rejectionReason: String?
    /// Validated on.
    public var validatedOn: String?
    /// Due on.
    public var dueOn: String?
    /// The card serial.
    public var serial: String?
    /// Last day of validity.
    public var expiresOn: String?
    /// The certificates' CA.
    public var certificateIssuer: String?
    /// Authentication certificate serial.
    public var authenticationCertificate: String?
    /// Signature certificate serial.
    public var signatureCertificate: String?
    /// The card it replaces.
    public var replacesCardId: String?
    /// A temporary card.
    public var temporary: Bool
    /// Version.
    public var version: Int

    init(_ card: Card) {
        id = card.id
        idNat = card.holder.value
        kind = card.kind.rawValue
        state = card.state.rawValue
        stateLabel = card.state.frenchLabel
        orderMode = card.order.mode.rawValue
        orderReason = card.order.reason.rawValue
        instance = card.order.instance.code
        professionCode = card.profession?.code
        structureId = card.structure?.idNatStruct
        express = card.isExpress
        rejectionReason = card.rejectionReason
        validatedOn = card.validatedOn?.description
        dueOn = card.dueOn?.description
        serial = card.manufacture?.serial.value
        expiresOn = card.manufacture?.expiresOn.description
        certificateIssuer = card.manufacture?.certificates.issuer
        authenticationCertificate = card.manufacture?.certificates.authentication
        signatureCertificate = card.manufacture?.certificates.signature
        replacesCardId = card.order.replaces
        temporary = card.temporary
        version = card.version
    }
}

/// A whole file.
public struct CardFileBody: Content {
    /// The card.
    public var card: CardBody
    /// Its documents.
    public var documents: [DocumentBody]
    /// Its shipments.
    public var shipments: [ShipmentBody]
    /// The documents still required.
    public var missingDocuments: [String]
    /// Past its due date.
    public var overdue: Bool
    /// Why it is where it is, in French.
    public var diagnosis: String

    init(_ file: CardFile) {
        card = CardBody(file.card)
        documents = file.documents.map(DocumentBody.init)
        shipments = file.shipments.map { ShipmentBody(trackingNumber: $0.trackingNumber, kind: $0.kind, address: $0.address, shippedAt: $0.shippedAt) }
        missingDocuments = file.missingDocuments.map(\.rawValue)
        overdue = file.isOverdue
        diagnosis = file.diagnosis
    }
}

/// A document in the API.
public struct DocumentBody: Content {
    /// Identifier.
    public var id: String
    /// Kind.
    public var kind: String
    /// Media type.
    public var mediaType: String
    /// Size.
    public var byteCount: Int
    /// SHA-256.
    public var sha256: String
    /// Uploaded at.
    public var uploadedAt: String

    init(_ document: CardDocument) {
        id = document.id
        kind = document.kind
        mediaType = document.mediaType
        byteCount = document.byteCount
        sha256 = document.sha256
        uploadedAt = document.uploadedAt
    }
}

/// A shipment in the API.
public struct ShipmentBody: Content {
    /// Tracking number.
    public var trackingNumber: String
    /// `card` or `pin_letter`.
    public var kind: String
    /// Address.
    public var address: String
    /// Shipped at.
    public var shippedAt: String
}

/// The PIN counters.
public struct CountersBody: Content {
    /// PIN tries left.
    public var pinTriesLeft: Int
    /// PUK tries left.
    public var pukTriesLeft: Int
    /// `usable`, `pin_blocked`, `puk_exhausted`.
    public var status: String
}

/// The result of an opposition.
public struct OppositionBody: Content {
    /// The opposed card.
    public var opposed: CardBody
    /// Its replacement file.
    public var replacement: CardBody
}

/// One entry of a card's history.
public struct HistoryEntryBody: Content {
    /// Position in the audit log.
    public var seq: Int64
    /// When.
    public var recordedAt: String
    /// Who.
    public var actor: String
    /// What.
    public var action: String
    /// Detail.
    public var detail: String?

    init(_ entry: AuditEntry) {
        seq = entry.seq
        recordedAt = entry.recordedAt
        actor = entry.actor
        action = entry.action
        detail = entry.detail
    }
}
