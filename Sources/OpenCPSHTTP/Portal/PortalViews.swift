import Foundation
import Leaf
import LeafKit
import Vapor

/// The portal's Leaf templates and style sheet, shipped as resources of this module, and the
/// headers every portal and login page carries.
public enum PortalViews {
    /// The templates' folder in the module's resources.
    static var viewsDirectory: String {
        guard let url = Bundle.module.url(forResource: "Views", withExtension: nil) else {
            preconditionFailure("the portal's Views are missing from the OpenCPSHTTP resources")
        }
        return url.path.hasSuffix("/") ? url.path : url.path + "/"
    }

    /// The style sheet, read once.
    static let styleSheet: Data = {
        guard let url = Bundle.module.url(forResource: "Static", withExtension: nil)?.appendingPathComponent("portail.css"),
              let data = try? Data(contentsOf: url) else {
            preconditionFailure("portail.css is missing from the OpenCPSHTTP resources")
        }
        return data
    }()

    /// Makes Leaf the application's renderer, reading the templates from the resources.
    public static func configure(_ app: Application) {
        // Sandboxed to the resources' folder, with Leaf files only; the default limits also
        // refuse any hidden path component, and the built resources live under `.build`.
        let root = viewsDirectory
        app.leaf.configuration = LeafConfiguration(rootDirectory: root)
        app.leaf.sources = .singleSource(NIOLeafFiles(
            fileio: app.fileio, limits: [.toSandbox, .onlyLeafExtensions], sandboxDirectory: root, viewDirectory: root))
        app.views.use(.leaf)
    }

    /// The Content-Security-Policy of every page: our own resources only, no script at all,
    /// no inline style, never framed.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

    /// Adds the security headers of a page.
    static func secure(_ response: Response) {
        response.headers.replaceOrAdd(name: "Content-Security-Policy", value: contentSecurityPolicy)
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        if response.headers[.cacheControl].isEmpty { response.headers.replaceOrAdd(name: .cacheControl, value: "no-store") }
    }

    /// Renders a template with its context into a page with the security headers.
    static func render(_ template: String, _ context: PageContext, status: HTTPStatus = .ok, on request: Request) async throws -> Response {
        let view = try await request.view.render(template, context)
        let response = try await view.encodeResponse(status: status, for: request)
        secure(response)
        return response
    }

    /// A redirect after a form (303, so that the browser follows with GET).
    static func seeOther(_ location: String, on request: Request) -> Response {
        let response = request.redirect(to: location, redirectType: .normal)
        secure(response)
        return response
    }

    /// Whether the request comes from a browser asking for a page.
    static func wantsHTML(_ request: Request) -> Bool {
        request.headers.accept.mediaTypes.contains(where: { $0.type == "text" && $0.subType == "html" })
    }
}

/// Adds the security headers to every response of the routes it guards (pages, redirects,
/// the style sheet, and errors alike), and answers a ``PortalPageError`` with its page.
struct PortalHeadersMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch let error as PortalPageError {
            var context = PageContext(title: error.title)
            context.message = error.text
            response = try await PortalViews.render("message", context, status: error.status, on: request)
        }
        PortalViews.secure(response)
        return response
    }
}
