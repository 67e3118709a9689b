import Fluent
import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSServices
import OpenCPSTokens
import Vapor

/// The card lifecycle under `/api/v1/cards` and the help desk under `/api/v1/helpdesk`.
/// Each handler reads the request, calls ``CardService`` as the authenticated actor, and
/// returns the file; the service decides who may do what.
public struct CardController: Sendable {
    private let cards: CardService
    private let tokens: ActorTokens
    private let json = JSONContent()

    /// Creates the controller.
    public init(cards: CardService, tokens: ActorTokens) {
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
        card.post(":id", "submit") { try await file($0, cards.submit(id($0), actor: $0.cardActor, on: $0.db)) }
        card.post(":id", "request-documents") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.requestDocuments(id(request), reason: body.reason, actor: request.cardActor, on: request.db))
        }
        card.post(":id", "validate") { try await file($0, cards.validate(id($0), actor: $0.cardActor, on: $0.db)) }
        card.post(":id", "reject") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.reject(id(request), reason: body.reason, actor: request.cardActor, on: request.db))
        }
        card.post(":id", "express") { request in
            let body = try json.decode(JustificationBody.self, from: request)
            return try await file(request, cards.moveToExpress(id(request), justification: body.justification, actor: request.cardActor, on: request.db))
        }
        card.post(":id", "manufacture") { try await file($0, cards.manufacture(id($0), actor: $0.cardActor, on: $0.db)) }
        card.post(":id", "delivery") { try await file($0, cards.deliver(id($0), actor: $0.cardActor, on: $0.db)) }
        card.post(":id", "activation") { request in
            let body = try json.decode(PINBody.self, from: request)
            return try await file(request, cards.activate(id(request), pin: body.pin, actor: request.cardActor, on: request.db))
        }
        card.post(":id", "pin", "verify") { request in
            let body = try json.decode(PINBody.self, from: request)
            return try secretResponse(try await cards.verifyPIN(id(request), pin: body.pin, actor: request.cardActor, on: request.db), puk: false)
        }
        card.post(":id", "pin", "change") { request in
            let body = try json.decode(PINChangeBody.self, from: request)
            return try secretResponse(try await cards.changePIN(id(request), current: body.currentPIN, new: body.newPIN, actor: request.cardActor, on: request.db), puk: false)
        }
        card.post(":id", "pin", "unblock") { request in
            let body = try json.decode(UnblockBody.self, from: request)
            return try secretResponse(try await cards.unblockPIN(id(request), puk: body.puk, newPIN: body.newPIN, actor: request.cardActor, on: request.db), puk: true)
        }
        card.get(":id", "pin") { request -> CountersBody in
            let counters = try await cards.counters(id(request), actor: request.cardActor, on: request.db)
            return CountersBody(pinTriesLeft: counters.pinTriesLeft, pukTriesLeft: counters.pukTriesLeft, status: counters.status.rawValue)
        }
        card.post(":id", "opposition") { request -> OppositionBody in
            let body = try json.decode(ReasonBody.self, from: request)
            let result = try await cards.oppose(id(request), reason: body.reason, actor: request.cardActor, on: request.db)
            return OppositionBody(opposed: CardBody(result.opposed), replacement: CardBody(result.replacement))
        }
        card.post(":id", "suspension") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.suspend(id(request), reason: body.reason, actor: request.cardActor, on: request.db))
        }
        card.post(":id", "reinstatement") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.reinstate(id(request), reason: body.reason, actor: request.cardActor, on: request.db))
        }
        card.post(":id", "revocation") { request in
            let body = try json.decode(ReasonBody.self, from: request)
            return try await file(request, cards.revoke(id(request), reason: body.reason, actor: request.cardActor, on: request.db))
        }
        card.post(":id", "renewal") { try await file($0, cards.renew(id($0), actor: $0.cardActor, on: $0.db)) }
        card.post(":id", "temporary-card") { try await file($0, cards.issueTemporaryCard(for: id($0), actor: $0.cardActor, on: $0.db)) }

        routes.post("production-runs", use: productionRun)

        let helpDesk = routes.grouped("helpdesk")
        helpDesk.get("files", use: findFiles)
        helpDesk.get("overdue") { request -> [CardBody] in
            guard case .helpDesk = try request.cardActor else {
                throw Problem(status: .forbidden, code: "card.forbidden", detail: "the overdue list is the help desk's")
            }
            return try await cards.overdueFiles(on: request.db).map(CardBody.init)
        }
    }

    /// The most files one production run takes.
    static let maximumProductionRun = 10_000

    /// A production run: the validated files named, made in batches; each file not made is
    /// listed with the problem that kept it.
    @Sendable
    func productionRun(_ request: Request) async throws -> ProductionRunBody {
        let body = try json.decode(ProductionRunRequest.self, from: request)
        let ids = body.cardIds.map { $0.lowercased() }
        guard !ids.isEmpty, ids.count <= Self.maximumProductionRun, Set(ids).count == ids.count else {
            throw Problem(status: .unprocessableEntity, code: "production-run.invalid",
                          detail: "cardIds lists 1 to \(Self.maximumProductionRun) distinct card files")
        }
        let run = await cards.manufacture(ids, actor: try request.cardActor, on: request.db)
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
        let card = try await cards.apply(
            idNat: idNat!, kind: kind!, professionCode: body.professionCode, structureID: body.structureId,
            actor: request.cardActor, on: request.db)
        let response = try await file(request, card).encodeResponse(status: .created, for: request)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/cards/\(card.id)")
        return response
    }

    @Sendable
    func list(_ request: Request) async throws -> [CardBody] {
        let text = try request.query.get(String.self, at: "idNat")
        var validator = FieldValidator()
        let idNat = validator.read("idNat") { try IdNat(text) }
        try validator.finish()
        return try await cards.cards(of: idNat!, actor: request.cardActor, on: request.db).map(CardBody.init)
    }

    @Sendable
    func read(_ request: Request) async throws -> CardFileBody {
        let file = try await cards.file(id(request), actor: request.cardActor, on: request.db)
        return CardFileBody(file, diagnosis: cards.diagnosis(file))
    }

    @Sendable
    func history(_ request: Request) async throws -> [HistoryEntryBody] {
        try await cards.history(id(request), actor: request.cardActor, on: request.db).map(HistoryEntryBody.init)
    }

    @Sendable
    func upload(_ request: Request) async throws -> Response {
        guard request.headers.contentType?.type == "multipart" else {
            throw Problem(status: .unsupportedMediaType, code: "card.multipart-required", detail: "documents are sent as multipart/form-data with fields kind and file")
        }
        let upload = try request.content.decode(DocumentUpload.self)
        guard let kind = DocumentKind(rawValue: upload.kind) else {
            throw ValidationFailure([FieldProblem(field: "kind", code: "field.unknown-code", reason: "must be one of \(DocumentKind.allCases.map(\.rawValue).joined(separator: ", "))")])
        }
        let mediaType = upload.file.contentType?.serialize() ?? "application/octet-stream"
        let document = try await cards.addDocument(
            to: id(request), kind: kind, mediaType: mediaType, content: Array(upload.file.data.readableBytesView),
            actor: request.cardActor, on: request.db)
        return try await DocumentBody(document).encodeResponse(status: .created, for: request)
    }

    @Sendable
    func findFiles(_ request: Request) async throws -> [CardFileBody] {
        let actor = try request.cardActor
        guard case .helpDesk = actor else {
            throw Problem(status: .forbidden, code: "card.forbidden", detail: "the file search is the help desk's")
        }
        let query = (try? request.query.get(String.self, at: "q")) ?? ""
        let repository = CardRepository(database: request.db, clock: SystemWallClock())
        var records: [CardRecord] = []
        if let idNat = try? IdNat(query) {
            records = try await repository.cards(idNat: idNat.value)
        } else if let card = try await repository.card(serial: query) {
            records = [card]
        } else if let card = try await repository.card(id: query.lowercased()) {
            records = [card]
        }
        var result: [CardFileBody] = []
        for record in records {
            let file = try await cards.file(record.id, actor: actor, on: request.db)
            result.append(CardFileBody(file, diagnosis: cards.diagnosis(file)))
        }
        return result
    }
}

