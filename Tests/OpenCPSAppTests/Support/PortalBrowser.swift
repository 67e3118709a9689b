import Foundation
import NIOCore
import OpenCPSApp
import Testing
import Vapor
import VaporTesting

/// A small user agent over the test application's HTTP layer: keeps cookies as a browser
/// would (by name; paths are not needed here), asks for HTML, and does not follow redirects,
/// so that each step of a login can be looked at.
struct PortalBrowser {
    let app: Application
    var cookies: [String: String] = [:]

    struct Page {
        var status: HTTPStatus
        var headers: HTTPHeaders
        var body: String

        /// The redirect's target as a path with its query (the issuer's origin dropped).
        var location: String? {
            guard let location = headers.first(name: .location) else { return nil }
            guard let url = URL(string: location), url.host != nil else { return location }
            return url.path + (url.query.map { "?\($0)" } ?? "")
        }

        /// The value of the first form field with this name.
        func field(_ name: String) -> String? {
            guard let range = body.range(of: "name=\"\(name)\" value=\""), let end = body[range.upperBound...].firstIndex(of: "\"") else { return nil }
            return String(body[range.upperBound..<end])
        }
    }

    init(app: Application) {
        self.app = app
    }

    mutating func get(_ path: String) async throws -> Page {
        try await send(.GET, path, form: nil)
    }

    mutating func post(_ path: String, form: [String: String]) async throws -> Page {
        try await send(.POST, path, form: form)
    }

    private mutating func send(_ method: HTTPMethod, _ path: String, form: [String: String]?) async throws -> Page {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .accept, value: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        if !cookies.isEmpty {
            headers.replaceOrAdd(name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))
        }
        var body = ByteBuffer()
        if let form {
            headers.contentType = .urlEncodedForm
            var components = URLComponents()
            components.queryItems = form.map { URLQueryItem(name: $0.key, value: $0.value) }
            body = ByteBuffer(string: (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B"))
        }
        let response = try await app.testing().performTest(request: TestingHTTPRequest(method: method, url: URI(string: path), headers: headers, body: body))
        for header in response.headers[.setCookie] {
            guard let pair = header.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals]).trimmingCharacters(in: .whitespaces), value = String(pair[pair.index(after: equals)...])
            let expired = header.lowercased().contains("max-age=0")
            if value.isEmpty || expired { cookies[name] = nil } else { cookies[name] = value }
        }
        return Page(status: response.status, headers: response.headers, body: response.body.string)
    }
}
