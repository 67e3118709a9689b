import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The registry's JSON API under `/api/v1`: professionals, their registrations, structures.
public struct RegistryController: Sendable {
    private let registry: RegistryService
    private let tokens: OperatorTokens
    private let json = JSONContent()

    /// Creates the controller.
    /// - Parameters:
    ///   - registry: the registry, which also draws a change's card consequences.
    ///   - tokens: the operators who may write.
    public init(registry: RegistryService, tokens: OperatorTokens) {
        self.registry = registry
        self.tokens = tokens
    }

    /// Registers the routes under `api`.
    public func register(on api: any RoutesBuilder) {
        let writes = api.grouped(OperatorAuthenticationMiddleware(tokens: tokens, role: .registry))
        api.get("professionals", use: search)
        api.get("professionals", ":idNat", use: get)
        writes.post("professionals", use: create)
        writes.put("professionals", ":idNat", use: update)
        writes.post("professionals", ":idNat", "registrations", use: register)
        api.get("structures", use: searchStructures)
        api.get("structures", ":id", use: getStructure)
        writes.post("structures", use: createStructure)
        writes.put("structures", ":id", use: updateStructure)
    }

    @Sendable
    func create(_ request: Request) async throws -> Response {
        let professional = try json.decode(ProfessionalBody.self, from: request).professional()
        let stored = try await registry.create(professional, actor: request.auditActor)
        let response = try await ProfessionalBody(stored).encodeResponse(status: .created, for: request)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/professionals/\(stored.professional.idNat.value)")
        response.headers.replaceOrAdd(name: .eTag, value: "\"\(stored.version)\"")
        return response
    }

    @Sendable
    func update(_ request: Request) async throws -> Response {
        let pathID = try idNatParameter(request)
        let body = try json.decode(ProfessionalBody.self, from: request)
        let professional = try body.professional(idNatFromPath: pathID.value)
        let expected = try expectedVersion(request, body: body.version)
        let stored = try await registry.update(professional, expectedVersion: expected, actor: request.auditActor)
        let response = try await ProfessionalBody(stored).encodeResponse(status: .ok, for: request)
        response.headers.replaceOrAdd(name: .eTag, value: "\"\(stored.version)\"")
        return response
    }

    @Sendable
    func get(_ request: Request) async throws -> Response {
        let stored = try await registry.professional(try idNatParameter(request))
        let response = try await ProfessionalBody(stored).encodeResponse(status: .ok, for: request)
        response.headers.replaceOrAdd(name: .eTag, value: "\"\(stored.version)\"")
        return response
    }

    @Sendable
    func register(_ request: Request) async throws -> ProfessionalBody {
        let idNat = try idNatParameter(request)
        let body = try json.decode(RegistrationRequestBody.self, from: request)
        let stored = try await registry.professional(idNat)
        let professional = stored.professional
        guard let index = professional.exercises.firstIndex(where: { $0.profession.code == body.professionCode }) else {
            throw ValidationFailure([FieldProblem(
                field: "professionCode", code: "registration.no-exercise",
                reason: "\(idNat) does not exercise profession \(body.professionCode)")])
        }
        var validator = FieldValidator()
        let registration = RegistrationBody(ordre: body.ordre, registeredOn: body.registeredOn, number: body.number)
            .registration(for: professional.exercises[index].profession, path: "", validator: &validator)
        try validator.finish()
        let updated = try await registry.register(
            idNat, professionCode: body.professionCode, registration: registration!, expectedVersion: stored.version,
            actor: request.auditActor)
        return ProfessionalBody(updated)
    }

