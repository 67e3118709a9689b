// Hand-written on purpose: the OAuth endpoints' bodies (`application/x-www-form-urlencoded`, RFC 6749 appendix B)
// read in one pass over their bytes, in place of Vapor's URLEncodedFormDecoder.
// Why: in a profile of introspections under wrk (2026-12-06), Vapor's decoder (Codable, then percent-decoding
// through CoreFoundation for every value) took 10.7 % of the server's CPU, with introspections at 2,790/s against
// the aim of 3,000 on two cores (docs/benchmarks.md, issue 23).
// Benchmark: `bash Benchmarks/oidc/run.sh`.

import NIOCore
import OpenCPSDomain
import Vapor

/// The parameters of a token, introspection, revocation or CIBA authentication request.
///
/// Stricter than a generic form decoder, as RFC 6749 §3.2 asks: the body must be
/// `application/x-www-form-urlencoded`, a parameter may appear once only (§3.1), and a
/// malformed escape or a value that is not UTF-8 is refused rather than repaired.
enum OAuthForm {
    /// The body's parameters as a ``TokenForm`` (parameters it does not know are ignored).
    /// - Throws: ``OIDCError`` `invalid_request` with a stable code.
    static func decode(_ request: Request) throws -> TokenForm {
        TokenForm(fields: try fields(of: request))
    }

    /// The body's parameters, by name.
    /// - Throws: ``OIDCError`` `invalid_request` with a stable code.
    static func fields(of request: Request) throws -> [String: String] {
        guard request.headers.contentType == .urlEncodedForm else {
            throw OIDCError(
                .invalidRequest, code: "oidc.form.content-type", reason: "the body must be application/x-www-form-urlencoded")
        }
        return try request.body.data.map { buffer in try buffer.withUnsafeReadableBytes { try Self.fields($0) } } ?? [:]
    }

    /// The parameters of a form body, by name.
    static func fields(_ bytes: UnsafeRawBufferPointer) throws(OIDCError) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let name: String
            let value: String
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                name = try Self.unescaped(pair[pair.startIndex..<equals])
                value = try Self.unescaped(pair[pair.index(after: equals)...])
            } else {
                name = try Self.unescaped(pair)
                value = ""
            }
            guard fields.updateValue(value, forKey: name) == nil else {
                throw OIDCError(.invalidRequest, code: "oidc.form.repeated-parameter", reason: "the parameter \(name) appears more than once")
            }
        }
        return fields
    }

    /// The text of a name or value: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
    private static func unescaped(_ bytes: Slice<UnsafeRawBufferPointer>) throws(OIDCError) -> String {
        // Most values (tokens, codes, identifiers) have nothing to unescape.
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw malformed }
            return text
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard bytes.distance(from: index, to: bytes.endIndex) >= 3,
                      let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { throw malformed }
                decoded.append(high << 4 | low)
                index += 2
            default:
                decoded.append(byte)
            }
            index += 1
        }
        guard let text = String(validating: decoded, as: UTF8.self) else { throw malformed }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let malformed = OIDCError(
        .invalidRequest, code: "oidc.form.malformed", reason: "the form body has a malformed %-escape or text that is not UTF-8")
}

extension TokenForm {
    /// The form from its parameters, by name.
    init(fields: [String: String]) {
        self.init(
            grant_type: fields["grant_type"], code: fields["code"], redirect_uri: fields["redirect_uri"], code_verifier: fields["code_verifier"],
            refresh_token: fields["refresh_token"], client_id: fields["client_id"], client_secret: fields["client_secret"],
            client_assertion: fields["client_assertion"], client_assertion_type: fields["client_assertion_type"], token: fields["token"],
            token_type_hint: fields["token_type_hint"], auth_req_id: fields["auth_req_id"])
    }
}
