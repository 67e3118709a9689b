/// What each search of the directory supports, and the CapabilityStatement that says so: the
/// search parameters of the national directory's API (REFERENCE §6) that OpenCPS implements.
/// The statement is built from the same tables the searches check their parameters against,
/// so that it lists exactly what is supported.
enum FHIRSearchSupport {
    private static let text: Set<String> = ["exact", "contains"]

    /// Practitioner.
    static let practitioner = SearchParameters.Support(
        parameters: [
            "_id": [], "identifier": [], "name": text, "family": text, "given": text, "active": [], "_lastUpdated": [],
            "qualification-code": [], "identifier-type": [], "number-smartcard": [],
        ],
        revincludes: ["PractitionerRole:practitioner"])

    /// PractitionerRole.
    static let practitionerRole = SearchParameters.Support(
        parameters: [
            "_id": [], "identifier": [], "practitioner": [], "organization": [], "role": [], "active": [], "_lastUpdated": [],
            "name": text, "family": text,
        ],
        includes: ["*", "PractitionerRole:organization", "PractitionerRole:practitioner"])

    /// Organization.
    static let organization = SearchParameters.Support(
        parameters: [
            "_id": [], "identifier": [], "name": text, "partof": [], "type": [], "address": text, "address-city": text,
            "address-postalcode": text, "address-line": text, "identifier-type": [], "active": [], "_lastUpdated": [],
        ],
        includes: ["*", "Organization:partof"], revincludes: ["PractitionerRole:organization"])

    /// The FHIR type of each parameter.
    static func type(of parameter: String) -> String {
        switch parameter {
        case "_lastUpdated": "date"
        case "practitioner", "organization", "partof": "reference"
        case "name", "family", "given", "address", "address-city", "address-postalcode", "address-line", "number-smartcard": "string"
        default: "token"
        }
    }

    /// The CapabilityStatement of `/fhir/metadata`.
    static func capabilityStatement(baseURL: String) -> [String: Any] {
        let resources: [(String, SearchParameters.Support)] = [
            ("Practitioner", practitioner), ("PractitionerRole", practitionerRole), ("Organization", organization),
        ]
        let rest: [[String: Any]] = [[
            "mode": "server",
            "resource": resources.map { type, support in
                var resource: [String: Any] = [
                    "type": type,
                    "interaction": [["code": "read"], ["code": "search-type"]],
                    "searchParam": support.parameters.keys.sorted().map { ["name": $0, "type": Self.type(of: $0)] },
                ]
                if !support.includes.isEmpty { resource["searchInclude"] = support.includes.sorted() }
                if !support.revincludes.isEmpty { resource["searchRevInclude"] = support.revincludes.sorted() }
                return resource
            },
        ]]
        return [
            "resourceType": "CapabilityStatement", "status": "active", "date": "2026-12-04",
            "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
            "implementation": ["description": "OpenCPS directory", "url": baseURL + "/fhir"],
            "rest": rest,
        ]
    }
}