private func id(_ request: Request) throws -> String {
    try request.parameters.require("id").lowercased()
}

private func file(_ request: Request, _ card: CardRecord) async throws -> CardBody {
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

/// A document upload (multipart).
struct DocumentUpload: Content {
    var kind: String
    var file: File
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

    init(_ card: CardRecord) {
        id = card.id
        idNat = card.idNat
        kind = card.kind
        state = card.state
        stateLabel = CardState(rawValue: card.state)?.frenchLabel ?? card.state
        orderMode = card.orderMode
        orderReason = card.orderReason
        instance = card.instance
        professionCode = card.professionCode
        structureId = card.structureID
        express = card.express
        rejectionReason = card.rejectionReason
        validatedOn = card.validatedOn
        dueOn = card.dueOn
        serial = card.serial
        expiresOn = card.expiresOn
        certificateIssuer = card.certificateIssuer
        authenticationCertificate = card.authenticationCertificate
        signatureCertificate = card.signatureCertificate
        replacesCardId = card.replacesCardID
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

    init(_ file: CardFile, diagnosis: String) {
        card = CardBody(file.card)
        documents = file.documents.map(DocumentBody.init)
        shipments = file.shipments.map { ShipmentBody(trackingNumber: $0.trackingNumber, kind: $0.kind, address: $0.address, shippedAt: $0.shippedAt) }
        missingDocuments = file.missingDocuments.map(\.rawValue)
        overdue = file.isOverdue
        self.diagnosis = diagnosis
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
