import _CryptoExtras
import Crypto
import Foundation
import OpenCPSDomain

/// `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9): the
/// client signs a short JWT with its own private key and the provider checks it with the public
/// keys the client registered. The JWS is checked with swift-crypto, as ``OIDCKeys`` signs its
/// own (jwt-kit 5 needs swift-crypto 4; the platform is on 3.12).
public enum OIDCClientAssertion {
    /// The `client_assertion_type` of a JWT assertion.
    public static let type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// The signature algorithms accepted: ES256, and RS256 / PS256 for RSA keys of 2048 bits or more.
    public static let algorithms = ["ES256", "RS256", "PS256"]
    /// How far ahead an assertion's `exp` may be (an hour, what authlib and most libraries set):
    /// a long-lived assertion would be a password, and its `jti` is kept until it expires.
    public static let maximumLifetime: TimeInterval = 3600
    /// The clock skew tolerated on `exp`, `nbf` and `iat`.
    public static let skew: TimeInterval = 30

    /// A registered public key.
    public struct PublicKey: Sendable {
        /// Its `kid`, if the JWK had one.
        public var kid: String?
        let key: Key

        enum Key: @unchecked Sendable {
            // @unchecked: swift-crypto's public keys are immutable values not marked Sendable on Linux.
            case p256(P256.Signing.PublicKey)
            case rsa(_RSA.Signing.PublicKey)
        }
    }

    /// What a checked assertion spends: its `jti`, kept until its `exp` so that it is used once.
    public struct Checked: Sendable, Equatable {
        /// The assertion's identifier.
        public var jti: String
        /// Its expiry.
        public var expiresAt: Date
    }

    /// The public keys of a JWK Set (RFC 7517): EC P-256 and RSA signing keys. A set that is not
    /// JSON, has no such key, or carries a private part (`d`) is refused.
    /// - Parameter jwks: the JWK Set's JSON text.
    public static func keys(jwks: String) throws(OIDCError) -> [PublicKey] {
        func refuse(_ reason: String) -> OIDCError {
            OIDCError(.invalidClientMetadata, code: "oidc.client.bad-jwks", reason: reason)
        }
        guard case .object(let set)? = try? JSONDecoder().decode(JSONValue.self, from: Data(jwks.utf8)), case .array(let entries)? = set["keys"] else {
            throw refuse("the JWK Set is a JSON object with a \"keys\" array (RFC 7517 §5)")
        }
        var keys: [PublicKey] = []
        for entry in entries {
            guard case .object(let jwk) = entry else { throw refuse("every JWK is a JSON object") }
            guard jwk["d"] == nil else { throw refuse("a JWK Set registers public keys only: remove \"d\" (the private key)") }
            if let use = jwk["use"]?.string, use != "sig" { continue }
            switch jwk["kty"]?.string {
            case "EC":
                guard jwk["crv"]?.string == "P-256", let x = jwk["x"]?.string.flatMap(Base64URL.decode), let y = jwk["y"]?.string.flatMap(Base64URL.decode),
                      x.count == 32, y.count == 32, let key = try? P256.Signing.PublicKey(rawRepresentation: x + y) else {
                    throw refuse("an EC JWK is a P-256 public key (crv P-256, x and y of 32 bytes on the curve)")
                }
                keys.append(PublicKey(kid: jwk["kid"]?.string, key: .p256(key)))
            case "RSA":
                guard let n = jwk["n"]?.string.flatMap(Base64URL.decode), let e = jwk["e"]?.string.flatMap(Base64URL.decode),
                      let key = try? _RSA.Signing.PublicKey(n: n, e: e), key.keySizeInBits >= 2048 else {
                    throw refuse("an RSA JWK is a public key of 2048 bits or more (n and e)")
                }
                keys.append(PublicKey(kid: jwk["kid"]?.string, key: .rsa(key)))
            default:
                continue
            }
        }
        guard !keys.isEmpty else { throw refuse("the JWK Set has no EC P-256 or RSA signing key") }
        return keys
    }

