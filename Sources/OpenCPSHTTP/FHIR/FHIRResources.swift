import Vapor

// The subset of FHIR R4 that the directory exposes, as plain Codable values. Optional
// fields left nil are not written, as FHIR forbids empty elements.

/// A FHIR Coding.
struct FHIRCoding: Codable, Equatable, Sendable {
    var system: String
    var code: String
    var display: String?
}

/// A FHIR Period of dates.
struct FHIRPeriod: Codable, Equatable, Sendable {
    var start: String?
    var end: String?
}

/// A FHIR Extension: a value of one type, or nested extensions.
struct FHIRExtension: Codable, Equatable, Sendable {
    var url: String
    var valueCode: String?
    var valueString: String?
    var valueDate: String?
    var valueDateTime: String?
    var valuePeriod: FHIRPeriod?
    var valueCodeableConcept: FHIRCodeableConcept?
    var `extension`: [FHIRExtension]?

    init(
        url: String, valueCode: String? = nil, valueString: String? = nil, valueDate: String? = nil, valueDateTime: String? = nil,
        valuePeriod: FHIRPeriod? = nil, valueCodeableConcept: FHIRCodeableConcept? = nil, extension: [FHIRExtension]? = nil
    ) {
        self.url = url
        self.valueCode = valueCode
        self.valueString = valueString
        self.valueDate = valueDate
        self.valueDateTime = valueDateTime
        self.valuePeriod = valuePeriod
        self.valueCodeableConcept = valueCodeableConcept
        self.extension = `extension`
    }
}

/// A FHIR CodeableConcept.
struct FHIRCodeableConcept: Codable, Equatable, Sendable {
    var `extension`: [FHIRExtension]?
    var coding: [FHIRCoding]

    init(extension: [FHIRExtension]? = nil, coding: [FHIRCoding]) {
        self.extension = `extension`
        self.coding = coding
    }
}

/// A FHIR Identifier.
struct FHIRIdentifierValue: Codable, Equatable, Sendable {
    var use: String?
    var type: FHIRCodeableConcept?
    var system: String
    var value: String
}

/// A FHIR HumanName.
struct FHIRHumanName: Codable, Equatable, Sendable {
    var use: String?
    var family: String
    var given: [String]?
    var prefix: [String]?
    var suffix: [String]?
}

/// A FHIR Address.
struct FHIRAddress: Codable, Equatable, Sendable {
    var use: String?
    var line: [String]?
    var city: String?
    var postalCode: String?
    var country: String?
}

/// A FHIR Reference.
struct FHIRReference: Codable, Equatable, Sendable {
    var reference: String
}

/// A FHIR Meta.
struct FHIRMeta: Codable, Equatable, Sendable {
    var lastUpdated: String?
    var profile: [String]?
}

/// A Practitioner qualification.
struct FHIRQualification: Codable, Equatable, Sendable {
    var code: FHIRCodeableConcept
}

/// A FHIR Practitioner.
struct FHIRPractitioner: Codable, Equatable, Sendable {
    var resourceType = "Practitioner"
    var id: String
    var meta: FHIRMeta
    var language: String? = "fr"
    var `extension`: [FHIRExtension]?
    var active: Bool
    var identifier: [FHIRIdentifierValue]
    var name: [FHIRHumanName]
    var qualification: [FHIRQualification]?
}

/// A FHIR PractitionerRole.
struct FHIRPractitionerRole: Codable, Equatable, Sendable {
    var resourceType = "PractitionerRole"
    var id: String
    var meta: FHIRMeta
    var active: Bool
    var identifier: [FHIRIdentifierValue]
    var practitioner: FHIRReference
    var organization: FHIRReference?
    var code: [FHIRCodeableConcept]?
}

/// A FHIR Organization.
struct FHIROrganization: Codable, Equatable, Sendable {
    var resourceType = "Organization"
    var id: String
    var meta: FHIRMeta
    var active: Bool
    var identifier: [FHIRIdentifierValue]
    var type: [FHIRCodeableConcept]?
    var name: String
    var alias: [String]?
    var address: [FHIRAddress]?
    var partOf: FHIRReference?
}

/// One of the directory's resources, for a Bundle entry.
enum FHIRResource: Encodable, Sendable {
    case practitioner(FHIRPractitioner)
    case practitionerRole(FHIRPractitionerRole)
    case organization(FHIROrganization)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .practitioner(let resource): try resource.encode(to: encoder)
        case .practitionerRole(let resource): try resource.encode(to: encoder)
        case .organization(let resource): try resource.encode(to: encoder)
        }
    }

    var path: String {
        switch self {
        case .practitioner(let resource): "Practitioner/\(resource.id)"
        case .practitionerRole(let resource): "PractitionerRole/\(resource.id)"
        case .organization(let resource): "Organization/\(resource.id)"
        }
    }
}

/// A FHIR Bundle of type searchset.
struct FHIRBundle: Encodable, Sendable {
    struct Link: Encodable, Sendable {
        var relation: String
        var url: String
    }

    struct Entry: Encodable, Sendable {
        struct Search: Encodable, Sendable {
            var mode: String
        }

        var fullUrl: String
        var resource: FHIRResource
        var search: Search
    }

    var resourceType = "Bundle"
    var id: String
    var meta: FHIRMeta
    var type = "searchset"
    var total: Int?
    var link: [Link]
    var entry: [Entry]?
}

/// A FHIR OperationOutcome, the body of every FHIR error.
struct FHIROperationOutcome: Codable, Sendable, Error {
    struct Issue: Codable, Sendable {
        var severity: String
        var code: String
        var diagnostics: String
    }

    var resourceType = "OperationOutcome"
    var issue: [Issue]
    var status: UInt {
        switch issue.first?.code {
        case "not-found": 404
        case "invalid", "value", "not-supported": 400
        default: 500
        }
    }

    init(code: String, diagnostics: String) {
        issue = [Issue(severity: "error", code: code, diagnostics: diagnostics)]
    }

    enum CodingKeys: String, CodingKey {
        case resourceType, issue
    }
}
