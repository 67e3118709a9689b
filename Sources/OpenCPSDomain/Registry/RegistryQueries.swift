import Foundation

/// A professional as stored, with the bookkeeping the API exposes.
public struct StoredProfessional: Sendable, Equatable {
    /// The record.
    public var professional: Professional
    /// Incremented by every update; clients send it back to update without losing a change.
    public var version: Int
    /// When the record last changed (ISO 8601, UTC).
    public var updatedAt: String
    /// The identifier of each activity, in the order of `professional.exercises[].activities[]`.
    public var activityIDs: [String]

    /// Creates the stored view of a professional.
    public init(professional: Professional, version: Int, updatedAt: String, activityIDs: [String]) {
        self.professional = professional
        self.version = version
        self.updatedAt = updatedAt
        self.activityIDs = activityIDs
    }
}

/// A stored activity with its owner, as the FHIR PractitionerRole shows it.
public struct StoredActivity: Sendable, Equatable {
    /// The activity's identifier.
    public var id: String
    /// The professional's idNat.
    public var idNat: IdNat
    /// The profession exercised.
    public var professionCode: String
    /// The activity.
    public var activity: Activity

    /// Creates the stored view of an activity.
    public init(id: String, idNat: IdNat, professionCode: String, activity: Activity) {
        self.id = id
        self.idNat = idNat
        self.professionCode = professionCode
        self.activity = activity
    }
}

/// A search of professionals. Every criterion is optional; they combine with AND.
public struct ProfessionalSearch: Sendable, Equatable {
    /// A prefix of the name key (last name, then first name), any case or accents.
    public var namePrefix: String?
    /// A profession code that one of the activities has.
    public var professionCode: String?
    /// A department where one of the activities is.
    public var department: DepartmentCode?
    /// How many to return at most.
    public var limit: Int
    /// Where the previous page ended (see ``ProfessionalPage/nextCursor``).
    public var after: SearchCursor?

    /// Creates a search.
    public init(namePrefix: String? = nil, professionCode: String? = nil, department: DepartmentCode? = nil, limit: Int = 20, after: SearchCursor? = nil) {
        self.namePrefix = namePrefix
        self.professionCode = professionCode
        self.department = department
        self.limit = limit
        self.after = after
    }
}

/// The position after which a page of results starts: the last name key and idNat seen.
public struct SearchCursor: Sendable, Equatable, Codable {
    /// The name key of the last result of the previous page.
    public var nameKey: String
    /// Its key.
    public var id: String

    /// Creates a cursor.
    public init(nameKey: String, id: String) {
        self.nameKey = nameKey
        self.id = id
    }

    /// The cursor as an opaque URL-safe token.
    public var token: String {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Reads a token made by ``token``; nil when it is not one.
    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let cursor = try? JSONDecoder().decode(Self.self, from: data) else {
            return nil
        }
        self = cursor
    }
}

/// One page of professionals.
public struct ProfessionalPage: Sendable {
    /// The professionals of this page, in name order.
    public var items: [StoredProfessional]
    /// Where the next page starts, or nil on the last page.
    public var nextCursor: SearchCursor?

    /// Creates a page.
    public init(items: [StoredProfessional], nextCursor: SearchCursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