    /// The `sub` (else `iss`) an assertion claims, before any check: the client to look up when
    /// the request names none (RFC 7523 §3: `client_id` is optional with an assertion).
    public static func claimedClient(_ assertion: String) -> String? {
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let bytes = Base64URL.decode(parts[1]),
              case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return nil }
        return claims["sub"]?.string ?? claims["iss"]?.string
    }

    /// Checks an assertion: its signature by one of the client's keys, `iss` and `sub` equal to
    /// the client's identifier, `aud` naming this provider (the issuer or one of its endpoints),
    /// `exp` in the future but not too far, `nbf` and `iat` not in the future, and a `jti`.
    /// Whether the `jti` was seen before is the caller's to check, in the database.
    /// - Parameters:
    ///   - audiences: the values `aud` may hold (one of them suffices).
    /// - Returns: the `jti` and `exp` to spend.
    public static func check(
        _ assertion: String, clientID: String, keys: [PublicKey], audiences: Set<String>, now: Date
    ) throws(OIDCError) -> Checked {
        func refuse(_ code: String, _ reason: String) -> OIDCError {
            OIDCError(.invalidClient, code: "oidc.client.assertion-\(code)", reason: reason)
        }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              case .object(let header)? = try? JSONDecoder().decode(JSONValue.self, from: Data(headerBytes)),
              case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: Data(payloadBytes)) else {
            throw refuse("malformed", "client_assertion is not a compact JWS with JSON header and claims")
        }
        guard let algorithm = header["alg"]?.string, algorithms.contains(algorithm) else {
            throw refuse("bad-algorithm", "the assertion's alg is one of \(algorithms.joined(separator: ", "))")
        }
        let input = Data((parts[0] + "." + parts[1]).utf8)
        let kid = header["kid"]?.string
        let candidates = keys.filter { kid == nil || $0.kid == nil || $0.kid == kid }
        guard candidates.contains(where: { isValid(signature, of: input, algorithm: algorithm, key: $0.key) }) else {
            throw refuse("bad-signature", "the assertion is not signed by a key the client registered")
        }
        guard claims["iss"]?.string == clientID, claims["sub"]?.string == clientID else {
            throw refuse("bad-issuer", "the assertion's iss and sub are the client_id")
        }
        let audience: [String] = switch claims["aud"] {
        case .string(let value)?: [value]
        case .array(let values)?: values.compactMap(\.string)
        default: []
        }
        guard audience.contains(where: audiences.contains) else {
            throw refuse("bad-audience", "the assertion's aud is the token endpoint's URL or the issuer")
        }
        guard let exp = claims["exp"]?.integer else { throw refuse("no-expiry", "the assertion has no exp") }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(exp))
        guard expiresAt.addingTimeInterval(skew) > now else { throw refuse("expired", "the assertion has expired") }
        guard expiresAt <= now.addingTimeInterval(maximumLifetime + skew) else {
            throw refuse("too-long", "the assertion's exp is at most \(Int(maximumLifetime)) seconds ahead")
        }
        for name in ["nbf", "iat"] {
            if let value = claims[name]?.integer, Date(timeIntervalSince1970: TimeInterval(value)) > now.addingTimeInterval(skew) {
                throw refuse("not-yet-valid", "the assertion's \(name) is in the future")
            }
        }
        guard let jti = claims["jti"]?.string, !jti.isEmpty, jti.count <= 200 else {
            throw refuse("no-jti", "the assertion has no jti (1 to 200 characters)")
        }
        return Checked(jti: jti, expiresAt: expiresAt)
    }

    private static func isValid(_ signature: [UInt8], of input: Data, algorithm: String, key: PublicKey.Key) -> Bool {
        switch (algorithm, key) {
        case ("ES256", .p256(let key)):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: input)
        case ("RS256", .rsa(let key)):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
        case ("PS256", .rsa(let key)):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: input), padding: .PSS)
        default:
            return false
        }
    }
}
