import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The FHIR R4 directory under `/fhir`: Practitioner, PractitionerRole and Organization,
/// read by id and searched by `identifier` and `name` (with `_id`, `_count`, and for
/// PractitionerRole `practitioner` and `organization`). Errors are OperationOutcomes.
public struct FHIRController: Sendable {
    private let registry: RegistryService
    private let baseURL: String

    /// Creates the controller.
    /// - Parameters:
    ///   - registry: the registry to read.
    ///   - publicBaseURL: the server's public URL, for the `fullUrl` of bundle entries.
    public init(registry: RegistryService, publicBaseURL: String) {
        self.registry = registry
        self.baseURL = publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL
    }

    /// Registers the routes under `fhir`.
    public func register(on fhir: any RoutesBuilder) {
        let routes = fhir.grouped(OperationOutcomeMiddleware())
        routes.get("metadata", use: capabilities)
        routes.get("Practitioner", use: searchPractitioners)
        routes.get("Practitioner", ":id", use: readPractitioner)
        routes.get("PractitionerRole", use: searchPractitionerRoles)
        routes.get("PractitionerRole", ":id", use: readPractitionerRole)
        routes.get("Organization", use: searchOrganizations)
        routes.get("Organization", ":id", use: readOrganization)
    }

    // MARK: Practitioner

    @Sendable
    func readPractitioner(_ request: Request) async throws -> Response {
        let id = try request.parameters.require("id")
        guard let idNat = FHIRIdentifier.idNat(id), let stored = try await registry.professionalIfAny(idNat) else {
            throw FHIROperationOutcome(code: "not-found", diagnostics: "Practitioner/\(id) is not known")
        }
        return try fhirResponse(FHIRMapping.practitioner(stored))
    }

    @Sendable
    func searchPractitioners(_ request: Request) async throws -> Response {
        let query = try SearchQuery(request, also: ["family"])
        let repository = registry
        var professionals: [StoredProfessional]
        var nextCursor: SearchCursor?
        if let id = query.id {
            professionals = try await FHIRIdentifier.idNat(id).asyncMap { try await repository.professionalIfAny($0) }.map { [$0] } ?? []
        } else if let token = query.identifier {
            professionals = try await practitioners(identifier: token, repository: repository)
        } else {
            let page = try await repository.search(ProfessionalSearch(namePrefix: query.name, limit: query.count, after: query.cursor))
            professionals = page.items
            nextCursor = page.nextCursor
        }
        if let id = query.id, let token = query.identifier {
            let matching = try await practitioners(identifier: token, repository: repository).map(\.professional.idNat)
            professionals = professionals.filter { matching.contains($0.professional.idNat) && FHIRIdentifier.of($0.professional.idNat) == id }
        }
        if let name = query.name, query.id != nil || query.identifier != nil {
            let prefix = NameKey.normalise(name)
            professionals = professionals.filter { $0.professional.nameKey.hasPrefix(prefix) }
        }
        let resources = professionals.map { FHIRResource.practitioner(FHIRMapping.practitioner($0)) }
        return try bundle(resources, request: request, type: "Practitioner", query: query, next: nextCursor)
    }

    private func practitioners(identifier token: Token, repository: RegistryService) async throws -> [StoredProfessional] {
        switch token.system {
        case nil:
            return try await repository.professionals(identifier: token.value)
        case let system? where FHIRSystem.rppsSystems.contains(system):
            return try await repository.professionals(idNats: ["8" + token.value])
        case let system? where FHIRSystem.adeliSystems.contains(system):
            return try await repository.professionals(idNats: ["0" + token.value])
        case FHIRSystem.idNatPS?:
            return try await repository.professionals(idNats: [token.value])
        default:
            return []
        }
    }

    // MARK: PractitionerRole

    @Sendable
    func readPractitionerRole(_ request: Request) async throws -> Response {
        let id = try request.parameters.require("id")
        guard let activity = try await registry.activity(id: id) else {
            throw FHIROperationOutcome(code: "not-found", diagnostics: "PractitionerRole/\(id) is not known")
        }
        return try fhirResponse(FHIRMapping.practitionerRole(activity, lastUpdated: nil))
    }

