import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// The directory's searches (FHIR Practitioner, PractitionerRole and Organization): criteria
/// combined with AND, written as one SQL query each, paged by a cursor.
///
/// Name criteria read the normalised name keys (case and accents ignored); a prefix uses the
/// key's index, `:contains` scans. Address criteria compare upper-cased text.
extension RegistryRepository {
    /// Practitioners matching the criteria, one page in name order.
    public func practitioners(_ criteria: PractitionerCriteria) async throws -> ProfessionalPage {
        let sql = database.sql
        let limit = max(1, min(criteria.limit, 200))
        if criteria.active == false || criteria.idNats?.isEmpty == true { return ProfessionalPage(items: [], nextCursor: nil) }
        let query = sql.select().columns("*").from("professionals")
        if let idNats = criteria.idNats { query.where("id_nat", .in, idNats) }
        if let name = criteria.name { Self.match(query, column: "name_key", name, normalised: true) }
        if let family = criteria.family {
            // The key is the last name, a space, the first name.
            let text = NameKey.normalise(family.text)
            switch family.match {
            case .startsWith: Self.match(query, column: "name_key", TextCriterion(text), normalised: false)
            case .exact: query.where(SQLQueryString("(name_key = \(bind: text) OR name_key LIKE \(bind: Self.escaped(text) + " %") ESCAPE '\\')"))
            case .contains:
                let inner = "%" + Self.escaped(text) + "%"
                query.where(SQLQueryString(
                    "(name_key LIKE \(bind: inner + " %") ESCAPE '\\' OR (name_key LIKE \(bind: inner) ESCAPE '\\' AND name_key NOT LIKE '% %'))"))
            }
        }
        if let given = criteria.given {
            let text = Self.escaped(NameKey.normalise(given.text))
            let pattern = switch given.match {
            case .startsWith: "% " + text + "%"
            case .exact: "% " + text
            case .contains: "% %" + text + "%"
            }
            query.where(SQLQueryString("name_key LIKE \(bind: pattern) ESCAPE '\\'"))
        }
        Self.dates(query, column: "updated_at", criteria.lastUpdated)
        if !criteria.identifierTypes.isEmpty { query.where("id_type", .in, criteria.identifierTypes) }
        if !criteria.qualificationCodes.isEmpty {
            query.where(SQLQueryString("""
                EXISTS (SELECT 1 FROM exercises e WHERE e.id_nat = professionals.id_nat AND (e.profession_code IN (\(binds: criteria.qualificationCodes)) \
                OR e.savoir_faire_code IN (\(binds: criteria.qualificationCodes)) OR e.category_code IN (\(binds: criteria.qualificationCodes))))
                """))
        }
        if let after = criteria.after {
            query.where(SQLQueryString(
                "(name_key > \(bind: after.nameKey) OR (name_key = \(bind: after.nameKey) AND id_nat > \(bind: after.id)))"))
        }
        let rows = try await query.orderBy("name_key").orderBy("id_nat").limit(limit + 1).all(decoding: ProfessionalRow.self)
        let pageRows = rows.prefix(limit)
        let details = try await Self.details(of: pageRows.map(\.id_nat), on: sql)
        let items = try pageRows.map { try Self.assemble($0, details: details) }
        let next = rows.count > limit ? pageRows.last.map { SearchCursor(nameKey: $0.name_key, id: $0.id_nat) } : nil
        return ProfessionalPage(items: items, nextCursor: next)
    }

    /// Activities matching the criteria, in identifier order, and whether more follow.
    public func roles(_ criteria: RoleCriteria) async throws -> (items: [StoredActivity], more: Bool) {
        let limit = max(1, min(criteria.limit, 200))
        if criteria.active == false { return ([], false) }
        let query = database.sql.select().columns("*").from("activities")
        if let id = criteria.activityID { query.where("id", .equal, id) }
        if let idNat = criteria.idNat { query.where("id_nat", .equal, idNat) }
        if let structureID = criteria.structureID { query.where("structure_id", .equal, structureID) }
        if !criteria.roleCodes.isEmpty {
            let codes = criteria.roleCodes
            query.where(SQLQueryString("""
                (mode_code IN (\(binds: codes)) OR fonction_code IN (\(binds: codes)) OR genre_code IN (\(binds: codes)) OR section_code IN (\(binds: codes)))
                """))
        }
        if criteria.name != nil || !criteria.lastUpdated.isEmpty {
            let inner = database.sql.select().column("id_nat").from("professionals")
            if let name = criteria.name { Self.match(inner, column: "name_key", name, normalised: true) }
            Self.dates(inner, column: "updated_at", criteria.lastUpdated)
            var condition = SQLQueryString("id_nat IN (")
            condition.appendInterpolation(inner.query)
            condition.appendInterpolation(unsafeRaw: ")")
            query.where(condition)
        }
        if let after = criteria.afterID { query.where("id", .greaterThan, after) }
        let rows = try await query.orderBy("id").limit(limit + 1).all(decoding: ActivityRow.self)
        return (try rows.prefix(limit).map(Self.storedActivity), rows.count > limit)
    }

