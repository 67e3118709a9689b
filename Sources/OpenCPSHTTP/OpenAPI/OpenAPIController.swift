import Foundation
import Vapor

/// Serves the OpenAPI 3.1 document of the JSON API at `/api/v1/openapi.json`.
public struct OpenAPIController: Sendable {
    /// Creates the controller.
    public init() {}

    /// The document, as shipped with the module.
    public static let document: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url) else {
            preconditionFailure("openapi.json is missing from the OpenCPSHTTP resources")
        }
        return data
    }()

    /// Registers the route under `api`.
    public func register(on api: any RoutesBuilder) {
        api.get("openapi.json") { _ -> Response in
            let response = Response(status: .ok, body: .init(data: Self.document))
            response.headers.contentType = .json
            return response
        }
    }
}