    @Sendable
    func searchPractitionerRoles(_ request: Request) async throws -> Response {
        let query = try SearchQuery(request, also: ["practitioner", "organization", "family"])
        let repository = registry
        var activities: [StoredActivity]
        let practitioner = (try? request.query.get(String.self, at: "practitioner")).map { $0.replacingOccurrences(of: "Practitioner/", with: "") }
        let organization = (try? request.query.get(String.self, at: "organization")).map { $0.replacingOccurrences(of: "Organization/", with: "") }
        if let id = query.id ?? query.identifier.flatMap({ $0.system == nil || $0.system == FHIRSystem.activity ? $0.value : nil }) {
            activities = try await repository.activity(id: id).map { [$0] } ?? []
        } else if query.identifier != nil {
            activities = []
        } else if let practitioner {
            guard let idNat = FHIRIdentifier.idNat(practitioner) else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "practitioner must be a Practitioner id, got \(practitioner)")
            }
            activities = try await repository.activities(idNat: idNat, limit: query.count)
        } else if let organization {
            activities = try await repository.activities(structureID: organization, limit: query.count)
        } else if let name = query.name {
            let page = try await repository.search(ProfessionalSearch(namePrefix: name, limit: query.count))
            activities = []
            for stored in page.items {
                activities += try await repository.activities(idNat: stored.professional.idNat, limit: query.count)
            }
        } else {
            throw FHIROperationOutcome(code: "not-supported", diagnostics: "search PractitionerRole by _id, identifier, practitioner, organization or name")
        }
        if let practitioner { activities = activities.filter { FHIRIdentifier.of($0.idNat) == practitioner } }
        if let organization { activities = activities.filter { $0.activity.structure?.idNatStruct == organization } }
        let resources = activities.prefix(query.count).map { FHIRResource.practitionerRole(FHIRMapping.practitionerRole($0, lastUpdated: nil)) }
        return try bundle(Array(resources), request: request, type: "PractitionerRole", query: query, next: nil)
    }

    // MARK: Organization

    @Sendable
    func readOrganization(_ request: Request) async throws -> Response {
        let id = try request.parameters.require("id")
        guard let structure = try await registry.structure(id: id) else {
            throw FHIROperationOutcome(code: "not-found", diagnostics: "Organization/\(id) is not known")
        }
        return try fhirResponse(FHIRMapping.organization(structure))
    }

    @Sendable
    func searchOrganizations(_ request: Request) async throws -> Response {
        let query = try SearchQuery(request)
        let repository = registry
        var structures: [Structure]
        if let id = query.id {
            structures = try await repository.structure(id: id).map { [$0] } ?? []
        } else if let token = query.identifier {
            switch token.system {
            case nil: structures = try await repository.structures(identifier: token.value)
            case let system? where FHIRSystem.finessSystems.contains(system):
                structures = try await repository.structures(identifier: "1" + token.value)
            case let system? where FHIRSystem.sireneSystems.contains(system):
                structures = try await repository.structures(identifier: "3" + token.value)
            case FHIRSystem.idNatStruct?: structures = try await repository.structures(identifier: token.value)
            default: structures = []
            }
        } else {
            structures = try await repository.structures(namePrefix: query.name, limit: query.count)
        }
        if let name = query.name, query.id != nil || query.identifier != nil {
            let prefix = NameKey.normalise(name)
            structures = structures.filter { NameKey.normalise($0.name).hasPrefix(prefix) }
        }
        return try bundle(structures.map { .organization(FHIRMapping.organization($0)) }, request: request, type: "Organization", query: query, next: nil)
    }

    // MARK: Capability statement

    @Sendable
    func capabilities(_ request: Request) async throws -> Response {
        let resources: [[String: any Sendable]] = [
            ["type": "Practitioner", "params": ["_id", "identifier", "name", "family"]],
            ["type": "PractitionerRole", "params": ["_id", "identifier", "practitioner", "organization", "name", "family"]],
            ["type": "Organization", "params": ["_id", "identifier", "name"]],
        ]
        let rest: [[String: Any]] = [[
            "mode": "server",
            "resource": resources.map { resource in
                [
                    "type": resource["type"] as? String ?? "",
                    "interaction": [["code": "read"], ["code": "search-type"]],
                    "searchParam": (resource["params"] as? [String] ?? []).map { ["name": $0, "type": $0 == "name" || $0 == "family" ? "string" : ($0 == "_id" ? "token" : ($0 == "identifier" ? "token" : "reference"))] },
                ] as [String: Any]
            },
        ]]
        let statement: [String: Any] = [
            "resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-23",
            "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
            "implementation": ["description": "OpenCPS directory", "url": baseURL + "/fhir"],
            "rest": rest,
        ]
        let data = try JSONSerialization.data(withJSONObject: statement, options: [.sortedKeys])
        return fhirResponse(data: data)
    }

    // MARK: Plumbing

    private func bundle(_ resources: [FHIRResource], request: Request, type: String, query: SearchQuery, next: SearchCursor?) throws -> Response {
        var links = [FHIRBundle.Link(relation: "self", url: baseURL + "/fhir/\(type)" + query.selfQueryString)]
        if let next {
            links.append(FHIRBundle.Link(relation: "next", url: baseURL + "/fhir/\(type)" + query.queryString(cursor: next)))
        }
        let bundle = FHIRBundle(
            id: UUID().uuidString.lowercased(),
            meta: FHIRMeta(lastUpdated: Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))),
            total: next == nil ? resources.count : nil,
            link: links,
            entry: resources.isEmpty ? nil : resources.map {
                FHIRBundle.Entry(fullUrl: baseURL + "/fhir/" + $0.path, resource: $0, search: .init(mode: "match"))
            })
        return try fhirResponse(bundle)
    }

    private func fhirResponse(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return fhirResponse(data: try encoder.encode(value))
    }

    private func fhirResponse(data: Data) -> Response {
        let response = Response(status: .ok, body: .init(data: data))
        response.headers.replaceOrAdd(name: .contentType, value: "application/fhir+json; charset=utf-8")
        return response
    }
}

