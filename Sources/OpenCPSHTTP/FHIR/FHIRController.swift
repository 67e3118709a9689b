import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// The FHIR R4 directory under `/fhir`: Practitioner, PractitionerRole and Organization, read
/// by id and searched (GET, and POST `_search` with a form body) by the parameters of the
/// national directory's API that ``FHIRSearchSupport`` lists, with `_include` and
/// `_revinclude`. Errors are OperationOutcomes.
public struct FHIRController: Sendable {
    private let registry: RegistryService
    private let cards: CardDirectoryListing
    private let baseURL: String

    /// Creates the controller.
    /// - Parameters:
    ///   - registry: the registry to read.
    ///   - cards: the cards made for each practitioner (`as-ext-smartcard`, `number-smartcard`).
    ///   - publicBaseURL: the server's public URL, for the `fullUrl` of bundle entries.
    public init(registry: RegistryService, cards: CardDirectoryListing, publicBaseURL: String) {
        self.registry = registry
        self.cards = cards
        self.baseURL = publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL
    }

    /// Registers the routes under `fhir`.
    public func register(on fhir: any RoutesBuilder) {
        let routes = fhir.grouped(OperationOutcomeMiddleware())
        routes.get("metadata", use: capabilities)
        routes.get("Practitioner", use: searchPractitioners)
        routes.post("Practitioner", "_search", use: searchPractitioners)
        routes.get("Practitioner", ":id", use: readPractitioner)
        routes.get("PractitionerRole", use: searchPractitionerRoles)
        routes.post("PractitionerRole", "_search", use: searchPractitionerRoles)
        routes.get("PractitionerRole", ":id", use: readPractitionerRole)
        routes.get("Organization", use: searchOrganizations)
        routes.post("Organization", "_search", use: searchOrganizations)
        routes.get("Organization", ":id", use: readOrganization)
    }

    // MARK: Practitioner

    @Sendable
    func readPractitioner(_ request: Request) async throws -> Response {
        let id = try request.parameters.require("id")
        guard let idNat = FHIRIdentifier.idNat(id), let stored = try await registry.professionalIfAny(idNat) else {
            throw FHIROperationOutcome(code: "not-found", diagnostics: "Practitioner/\(id) is not known")
        }
        return try fhirResponse(try await practitioner(stored))
    }

    @Sendable
    func searchPractitioners(_ request: Request) async throws -> Response {
        let parameters = try SearchParameters(request, support: FHIRSearchSupport.practitioner)
        var criteria = PractitionerCriteria()
        criteria.limit = parameters.count
        criteria.after = parameters.cursor
        var idNats: Set<String>?
        func restrict(to values: [String]) {
            idNats = idNats.map { $0.intersection(values) } ?? Set(values)
        }
        if let id = parameters.value("_id") { restrict(to: FHIRIdentifier.idNat(id).map { [$0.value] } ?? []) }
        if let tokens = parameters.tokens("identifier") { restrict(to: tokens.flatMap(Self.practitionerIDNats)) }
        if let number = parameters.value("number-smartcard") {
            restrict(to: try await cards.holder(ofCardNumber: number).map { [$0.value] } ?? [])
        }
        criteria.idNats = idNats.map { Array($0) }
        criteria.name = parameters.text("name")
        criteria.family = parameters.text("family")
        criteria.given = parameters.text("given")
        criteria.active = try parameters.active()
        criteria.lastUpdated = try parameters.lastUpdated()
        criteria.qualificationCodes = parameters.tokens("qualification-code")?.map(\.value) ?? []
        if let types = parameters.tokens("identifier-type") {
            let codes = types.map(\.value)
            // Every practitioner has an idNat (IDNPS); the others name the type of register.
            if !codes.contains("IDNPS") {
                criteria.identifierTypes = codes.compactMap { ["RPPS": "8", "ADELI": "0", "1": "1", "3": "3", "4": "4", "5": "5", "6": "6"][$0] }
                if criteria.identifierTypes.isEmpty { criteria.idNats = [] }
            }
        }
        let page = try await registry.practitioners(criteria)
        var matches: [FHIRResource] = []
        for stored in page.items { matches.append(.practitioner(try await practitioner(stored))) }
        var included: [FHIRResource] = []
        if parameters.all("_revinclude").contains("PractitionerRole:practitioner") {
            for stored in page.items {
                var role = RoleCriteria()
                role.idNat = stored.professional.idNat.value
                role.limit = 200
                included += try await registry.roles(role).items.map { .practitionerRole(FHIRMapping.practitionerRole($0, lastUpdated: stored.updatedAt)) }
            }
        }
        return try bundle(matches, included: included, type: "Practitioner", parameters: parameters, next: page.nextCursor)
    }

