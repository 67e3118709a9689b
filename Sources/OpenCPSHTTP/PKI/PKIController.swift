import Foundation
import OpenCPSPKI
import OpenCPSServices
import Vapor

/// The public PKI endpoints, at the URLs the certificates name:
/// - `GET /pki/<slug>.crt` (DER) and `/pki/<slug>.pem`: CA and responder certificates;
/// - `GET /crl/<slug>.crl` and `/crl/<slug>-delta.crl`: full and delta CRLs;
/// - `POST /ocsp/<slug>` (`application/ocsp-request`) and `GET /ocsp/<slug>/<base64 request>` (RFC 5019).
///
/// OCSP errors in the request itself are OCSP answers (`malformedRequest`, `unauthorized`),
/// as RFC 6960 wants; HTTP errors are kept for what is not OCSP at all (wrong content type,
/// oversized body, unknown CA).
public struct PKIController: Sendable {
    private let pki: PKIService
    /// The largest OCSP request accepted: 20 CertIDs with a nonce fit in well under 4 KiB.
    public static let maximumOCSPRequestSize = 8 * 1024

    /// Creates the controller.
    public init(pki: PKIService) {
        self.pki = pki
    }

    /// Registers the routes.
    public func register(on routes: any RoutesBuilder) {
        routes.get("pki", ":file", use: certificate)
        routes.get("crl", ":file", use: crl)
        routes.on(.POST, "ocsp", ":slug", body: .collect(maxSize: ByteCount(value: Self.maximumOCSPRequestSize)), use: ocspPost)
        routes.get("ocsp", ":slug", "**", use: ocspGet)
    }

    @Sendable
    func certificate(_ request: Request) async throws -> Response {
        let file = try request.parameters.require("file")
        let (slug, format) = Self.split(file)
        guard let authority = pki.hierarchy.authority(slug: slug), ["crt", "cer", "der", "pem"].contains(format) else {
            throw Problem(status: .notFound, code: "pki.unknown-certificate", detail: "no CA certificate \(file); try \(pki.hierarchy.allCertificates.map { $0.slug + ".crt" }.joined(separator: ", "))")
        }
        let response: Response
        if format == "pem" {
            response = Response(status: .ok, body: .init(string: authority.pem.hasSuffix("\n") ? authority.pem : authority.pem + "\n"))
            response.headers.contentType = HTTPMediaType(type: "application", subType: "x-pem-file")
        } else {
            response = Response(status: .ok, body: .init(data: Data(authority.certificateDER)))
            response.headers.contentType = HTTPMediaType(type: "application", subType: "pkix-cert")
        }
        response.headers.cacheControl = .init(isPublic: true, maxAge: 86_400)
        return response
    }

    @Sendable
    func crl(_ request: Request) async throws -> Response {
        let file = try request.parameters.require("file")
        let (name, format) = Self.split(file)
        let delta = name.hasSuffix("-delta")
        let slug = delta ? String(name.dropLast("-delta".count)) : name
        guard format == "crl", let crl = try await pki.currentCRL(slug: slug, delta: delta) else {
            throw Problem(status: .notFound, code: "pki.unknown-crl", detail: "no CRL \(file)")
        }
        let response = Response(status: .ok, body: .init(data: Data(crl.der)))
        response.headers.contentType = HTTPMediaType(type: "application", subType: "pkix-crl")
        Self.setCaching(&response.headers, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, httpMaxAge: pki.publishing.httpMaxAge)
        return response
    }

    @Sendable
    func ocspPost(_ request: Request) async throws -> Response {
        let slug = try request.parameters.require("slug")
        guard request.headers.contentType == HTTPMediaType(type: "application", subType: "ocsp-request") else {
            throw Problem(status: .unsupportedMediaType, code: "ocsp.content-type", detail: "an OCSP request is sent as application/ocsp-request")
        }
        let body = request.body.data.map { Array($0.readableBytesView) } ?? []
        return try await answer(slug: slug, der: body, request: request, cacheable: false)
    }

    @Sendable
    func ocspGet(_ request: Request) async throws -> Response {
        let slug = try request.parameters.require("slug")
        // The base64 request may hold '/', so it is the rest of the path, taken raw.
        let der = OCSPPath(request.url.path[...])?.encodedRequest.flatMap(OCSPRequest.derFromGETPathComponent) ?? []
        return try await answer(slug: slug, der: der, request: request, cacheable: true)
    }