/// A FHIR token parameter: `value` or `system|value`.
struct Token: Equatable {
    var system: String?
    var value: String

    init(_ text: String) {
        if let bar = text.firstIndex(of: "|") {
            let system = String(text[..<bar])
            self.system = system.isEmpty ? nil : system
            value = String(text[text.index(after: bar)...])
        } else {
            system = nil
            value = text
        }
    }
}

/// The common search parameters.
struct SearchQuery {
    var id: String?
    var identifier: Token?
    var name: String?
    var count: Int
    var cursor: SearchCursor?

    /// The parameters every search here reads.
    static let common: Set<String> = ["_id", "identifier", "name", "_count", "_cursor"]

    /// Reads the common parameters; any parameter that is neither one of them nor in `also` is
    /// refused with an OperationOutcome (`not-supported`), since ignoring it would answer an
    /// unfiltered page as if it had been applied, unless the client asked for
    /// `Prefer: handling=lenient` (FHIR's search handling).
    init(_ request: Request, also: Set<String> = []) throws {
        let names = URLComponents(string: request.url.string)?.queryItems?.map(\.name) ?? []
        let unknown = names.filter { !Self.common.contains($0) && !also.contains($0) }
        let lenient = request.headers[.init("Prefer")].contains { $0.replacingOccurrences(of: " ", with: "").lowercased().contains("handling=lenient") }
        if let first = unknown.first, !lenient {
            throw FHIROperationOutcome(
                code: "not-supported",
                diagnostics: "the search parameter \(first) is not supported here (supported: \(Self.common.union(also).sorted().joined(separator: ", "))); send Prefer: handling=lenient to have unknown parameters ignored")
        }
        id = try? request.query.get(String.self, at: "_id")
        identifier = (try? request.query.get(String.self, at: "identifier")).map(Token.init)
        name = (try? request.query.get(String.self, at: "name")) ?? (try? request.query.get(String.self, at: "family"))
        if let text = try? request.query.get(String.self, at: "_count") {
            guard let count = Int(text), (1...200).contains(count) else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "_count must be a whole number from 1 to 200")
            }
            self.count = count
        } else {
            count = 20
        }
        if let token = try? request.query.get(String.self, at: "_cursor") {
            guard let cursor = SearchCursor(token: token) else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "_cursor is not a cursor this server returned")
            }
            self.cursor = cursor
        }
        if let identifier, identifier.value.isEmpty {
            throw FHIROperationOutcome(code: "invalid", diagnostics: "identifier needs a value")
        }
    }

    var selfQueryString: String { queryString(cursor: cursor) }

    func queryString(cursor: SearchCursor?) -> String {
        var components = URLComponents()
        components.queryItems = [
            id.map { URLQueryItem(name: "_id", value: $0) },
            identifier.map { URLQueryItem(name: "identifier", value: ($0.system.map { $0 + "|" } ?? "") + $0.value) },
            name.map { URLQueryItem(name: "name", value: $0) },
            URLQueryItem(name: "_count", value: String(count)),
            cursor.map { URLQueryItem(name: "_cursor", value: $0.token) },
        ].compactMap { $0 }
        return "?" + (components.percentEncodedQuery ?? "")
    }
}

/// Answers errors under `/fhir` with an OperationOutcome, as FHIR clients expect.
struct OperationOutcomeMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in
            if let outcome = error as? FHIROperationOutcome { return Self.response(outcome) }
            let problem = ProblemMiddleware.problem(for: error)
            let code = problem.status == 404 ? "not-found" : (problem.status < 500 ? "invalid" : "exception")
            return Self.response(FHIROperationOutcome(code: code, diagnostics: problem.detail))
        }
    }

    static func response(_ outcome: FHIROperationOutcome) -> Response {
        let data = (try? JSONEncoder().encode(outcome)) ?? Data()
        let response = Response(status: HTTPResponseStatus(statusCode: Int(outcome.status)), body: .init(data: data))
        response.headers.replaceOrAdd(name: .contentType, value: "application/fhir+json; charset=utf-8")
        return response
    }
}

extension Optional {
    /// Maps a wrapped value with an async function.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