    private func practitioner(_ stored: StoredProfessional) async throws -> FHIRPractitioner {
        FHIRMapping.practitioner(stored, cards: try await cards.cards(of: stored.professional.idNat))
    }

    /// The idNats an `identifier` token names, by its system (none: RPPS, ADELI or idNat).
    static func practitionerIDNats(_ token: Token) -> [String] {
        switch token.system {
        case nil: ["8" + token.value, "0" + token.value, token.value]
        case let system? where FHIRSystem.rppsSystems.contains(system): ["8" + token.value]
        case let system? where FHIRSystem.adeliSystems.contains(system): ["0" + token.value]
        case FHIRSystem.idNatPS?: [token.value]
        default: []
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
        let parameters = try SearchParameters(request, support: FHIRSearchSupport.practitionerRole)
        var criteria = RoleCriteria()
        criteria.limit = parameters.count
        criteria.afterID = parameters.cursor?.id
        var none = false
        if let id = parameters.value("_id") { criteria.activityID = id }
        if let tokens = parameters.tokens("identifier") {
            let ids = tokens.filter { $0.system == nil || $0.system == FHIRSystem.activity }.map(\.value)
            if let id = ids.first, ids.count == 1, criteria.activityID == nil || criteria.activityID == id {
                criteria.activityID = id
            } else {
                none = true
            }
        }
        if let practitioner = parameters.value("practitioner") {
            let id = practitioner.hasPrefix("Practitioner/") ? String(practitioner.dropFirst("Practitioner/".count)) : practitioner
            guard let idNat = FHIRIdentifier.idNat(id) else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "practitioner must be a Practitioner id, got \(practitioner)")
            }
            criteria.idNat = idNat.value
        }
        if let organization = parameters.value("organization") {
            criteria.structureID = organization.hasPrefix("Organization/") ? String(organization.dropFirst("Organization/".count)) : organization
        }
        criteria.roleCodes = parameters.tokens("role")?.map(\.value) ?? []
        criteria.name = parameters.text("name") ?? parameters.text("family")
        criteria.active = try parameters.active()
        criteria.lastUpdated = try parameters.lastUpdated()
        let found = none ? (items: [], more: false) : try await registry.roles(criteria)
        let matches = found.items.map { FHIRResource.practitionerRole(FHIRMapping.practitionerRole($0, lastUpdated: nil)) }
        var included: [FHIRResource] = []
        let includes = Set(parameters.all("_include"))
        if includes.contains("PractitionerRole:practitioner") || includes.contains("*") {
            var seen: [String] = []
            for activity in found.items where !seen.contains(activity.idNat.value) { seen.append(activity.idNat.value) }
            for stored in try await registry.professionals(idNats: seen) { included.append(.practitioner(try await practitioner(stored))) }
        }
        if includes.contains("PractitionerRole:organization") || includes.contains("*") {
            var ids: [String] = []
            for activity in found.items {
                if let id = activity.activity.structure?.idNatStruct, !ids.contains(id) { ids.append(id) }
            }
            included += try await registry.structures(ids: ids).map { .organization(FHIRMapping.organization($0)) }
        }
        let next = found.more ? found.items.last.map { SearchCursor(nameKey: "", id: $0.id) } : nil
        return try bundle(matches, included: included, type: "PractitionerRole", parameters: parameters, next: next)
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
        let parameters = try SearchParameters(request, support: FHIRSearchSupport.organization)
        var criteria = OrganizationCriteria()
        criteria.limit = parameters.count
        criteria.after = parameters.cursor
        var ids: Set<String>?
        func restrict(to values: [String]) { ids = ids.map { $0.intersection(values) } ?? Set(values) }
        if let id = parameters.value("_id") { restrict(to: [id]) }
        if let tokens = parameters.tokens("identifier") {
            var matching: [String] = []
            for token in tokens {
                let (idList, sirens) = Self.organizationIDs(token)
                matching += idList
                // A SIREN also names the sites of that company.
                if !sirens.isEmpty { matching += try await registry.structures(ids: [], sirens: sirens).map(\.identifier.idNatStruct) }
            }
            restrict(to: matching)
        }
        criteria.ids = ids.map { Array($0) }
        criteria.name = parameters.text("name")
        if let partOf = parameters.value("partof") {
            let id = partOf.hasPrefix("Organization/") ? String(partOf.dropFirst("Organization/".count)) : partOf
            // Only an establishment's legal entity (a FINESS EJ) has sites here.
            criteria.partOf = id.hasPrefix("1") ? String(id.dropFirst()) : "-"
        }
        criteria.typeCodes = parameters.tokens("type")?.map(\.value) ?? []
        criteria.address = parameters.text("address")
        criteria.city = parameters.text("address-city")
        criteria.postalCode = parameters.text("address-postalcode")
        criteria.line = parameters.text("address-line")
        criteria.identifierTypes = parameters.tokens("identifier-type")?.map(\.value) ?? []
        criteria.active = try parameters.active()
        criteria.lastUpdated = try parameters.lastUpdated()
        let page = try await registry.organizations(criteria)
        let matches = page.items.map { FHIRResource.organization(FHIRMapping.organization($0)) }
        var included: [FHIRResource] = []
        let includes = Set(parameters.all("_include"))
        if includes.contains("Organization:partof") || includes.contains("*") {
            var parents: [String] = []
            for structure in page.items {
                if let legal = structure.legalEntity.map({ "1" + $0.value }), !parents.contains(legal) { parents.append(legal) }
            }
            included += try await registry.structures(ids: parents).map { .organization(FHIRMapping.organization($0)) }
        }
        if parameters.all("_revinclude").contains("PractitionerRole:organization") {
            for structure in page.items {
                var role = RoleCriteria()
                role.structureID = structure.identifier.idNatStruct
                role.limit = 200
                included += try await registry.roles(role).items.map { .practitionerRole(FHIRMapping.practitionerRole($0, lastUpdated: nil)) }
            }
        }
        return try bundle(matches, included: included, type: "Organization", parameters: parameters, next: page.nextCursor)
    }

    /// The idNatStructs an `identifier` token names by its system, and the SIRENs it names.
    static func organizationIDs(_ token: Token) -> (ids: [String], sirens: [String]) {
        let value = token.value
        let isSIREN = value.count == 9 && value.allSatisfy(\.isNumber)
        switch token.system {
        case nil: return ([value, "1" + value, "2" + value, "3" + value], isSIREN ? [value] : [])
        case let system? where FHIRSystem.finessSystems.contains(system): return (["1" + value], [])
        case let system? where FHIRSystem.sireneSystems.contains(system):
            return isSIREN ? (["2" + value], [value]) : (["3" + value], [])
        case FHIRSystem.rppsRang?: return (["4" + value], [])
        case FHIRSystem.idNatStruct?: return ([value], [])
        default: return ([], [])
        }
    }

    // MARK: Capability statement

    @Sendable
    func capabilities(_ request: Request) async throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: FHIRSearchSupport.capabilityStatement(baseURL: baseURL), options: [.sortedKeys])
        return fhirResponse(data: data)
    }

    // MARK: Plumbing

    private func bundle(
        _ matches: [FHIRResource], included: [FHIRResource], type: String, parameters: SearchParameters, next: SearchCursor?
    ) throws -> Response {
        var links = [FHIRBundle.Link(relation: "self", url: baseURL + "/fhir/\(type)" + parameters.queryString(cursor: parameters.cursor))]
        if let next {
            links.append(FHIRBundle.Link(relation: "next", url: baseURL + "/fhir/\(type)" + parameters.queryString(cursor: next)))
        }
        var seen = Set(matches.map(\.path))
        var entries = matches.map { FHIRBundle.Entry(fullUrl: baseURL + "/fhir/" + $0.path, resource: $0, search: .init(mode: "match")) }
        for resource in included where seen.insert(resource.path).inserted {
            entries.append(FHIRBundle.Entry(fullUrl: baseURL + "/fhir/" + resource.path, resource: resource, search: .init(mode: "include")))
        }
        let bundle = FHIRBundle(
            id: UUID().uuidString.lowercased(),
            meta: FHIRMeta(lastUpdated: Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))),
            total: next == nil && parameters.cursor == nil ? matches.count : nil,
            link: links,
            entry: entries.isEmpty ? nil : entries)
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
