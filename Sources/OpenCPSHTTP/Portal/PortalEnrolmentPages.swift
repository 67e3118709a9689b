import Foundation
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSServices
import Vapor

/// "Ajouter un appareil": a one-time enrolment code shown as a QR code (an SVG drawn on the
/// server: the pages run no script) and as the text `opencps ecps enrol --payload` takes. The
/// e-CPS service decides everything else (90 seconds, one use, an active card, the session's
/// means of login: ``ECPSDevices/startPortalEnrolment(session:)``).
extension PortalController {
    func registerEnrolmentPages(on portal: any RoutesBuilder) {
        portal.get("appareils", "ajout") { request in try await enrolmentStart(request) }
        // A POST: asking for a code makes one (and audits it); its page is not kept in history.
        portal.post("appareils", "ajout") { request in try await enrolmentCode(request) }
    }

    private func enrolmentStart(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        return try await PortalViews.renderPage("enrolment", EnrolmentPage(title: "Ajouter un appareil e-CPS", csrf: session.csrfToken), on: request)
    }

    private func enrolmentCode(_ request: Request) async throws -> Response {
        let session = try await requireSession(request)
        try checkCSRF(request, session)
        var page = EnrolmentPage(title: "Code d'enrôlement de mon appareil e-CPS", csrf: session.csrfToken)
        let offer: ECPSEnrolmentOffer
        do {
            offer = try await services.devices.startPortalEnrolment(session: session)
        } catch let error as ECPSRuleError {
            request.logger.notice("portal enrolment refused", metadata: ["code": "\(error.code)"])
            page.title = "Enrôlement impossible"
            page.message = switch error.code {
            case "ecps.no-active-card": "Il faut une carte CPS active pour enrôler un appareil e-CPS."
            default: "Pour enrôler un appareil, connectez-vous avec votre carte ou avec un appareil e-CPS déjà enrôlé."
            }
            return try await PortalViews.renderPage("enrolment", page, status: .forbidden, on: request)
        }
        guard let payload = offer.payload?.text else { throw Abort(.internalServerError, reason: "a QR enrolment has a payload") }
        let seconds = Int(offer.expiresAt.timeIntervalSince(services.clock.now()).rounded())
        page.payload = payload
        page.qr = try QRCode(text: payload).svg(label: "Code QR d'enrôlement e-CPS, valable \(seconds) secondes")
        page.seconds = seconds
        page.expiresAt = French.time(offer.expiresAt)
        return try await PortalViews.renderPage("enrolment", page, on: request)
    }
}

/// The enrolment page: before the code is asked for, with it, or with why it was refused.
struct EnrolmentPage: Encodable, Sendable {
    var title: String
    var csrf: String
    var loggedIn = true
    var message: String?
    /// The payload, as text and as the QR code's SVG.
    var payload: String?
    var qr: String?
    var seconds = 0
    var expiresAt = ""
}

extension French {
    /// A time of day as `HH:mm:ss UTC`.
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d:%02d:%02d UTC", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}