    private func answer(slug: String, der: [UInt8], request: Request, cacheable: Bool) async throws -> Response {
        guard let result = await pki.answerOCSP(slug: slug, request: der) else {
            throw Self.unknownResponder(slug)
        }
        return Self.response(to: result, cacheable: cacheable, httpMaxAge: pki.publishing.httpMaxAge)
    }

    /// The refusal of an OCSP question for a CA this server has no responder for.
    static func unknownResponder(_ slug: String) -> Problem {
        Problem(status: .notFound, code: "ocsp.unknown-ca", detail: "this server has no OCSP responder for \(slug)")
    }

    /// The HTTP response carrying an OCSP answer: cacheable (RFC 5019) when asked by GET
    /// without a nonce, `no-store` otherwise.
    static func response(to result: OCSPResponderResult, cacheable: Bool, httpMaxAge: TimeInterval) -> Response {
        Response(status: .ok, headers: ocspHeaders(for: result, cacheable: cacheable, httpMaxAge: httpMaxAge), body: .init(data: Data(result.der)))
    }

    /// The headers of an OCSP answer, on the main server and on the dedicated listener alike.
    static func ocspHeaders(for result: OCSPResponderResult, cacheable: Bool, httpMaxAge: TimeInterval) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/ocsp-response")
        if cacheable, result.status == .successful, !result.hasNonce, let thisUpdate = result.thisUpdate, let nextUpdate = result.nextUpdate {
            setCaching(&headers, thisUpdate: thisUpdate, nextUpdate: nextUpdate, httpMaxAge: httpMaxAge)
            headers.add(name: .eTag, value: "\"\(Self.etag(result.der))\"")
        } else {
            headers.add(name: .cacheControl, value: "no-store")
        }
        return headers
    }

    /// RFC 5019 §6.2: `max-age` ends before `nextUpdate`, with `Last-Modified` and `Expires`.
    private static func setCaching(_ headers: inout HTTPHeaders, thisUpdate: Date, nextUpdate: Date, httpMaxAge: TimeInterval) {
        let untilNext = Int(nextUpdate.timeIntervalSince(Date())) - 1
        let maxAge = max(0, min(Int(httpMaxAge), untilNext))
        headers.replaceOrAdd(name: .cacheControl, value: "max-age=\(maxAge), public, no-transform, must-revalidate")
        headers.replaceOrAdd(name: .lastModified, value: Self.httpDate(thisUpdate))
        headers.replaceOrAdd(name: .expires, value: Self.httpDate(nextUpdate))
    }

    private static func split(_ file: String) -> (String, String) {
        guard let dot = file.lastIndex(of: ".") else { return (file, "") }
        return (String(file[..<dot]), String(file[file.index(after: dot)...]).lowercased())
    }

    /// An IMF-fixdate (RFC 9110), without a formatter allocation per response.
    static func httpDate(_ date: Date) -> String {
        // Two of these go out with every OCSP answer to a GET.
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(29)
        func two(_ value: Int32) {
            text.append(UInt8(ascii: "0") + UInt8(value / 10))
            text.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        text += httpDays[Int(parts.tm_wday)]
        text += ", ".utf8
        two(parts.tm_mday)
        text.append(UInt8(ascii: " "))
        text += httpMonths[Int(parts.tm_mon)]
        text += " \(parts.tm_year + 1900) ".utf8
        two(parts.tm_hour)
        text.append(UInt8(ascii: ":"))
        two(parts.tm_min)
        text.append(UInt8(ascii: ":"))
        two(parts.tm_sec)
        text += " GMT".utf8
        return String(decoding: text, as: UTF8.self)
    }

    private static let httpDays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    private static let httpMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    private static func etag(_ der: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in der { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}

/// An OCSP path, read as bytes (it is read on every OCSP question): `/ocsp/<slug>` (POST) or
/// `/ocsp/<slug>/<base64 request>` (GET, RFC 5019; the request may itself hold '/').
struct OCSPPath {
    /// The CA's slug.
    let slug: String
    /// The GET form's request, as it stands in the path; nil for `/ocsp/<slug>`.
    let encodedRequest: String?

    /// Reads a path (without its query); nil when it is not under `/ocsp/`.
    init?(_ path: Substring) {
        guard path.utf8.starts(with: "/ocsp/".utf8) else { return nil }
        let rest = path.dropFirst("/ocsp/".count)
        if let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) {
            slug = String(rest[..<slash])
            encodedRequest = String(rest[rest.index(after: slash)...])
        } else {
            slug = String(rest)
            encodedRequest = nil
        }
    }
}
