import Foundation
import OpenCPSDomain
import Vapor

/// The professional's pages added to the first slice: the postal address, enrolling an e-CPS
/// device with a QR code, and applying for a card. Each lives in its own file.
extension PortalController {
    /// Registers the pages under `/portail`.
    func registerProfessionalPages(on portal: any RoutesBuilder) {
        registerAddressPages(on: portal)
        registerEnrolmentPages(on: portal)
        registerApplicationPages(on: portal)
    }
}

extension PortalViews {
    /// Renders a template with any context that carries the layout's fields (`title`,
    /// `loggedIn`, `csrf`) into a page with the security headers.
    static func renderPage(_ template: String, _ context: some Encodable & Sendable, status: HTTPStatus = .ok, on request: Request) async throws -> Response {
        let view = try await request.view.render(template, context)
        let response = try await view.encodeResponse(status: status, for: request)
        secure(response)
        return response
    }
}

/// A form field's value and its error, for a template.
struct FormField: Encodable, Sendable {
    var value: String
    var error: String?
}