    @Sendable
    func search(_ request: Request) async throws -> ProfessionalPageBody {
        struct Query: Decodable {
            var name: String?
            var profession: String?
            var department: String?
            var limit: Int?
            var cursor: String?
        }
        let query = try request.query.decode(Query.self)
        var validator = FieldValidator()
        if let profession = query.profession {
            _ = validator.read("profession") { try Profession(code: profession) }
        }
        let department = query.department.flatMap { code in validator.read("department") { try DepartmentCode(code) } }
        let limit = query.limit ?? 20
        if !(1...200).contains(limit) {
            validator.refuse("limit", code: "field.out-of-range", reason: "must be between 1 and 200")
        }
        let cursor = query.cursor.flatMap(SearchCursor.init(token:))
        if query.cursor != nil, cursor == nil {
            validator.refuse("cursor", code: "field.invalid-cursor", reason: "is not a cursor this API returned")
        }
        try validator.finish()
        let page = try await registry.search(ProfessionalSearch(
            namePrefix: query.name, professionCode: query.profession, department: department, limit: limit, after: cursor))
        var next: String?
        if let cursor = page.nextCursor {
            var components = URLComponents()
            components.path = "/api/v1/professionals"
            components.queryItems = [
                query.name.map { URLQueryItem(name: "name", value: $0) },
                query.profession.map { URLQueryItem(name: "profession", value: $0) },
                query.department.map { URLQueryItem(name: "department", value: $0) },
                URLQueryItem(name: "limit", value: String(limit)),
                URLQueryItem(name: "cursor", value: cursor.token),
            ].compactMap { $0 }
            next = components.string
        }
        return ProfessionalPageBody(items: page.items.map(ProfessionalBody.init), nextCursor: page.nextCursor?.token, next: next)
    }

    @Sendable
    func createStructure(_ request: Request) async throws -> Response {
        let structure = try json.decode(StructureBody.self, from: request).structure()
        try await registry.create(structure, actor: request.auditActor)
        let response = try await StructureBody(structure).encodeResponse(status: .created, for: request)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/structures/\(structure.identifier.idNatStruct)")
        return response
    }

    @Sendable
    func updateStructure(_ request: Request) async throws -> StructureBody {
        let id = try request.parameters.require("id")
        let structure = try json.decode(StructureBody.self, from: request).structure(idFromPath: id)
        try await registry.update(structure, actor: request.auditActor)
        return StructureBody(structure)
    }

    @Sendable
    func getStructure(_ request: Request) async throws -> StructureBody {
        let id = try request.parameters.require("id")
        var validator = FieldValidator()
        _ = validator.read("id") { try StructureIdentifier(idNatStruct: id) }
        try validator.finish()
        guard let structure = try await registry.structure(id: id) else {
            throw RegistryError(code: "registry.not-found", reason: "structure \(id) does not exist")
        }
        return StructureBody(structure)
    }

    @Sendable
    func searchStructures(_ request: Request) async throws -> StructurePageBody {
        struct Query: Decodable {
            var name: String?
            var limit: Int?
        }
        // Decoded as the professionals' search is: a limit that is not a number is refused.
        let query = try request.query.decode(Query.self)
        let name = query.name
        let limit = query.limit ?? 20
        guard (1...200).contains(limit) else {
            throw ValidationFailure([FieldProblem(field: "limit", code: "field.out-of-range", reason: "must be between 1 and 200")])
        }
        let structures = try await registry.structures(namePrefix: name, limit: limit)
        return StructurePageBody(items: structures.map(StructureBody.init))
    }

    private func idNatParameter(_ request: Request) throws -> IdNat {
        let text = try request.parameters.require("idNat")
        var validator = FieldValidator()
        let idNat = validator.read("idNat") { try IdNat(text) }
        try validator.finish()
        return idNat!
    }

    private func expectedVersion(_ request: Request, body: Int?) throws -> Int? {
        guard let ifMatch = request.headers.first(name: .ifMatch) else { return body }
        let trimmed = ifMatch.trimmingCharacters(in: CharacterSet(charactersIn: "\" W/"))
        guard let version = Int(trimmed) else {
            throw Problem(status: .badRequest, code: "request.bad-if-match", detail: "If-Match must be the ETag this API returned, such as \"3\"")
        }
        return version
    }
}
