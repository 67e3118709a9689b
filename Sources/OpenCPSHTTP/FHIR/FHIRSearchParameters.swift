import Foundation
import OpenCPSDomain
import Vapor

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

/// One search's parameters, from the URL and, for `POST _search`, the form body, with their
/// modifiers (`family:exact`).
struct SearchParameters {
    struct Item {
        var name: String
        var modifier: String?
        var value: String
    }

    /// What one resource's search supports: each parameter with the modifiers it takes.
    struct Support {
        var parameters: [String: Set<String>]
        /// The values `_include` accepts, and `_revinclude`.
        var includes: Set<String> = []
        var revincludes: Set<String> = []

        /// Parameters every search reads (`_count`, `_cursor`), beside the resource's.
        static let paging: Set<String> = ["_count", "_cursor"]
    }

    var items: [Item]
    var count: Int
    var cursor: SearchCursor?

    /// Reads the parameters and refuses what `support` does not list (400 `not-supported`,
    /// naming it) unless the client sent `Prefer: handling=lenient`, in which case it is ignored.
    init(_ request: Request, support: Support) throws {
        var pairs = URLComponents(string: request.url.string)?.queryItems ?? []
        if request.method == .POST {
            guard request.headers.contentType == nil || request.headers.contentType == .urlEncodedForm else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "POST _search takes application/x-www-form-urlencoded parameters")
            }
            let body = request.body.string ?? ""
            var components = URLComponents()
            components.percentEncodedQuery = body.replacingOccurrences(of: "+", with: "%20")
            pairs += components.queryItems ?? []
        }
        let lenient = request.headers[.init("Prefer")].contains {
            $0.replacingOccurrences(of: " ", with: "").lowercased().contains("handling=lenient")
        }
        var items: [Item] = []
        for pair in pairs {
            let parts = pair.name.split(separator: ":", maxSplits: 1).map(String.init)
            let name = parts.first ?? ""
            let modifier = parts.count > 1 ? parts[1] : nil
            let value = pair.value ?? ""
            let known = Support.paging.contains(name) || support.parameters[name] != nil || name == "_include" || name == "_revinclude"
            var refusal: String?
            if !known {
                let supported = (support.parameters.keys.sorted() + (support.includes.isEmpty ? [] : ["_include"])
                    + (support.revincludes.isEmpty ? [] : ["_revinclude"])).joined(separator: ", ")
                refusal = "the search parameter \(name) is not supported here (supported: \(supported))"
            } else if let modifier, !(support.parameters[name] ?? []).contains(modifier) {
                refusal = "the modifier :\(modifier) is not supported on \(name)"
            } else if name == "_include", !support.includes.contains(value) {
                refusal = "_include=\(value) is not supported here (supported: \(support.includes.sorted().joined(separator: ", ")))"
            } else if name == "_revinclude", !support.revincludes.contains(value) {
                refusal = "_revinclude=\(value) is not supported here (supported: \(support.revincludes.sorted().joined(separator: ", ")))"
            }
            if let refusal {
                if lenient { continue }
                throw FHIROperationOutcome(
                    code: "not-supported", diagnostics: refusal + "; send Prefer: handling=lenient to have unknown parameters ignored")
            }
            items.append(Item(name: name, modifier: modifier, value: value))
        }
        self.items = items
        if let text = items.last(where: { $0.name == "_count" })?.value {
            guard let count = Int(text), (1...200).contains(count) else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "_count must be a whole number from 1 to 200")
            }
            self.count = count
        } else {
            count = 20
        }
        if let token = items.last(where: { $0.name == "_cursor" })?.value {
            guard let cursor = SearchCursor(token: token) else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "_cursor is not a cursor this server returned")
            }
            self.cursor = cursor
        }
        for item in items where item.value.isEmpty && item.name != "_cursor" {
            throw FHIROperationOutcome(code: "invalid", diagnostics: "\(item.name) needs a value")
        }
    }

    /// The value of a parameter given once (the last, if repeated).
    func value(_ name: String) -> String? { items.last { $0.name == name }?.value }

    /// The parameter with its modifier as a text criterion.
    func text(_ name: String) -> TextCriterion? {
        guard let item = items.last(where: { $0.name == name }) else { return nil }
        let match: TextMatch = switch item.modifier {
        case "exact": .exact
        case "contains": .contains
        default: .startsWith
        }
        return TextCriterion(item.value, match: match)
    }

    /// A token parameter's values: comma-separated values are alternatives.
    func tokens(_ name: String) -> [Token]? {
        let values = items.filter { $0.name == name }.map(\.value)
        guard !values.isEmpty else { return nil }
        return values.flatMap { $0.split(separator: ",").map { Token(String($0)) } }
    }

    /// Every value of a repeated parameter.
    func all(_ name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }

    /// `active`: true or false.
    func active() throws -> Bool? {
        guard let text = value("active") else { return nil }
        guard let active = Bool(text) else {
            throw FHIROperationOutcome(code: "invalid", diagnostics: "active is true or false, got \(text)")
        }
        return active
    }

    /// `_lastUpdated`, each value with its prefix (`gt2026-01-01`; none means `eq`).
    func lastUpdated() throws -> [DateCriterion] {
        try all("_lastUpdated").map { text in
            var comparison = DateCriterion.Comparison.eq
            var date = Substring(text)
            if let prefix = DateCriterion.Comparison(rawValue: String(text.prefix(2))) {
                comparison = prefix
                date = date.dropFirst(2)
            }
            guard date.count >= 4, date.prefix(4).allSatisfy(\.isNumber),
                  date.allSatisfy({ $0.isNumber || "-:T.Z+".contains($0) }) else {
                throw FHIROperationOutcome(code: "invalid", diagnostics: "_lastUpdated is a date or instant with an optional prefix (eq, gt, ge, lt, le), got \(text)")
            }
            return DateCriterion(comparison, String(date))
        }
    }

    /// The query string of the next page: these parameters with `_cursor` replaced.
    func queryString(cursor: SearchCursor?) -> String {
        var components = URLComponents()
        var query = items.filter { $0.name != "_cursor" && $0.name != "_count" }
            .map { URLQueryItem(name: $0.name + ($0.modifier.map { ":" + $0 } ?? ""), value: $0.value) }
        query.append(URLQueryItem(name: "_count", value: String(count)))
        if let cursor { query.append(URLQueryItem(name: "_cursor", value: cursor.token)) }
        components.queryItems = query
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
