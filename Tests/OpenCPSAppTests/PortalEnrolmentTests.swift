import Foundation
import OpenCPSApp
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSPersistence
import OpenCPSServices
import Testing
import Vapor
import VaporTesting

/// "Ajouter un appareil" in the portal: the one-time enrolment code as a QR code drawn on the
/// server and as text; the e-CPS service decides its validity (90 seconds, one use).
@Suite("Web portal: e-CPS enrolment")
struct PortalEnrolmentTests {
    /// The payload shown as text in the page.
    static func payload(_ page: PortalBrowser.Page) -> String? {
        guard let start = page.body.range(of: "<code id=\"code-enrolement\">"), let end = page.body[start.upperBound...].range(of: "</code>") else { return nil }
        return String(page.body[start.upperBound..<end.lowerBound])
    }

    /// The page's QR code, as an SVG document.
    static func svg(_ page: PortalBrowser.Page) -> String? {
        guard let start = page.body.range(of: "<svg "), let end = page.body[start.lowerBound...].range(of: "</svg>") else { return nil }
        return String(page.body[start.lowerBound..<end.upperBound])
    }

    @Test("the space offers to add a device; the code is a QR code and the same text; it enrols once, within 90 seconds")
    func enrolFromThePortal() async throws {
        try await PortalTests.withDevice { app, _, clock, device in
            var browser = try await PortalTests.logIn(app, clock, &device)
            let space = try await browser.get("/portail")
            #expect(space.body.contains("href=\"/portail/appareils/ajout\""))
            let start = try await browser.get("/portail/appareils/ajout")
            #expect(start.status == .ok)
            #expect(start.body.contains("Afficher le code d'enrôlement") && !start.body.contains("<svg"))
            let csrf = try #require(start.field("csrf"))
            #expect(try await browser.post("/portail/appareils/ajout", form: [:]).status == .forbidden)

            let shown = try await browser.post("/portail/appareils/ajout", form: ["csrf": csrf])
            #expect(shown.status == .ok, "\(shown.body)")
            #expect(shown.headers.first(name: .cacheControl) == "no-store")
            #expect(shown.body.contains("90 secondes") && shown.body.contains("une seule fois"))
            let text = try #require(Self.payload(shown))
            let payload = try EnrolmentPayload(text: text)
            #expect(payload.serverURL == "https://opencps.test")
            let svg = try #require(Self.svg(shown))
            #expect(svg.contains("role=\"img\"") && svg.contains("aria-label=\"Code QR d'enrôlement e-CPS, valable 90 secondes\""))
            // The QR code is the encoder's drawing of exactly the text shown.
            #expect(svg == (try QRCode(text: text).svg(label: "Code QR d'enrôlement e-CPS, valable 90 secondes")))

            // The code enrols a second device once; the service refuses it a second time.
            var phone = try ECPSTestDevice(pin: "135790")
            defer { phone.remove() }
            let (status, answer, _) = try await phone.enrol(app, payload: text)
            #expect(status == .created, "\(answer)")
            var again = try ECPSTestDevice(pin: "135790")
            defer { again.remove() }
            #expect(try await again.enrol(app, payload: text).0 == .conflict)
            let devices = try await browser.get("/portail")
            #expect(devices.body.components(separatedBy: ">Actif<").count - 1 == 2)
            // The start is audited as the holder.
            let audit = try await AuditLog(clock: SystemWallClock()).history(entityType: "ecps-enrolment", entityID: payload.enrolmentID, on: app.db)
            #expect(audit.contains { $0.actor == "holder:\(PortalTests.idNat)" && $0.action == "ecps.enrolment.start" }, "\(audit.map(\.action))")

            // A new code is void after its 90 seconds.
            let late = try await browser.post("/portail/appareils/ajout", form: ["csrf": csrf])
            let lateText = try #require(Self.payload(late))
            clock.advance(by: 91)
            var slow = try ECPSTestDevice(pin: "135790")
            defer { slow.remove() }
            #expect(try await slow.enrol(app, payload: lateText).0 == .gone)
        }
    }

    @Test("a real decoder reads the page's QR code: rsvg-convert draws it, zbarimg decodes the payload", TestTools.needs("rsvg-convert", "zbarimg"))
    func zbarDecodes() async throws {
        try await PortalTests.withDevice { app, _, clock, device in
            var browser = try await PortalTests.logIn(app, clock, &device)
            let csrf = try #require(try await browser.get("/portail/appareils/ajout").field("csrf"))
            let shown = try await browser.post("/portail/appareils/ajout", form: ["csrf": csrf])
            let text = try #require(Self.payload(shown))
            let folder = try ExternalTool.temporaryFolder("portal-qr")
            defer { try? FileManager.default.removeItem(at: folder) }
            let svg = folder.appendingPathComponent("qr.svg"), png = folder.appendingPathComponent("qr.png")
            try #require(Self.svg(shown)).write(to: svg, atomically: true, encoding: .utf8)
            let drawn = try ExternalTool.run("rsvg-convert", ["-w", "400", "-o", png.path, svg.path])
            #expect(drawn.status == 0, "\(drawn.output)")
            let decoded = try ExternalTool.run("zbarimg", ["--nodbus", "--raw", "-q", png.path])
            #expect(decoded.status == 0, "\(decoded.output)")
            #expect(decoded.output.trimmingCharacters(in: .whitespacesAndNewlines) == text)
        }
    }

    @Test("a session not opened with the card or an e-CPS device gets no code")
    func weakSessionRefused() async throws {
        try await PortalTests.withDevice { app, _, clock, _ in
            let claims = Data(#"{"amr":["pwd"],"SubjectNameID":"\#(PortalTests.idNat)"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let now = clock.now()
            let session = PortalSession(
                idDigest: "x", idNat: try IdNat(PortalTests.idNat), csrfToken: "t", idToken: "e30.\(claims).sig", createdAt: now, lastUsedAt: now,
                expiresAt: now.addingTimeInterval(60))
            let devices = try #require(app.ecpsDevices)
            #expect(await errorCode { _ = try await devices.startPortalEnrolment(session: session) } == "ecps.session-not-strong")
        }
    }
}
