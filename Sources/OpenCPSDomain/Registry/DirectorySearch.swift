/// How a text criterion of a directory search matches (FHIR string search and its modifiers).
public enum TextMatch: String, Sendable, Equatable {
    /// The value starts with the text, case and accents ignored (FHIR's default).
    case startsWith
    /// The value is the text exactly (`:exact`).
    case exact
    /// The value contains the text, case and accents ignored (`:contains`).
    case contains
}

/// A text criterion: the text and how it matches.
public struct TextCriterion: Sendable, Equatable {
    /// The text searched for.
    public var text: String
    /// How it matches.
    public var match: TextMatch

    /// Creates a criterion.
    public init(_ text: String, match: TextMatch = .startsWith) {
        self.text = text
        self.match = match
    }
}

/// A criterion on a record's last update (FHIR date search with a prefix). `value` is a
/// prefix of an ISO 8601 instant (`2026-12-04`, `2026-12-04T10:00`...): `eq` matches every
/// instant it covers, `gt` those after all of them, `ge`, `lt` and `le` likewise.
public struct DateCriterion: Sendable, Equatable {
    /// The comparison.
    public enum Comparison: String, Sendable, CaseIterable {
        /// Within the value's span.
        case eq
        /// After the span.
        case gt
        /// Within or after.
        case ge
        /// Before the span.
        case lt
        /// Within or before.
        case le
    }

    /// The comparison.
    public var comparison: Comparison
    /// The instant's prefix.
    public var value: String

    /// Creates a criterion.
    public init(_ comparison: Comparison, _ value: String) {
        self.comparison = comparison
        self.value = value
    }
}

/// A search of practitioners (the directory's Practitioner search). Every criterion is
/// optional; they combine with AND; a list matches when any of its values does.
public struct PractitionerCriteria: Sendable, Equatable {
    /// Only these idNats (from `_id`, `identifier` or `number-smartcard`).
    public var idNats: [String]?
    /// The name practised under: last name (`family`).
    public var family: TextCriterion?
    /// The first name (`given`).
    public var given: TextCriterion?
    /// Last name then first name (`name`).
    public var name: TextCriterion?
    /// Every stored practitioner is active: `false` matches none.
    public var active: Bool?
    /// Criteria on the last update, all of which must hold.
    public var lastUpdated: [DateCriterion] = []
    /// Profession or savoir-faire codes (`qualification-code`).
    public var qualificationCodes: [String] = []
    /// idNat type codes (`identifier-type`: 8 RPPS, 0 ADELI, 1, 3, 4, 5, 6).
    public var identifierTypes: [String] = []
    /// How many to return at most.
    public var limit: Int = 20
    /// Where the previous page ended.
    public var after: SearchCursor?

    /// Creates an empty search.
    public init() {}
}

/// A search of activities (the directory's PractitionerRole search).
public struct RoleCriteria: Sendable, Equatable {
    /// Only this activity.
    public var activityID: String?
    /// Activities of this idNat.
    public var idNat: String?
    /// Activities at this structure (idNatStruct).
    public var structureID: String?
    /// Mode, function, genre or section codes (`role`).
    public var roleCodes: [String] = []
    /// Activities of professionals matching this name.
    public var name: TextCriterion?
    /// `false` matches none.
    public var active: Bool?
    /// Criteria on the professional's last update.
    public var lastUpdated: [DateCriterion] = []
    /// How many to return at most.
    public var limit: Int = 20
    /// The last activity id of the previous page.
    public var afterID: String?

    /// Creates an empty search.
    public init() {}
}

/// A search of structures (the directory's Organization search).
public struct OrganizationCriteria: Sendable, Equatable {
    /// Only these idNatStructs (from `_id` or `identifier`).
    public var ids: [String]?
    /// The name (*raison sociale*).
    public var name: TextCriterion?
    /// Sites of this legal entity (its FINESS).
    public var partOf: String?
    /// Sector codes (TRE_R02) or entity kinds (`LEGAL-ENTITY`, `GEOGRAPHICAL-ENTITY`) (`type`).
    public var typeCodes: [String] = []
    /// Any part of the address (`address`).
    public var address: TextCriterion?
    /// The town (`address-city`).
    public var city: TextCriterion?
    /// The postal code (`address-postalcode`).
    public var postalCode: TextCriterion?
    /// The street line (`address-line`).
    public var line: TextCriterion?
    /// Identifier kinds the structure must have (`identifier-type`: FINEG, FINEJ, SIRET, SIREN, RPPSRG, IDNST).
    public var identifierTypes: [String] = []
    /// `false` matches none.
    public var active: Bool?
    /// Criteria on the last update.
    public var lastUpdated: [DateCriterion] = []
    /// How many to return at most.
    public var limit: Int = 20
    /// Where the previous page ended.
    public var after: SearchCursor?

    /// Creates an empty search.
    public init() {}
}

/// One page of structures.
public struct StructurePage: Sendable {
    /// The structures, in name order.
    public var items: [Structure]
    /// Where the next page starts, or nil on the last page.
    public var nextCursor: SearchCursor?

    /// Creates a page.
    public init(items: [Structure], nextCursor: SearchCursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