    /// Structures matching the criteria, one page in name order.
    public func organizations(_ criteria: OrganizationCriteria) async throws -> StructurePage {
        let limit = max(1, min(criteria.limit, 200))
        if criteria.active == false || criteria.ids?.isEmpty == true { return StructurePage(items: [], nextCursor: nil) }
        let query = database.sql.select().columns("*").from("structures")
        if let ids = criteria.ids { query.where("id", .in, ids) }
        if let name = criteria.name { Self.match(query, column: "name_key", name, normalised: true) }
        if let partOf = criteria.partOf { query.where("legal_entity_finess", .equal, partOf) }
        if !criteria.typeCodes.isEmpty {
            let codes = criteria.typeCodes
            var condition = SQLQueryString("(sector_code IN (\(binds: codes))")
            if codes.contains(OrganizationEntity.legal.rawValue) { condition.appendInterpolation(unsafeRaw: " OR entity = 'LEGAL-ENTITY'") }
            if codes.contains(OrganizationEntity.geographical.rawValue) { condition.appendInterpolation(unsafeRaw: " OR entity IS NULL") }
            condition.appendInterpolation(unsafeRaw: ")")
            query.where(condition)
        }
        if let city = criteria.city { Self.match(query, column: "city", city, normalised: false, upper: true) }
        if let postalCode = criteria.postalCode { Self.match(query, column: "postal_code", postalCode, normalised: false, upper: true) }
        if let line = criteria.line { Self.match(query, column: "address_line", line, normalised: false, upper: true) }
        if let address = criteria.address {
            let pattern = Self.pattern(address.text.uppercased(), address.match)
            query.where(SQLQueryString("""
                (UPPER(address_line) LIKE \(bind: pattern) ESCAPE '\\' OR UPPER(city) LIKE \(bind: pattern) ESCAPE '\\' \
                OR postal_code LIKE \(bind: pattern) ESCAPE '\\')
                """))
        }
        for type in criteria.identifierTypes {
            switch type {
            case "FINEG": query.where("kind", .equal, "finess").where(SQLQueryString("entity IS NULL"))
            case "FINEJ": query.where("kind", .equal, "finess").where("entity", .equal, OrganizationEntity.legal.rawValue)
            case "SIRET": query.where("kind", .equal, "siret")
            case "SIREN": query.where(SQLQueryString("siren IS NOT NULL"))
            case "RPPSRG": query.where("kind", .equal, "rpps-rang")
            case "IDNST": break
            default: return StructurePage(items: [], nextCursor: nil)
            }
        }
        Self.dates(query, column: "updated_at", criteria.lastUpdated)
        if let after = criteria.after {
            query.where(SQLQueryString("(name_key > \(bind: after.nameKey) OR (name_key = \(bind: after.nameKey) AND id > \(bind: after.id)))"))
        }
        let rows = try await query.orderBy("name_key").orderBy("id").limit(limit + 1).all(decoding: StructureRow.self)
        let page = rows.prefix(limit)
        let next = rows.count > limit ? page.last.map { SearchCursor(nameKey: $0.name_key, id: $0.id) } : nil
        return StructurePage(items: try page.map { try $0.structure() }, nextCursor: next)
    }

    /// The structures with these idNatStructs, or whose SIREN is one of `sirens`.
    public func structures(ids: [String], sirens: [String] = []) async throws -> [Structure] {
        guard !ids.isEmpty || !sirens.isEmpty else { return [] }
        let query = database.sql.select().columns("*").from("structures")
        query.where(SQLQueryString("(id IN (\(binds: ids.isEmpty ? [""] : ids)) OR siren IN (\(binds: sirens.isEmpty ? [""] : sirens)))"))
        return try await query.orderBy("id").all(decoding: StructureRow.self).map { try $0.structure() }
    }

    // MARK: SQL pieces

    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    static func pattern(_ text: String, _ match: TextMatch) -> String {
        switch match {
        case .startsWith: escaped(text) + "%"
        case .exact: escaped(text)
        case .contains: "%" + escaped(text) + "%"
        }
    }

    static func match(_ query: SQLSelectBuilder, column: String, _ criterion: TextCriterion, normalised: Bool, upper: Bool = false) {
        let text = normalised ? NameKey.normalise(criterion.text) : (upper ? criterion.text.uppercased() : criterion.text)
        if criterion.match == .startsWith, !upper {
            // A range on the column, so that its index serves the prefix.
            query.where(SQLIdentifier(column), .greaterThanOrEqual, SQLBind(text))
                .where(SQLIdentifier(column), .lessThan, SQLBind(text + "\u{FFFF}"))
            return
        }
        let subject = upper ? "UPPER(\(column))" : column
        query.where(SQLQueryString("\(unsafeRaw: subject) LIKE \(bind: pattern(text, criterion.match)) ESCAPE '\\'"))
    }

    static func dates(_ query: SQLSelectBuilder, column: String, _ criteria: [DateCriterion]) {
        // Stored instants are ISO 8601 text: a prefix's span is [value, value + "~"), "~" sorting
        // after every character an instant holds.
        for criterion in criteria {
            let low = criterion.value
            let high = criterion.value + "~"
            switch criterion.comparison {
            case .eq: query.where(SQLIdentifier(column), .greaterThanOrEqual, SQLBind(low)).where(SQLIdentifier(column), .lessThan, SQLBind(high))
            case .gt: query.where(SQLIdentifier(column), .greaterThanOrEqual, SQLBind(high))
            case .ge: query.where(SQLIdentifier(column), .greaterThanOrEqual, SQLBind(low))
            case .lt: query.where(SQLIdentifier(column), .lessThan, SQLBind(low))
            case .le: query.where(SQLIdentifier(column), .lessThan, SQLBind(high))
            }
        }
    }
}
