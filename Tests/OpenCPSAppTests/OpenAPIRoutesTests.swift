import Foundation
import Testing
import Vapor
import VaporTesting

/// The OpenAPI document cannot drift from the server: the routes registered under its server URL
/// (`/api/v1`) and the operations it describes are the same set of methods and paths, both ways.
@Suite("OpenAPI document and routes")
struct OpenAPIRoutesTests {
    /// A method and a path spelled as the document spells it: `GET /api/v1/cards/{id}/pin`.
    struct Operation: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String

        var description: String { "\(method) \(path)" }

        static func < (left: Self, right: Self) -> Bool {
            (left.path, left.method) < (right.path, right.method)
        }
    }

    /// The first path component of each route family outside the JSON API, and why the OpenAPI
    /// document leaves it out: each has its own standard description.
    static let outsideTheAPI: [String: String] = [
        "health": "liveness for orchestrators, {\"status\": \"ok\"}",
        "ready": "readiness for orchestrators (the database answers)",
        "metrics": "Prometheus text exposition format",
        "fhir": "the FHIR R4 directory, described by its CapabilityStatement at /fhir/metadata",
        "pki": "CA certificates as files (RFC 5280)",
        "crl": "full and delta CRLs as files (RFC 5280)",
        "ocsp": "the OCSP protocol (RFC 6960), binary request and response",
        "tsa": "the time-stamp protocol (RFC 3161), application/timestamp-query and -reply",
        "oidc": "the OpenID Connect provider's endpoints, described by its discovery document",
        ".well-known": "OpenID Connect Discovery 1.0 (/.well-known/openid-configuration)",
        "": "the web portal's home page, HTML (docs/portal.md)",
        "portail": "the web portal's HTML pages and style sheet (docs/portal.md)",
    ]

    /// A registered route in the document's spelling: `:name` becomes `{name}`.
    static func operation(_ route: Route) -> Operation {
        let components = route.path.map { component -> String in
            switch component {
            case .constant(let text): text
            case .parameter(let name): "{\(name)}"
            case .anything: "*"
            case .catchall: "**"
            }
        }
        return Operation(method: route.method.rawValue, path: "/" + components.joined(separator: "/"))
    }

    /// The operations the document describes, with the server URL in front of each path.
    static func operations(of document: [String: Any]) throws -> Set<Operation> {
        let servers = try #require(document["servers"] as? [[String: Any]], "the document names no server")
        let base = try #require(servers.first?["url"] as? String, "the document's server has no URL")
        let paths = try #require(document["paths"] as? [String: [String: Any]], "the document has no paths")
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        return Set(paths.flatMap { path, item in
            item.keys.filter(methods.contains).map { Operation(method: $0.uppercased(), path: base + path) }
        })
    }

    @Test("every route under /api/v1 is in the OpenAPI document with its method, and every operation of the document is a route")
    func documentMatchesRoutes() async throws {
        // With a PKI, as `serve` runs: the card and certificate routes exist only then.
        try await withTestApp(pki: TestPKIMaterial.shared) { app in
            let response = try await app.testing().sendRequest(.GET, "/api/v1/openapi.json")
            #expect(response.status == .ok)
            let document = try jsonObject(response)
            let described = try Self.operations(of: document)
            let servers = try #require(document["servers"] as? [[String: Any]])
            let base = try #require(servers.first?["url"] as? String)

            let routes = app.routes.all.map(Self.operation)
            let api = Set(routes.filter { $0.path.hasPrefix(base + "/") })
            let undescribed = api.subtracting(described).sorted()
            let unserved = described.subtracting(api).sorted()
            #expect(undescribed.isEmpty, "routes the OpenAPI document does not describe: \(undescribed)")
            #expect(unserved.isEmpty, "operations of the OpenAPI document no route serves: \(unserved)")
            #expect(api.count > 30, "the API routes were not all registered: \(api.sorted())")

            // Any other route belongs to a family with its own description; a new JSON endpoint
            // outside /api/v1 would escape the document, so it fails here.
            let others = routes.filter { !$0.path.hasPrefix(base + "/") }
            let unexplained = others.filter { operation in
                let first = operation.path.split(separator: "/").first.map(String.init) ?? ""
                return Self.outsideTheAPI[first] == nil
            }
            #expect(unexplained.isEmpty, "routes outside \(base) that no standard describes: \(unexplained.sorted())")
        }
    }
}
