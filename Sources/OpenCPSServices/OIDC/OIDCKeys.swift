import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// The provider's signing keys and JWS (RFC 7515) with ES256.
///
/// Why not jwt-kit: jwt-kit 5.x requires swift-crypto 4, and the whole platform is on
/// swift-crypto 3.12 (PKI, tokens, CMS); moving it is its own change. Compact JWS with ES256
/// is three base64url parts and one P-256 signature over SHA-256, which swift-crypto does;
/// what we produce is checked by an independent implementation (authlib's joserfc) in the
/// tests.
///
/// Keys live in the database, so that every node signs with the same key and publishes the
/// same set. The current key is replaced after ``OIDCSettings/keyRotationInterval``; a retired
/// key stays in the JWKS until every token it signed has expired.
public final class OIDCKeys: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let settings: OIDCSettings
    /// The keys as last read, for at most ``cacheLifetime``: every token issued and every
    /// introspection needs them, and reading and parsing them each time cost a query and a key
    /// parse per signature (docs/benchmarks.md, issue 23). Another node's rotation is seen within
    /// that second; a token signed by a key not yet seen here makes ``verify(_:)`` read again.
    private let cache = KeyCache()
    /// How long the keys read from the database are used before they are read again.
    static let cacheLifetime: TimeInterval = 1

    /// Creates the key service.
    public init(database: ServiceDatabase, clock: any WallClock, settings: OIDCSettings) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    /// A key ready to sign or verify.
    struct Key {
        let kid: String
        let privateKey: P256.Signing.PrivateKey
        let createdAt: Date
        let retired: Bool
    }

    private var repository: OIDCRepository { OIDCRepository(database: database.current, clock: clock) }

    /// The published keys, newest first; makes the first key, or the next one when the
    /// current key is older than the rotation interval.
    func keys(fresh: Bool = false) async throws -> [Key] {
        let now = clock.now()
        if !fresh, let cached = cache.value, cached.loadedAt <= now, now.timeIntervalSince(cached.loadedAt) < Self.cacheLifetime,
           let current = cached.keys.first(where: { !$0.retired }), now.timeIntervalSince(current.createdAt) < settings.keyRotationInterval {
            return cached.keys
        }
        var rows = try await repository.signingKeys(at: now)
        if rows.first(where: { $0.retiredAt == nil }).map({ now.timeIntervalSince($0.createdAt) >= settings.keyRotationInterval }) ?? true {
            try await database.transaction { _ in
                // Another node may have rotated meanwhile: decide again under the audit lock.
                let repository = self.repository
                try await repository.record([])
                let current = try await repository.signingKeys(at: now)
                guard current.first(where: { $0.retiredAt == nil }).map({ now.timeIntervalSince($0.createdAt) >= self.settings.keyRotationInterval }) ?? true
                else { return }
                let key = P256.Signing.PrivateKey()
                let row = OIDCRepository.SigningKeyRow(
                    kid: Self.thumbprint(key.publicKey), privateKey: key.derRepresentation.base64EncodedString(), createdAt: now)
                // The longest-lived thing a retired key signed is an ID or access token issued just before.
                let lastToken = max(self.settings.accessTokenLifetime, self.settings.idTokenLifetime)
                try await repository.rotate(to: row, retiredPublishedUntil: now.addingTimeInterval(lastToken + 60))
                try await repository.record([AuditEvent(actor: "system", action: "oidc.key.rotate", entityType: "oidc-key", entityID: row.kid)])
            }
            rows = try await repository.signingKeys(at: now)
        }
        let keys = try rows.map { row in
            guard let der = Data(base64Encoded: row.privateKey) else { throw PersistenceError.corrupt("OIDC key \(row.kid)", "not base64") }
            return Key(kid: row.kid, privateKey: try P256.Signing.PrivateKey(derRepresentation: der), createdAt: row.createdAt, retired: row.retiredAt != nil)
        }
        cache.value = (now, keys)
        return keys
    }

    /// Signs claims as a compact JWS with the current key.
    /// - Parameters:
    ///   - claims: the payload.
    ///   - type: the `typ` header (`JWT`, `at+jwt`).
    public func sign(_ claims: [String: JSONValue], type: String = "JWT") async throws -> String {
        guard let key = try await keys().first(where: { !$0.retired }) else {
            throw OIDCError(.serverError, code: "oidc.no-signing-key", reason: "the provider has no signing key")
        }
        let header: JSONValue = .object(["alg": .string("ES256"), "kid": .string(key.kid), "typ": .string(type)])
        let input = Base64URL.encode(header.encoded()) + "." + Base64URL.encode(JSONValue.object(claims).encoded())
        let signature = try key.privateKey.signature(for: Data(input.utf8))
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// The claims of a JWS this provider signed with a published key; nil if it is not one
    /// (malformed, unknown key, bad signature). Expiry is the caller's to check.
    public func verify(_ token: String) async throws -> [String: JSONValue]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signatureBytes = Base64URL.decode(parts[2]),
              case .object(let header)? = try? JSONDecoder().decode(JSONValue.self, from: Data(headerBytes)),
              header["alg"]?.string == "ES256", let kid = header["kid"]?.string,
              let key = try await key(kid),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
              key.privateKey.publicKey.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8)),
              case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: Data(payloadBytes))
        else { return nil }
        return claims
    }

    /// Seals `plaintext` (AES-GCM) with a key derived from the current signing key for
    /// `purpose`: `<kid>.<base64url(nonce || ciphertext || tag)>`. Any node opens it (the keys
    /// are in the database) while that signing key is published; nothing is stored.
    func seal(_ plaintext: [UInt8], purpose: String) async throws -> String {
        guard let key = try await keys().first(where: { !$0.retired }) else {
            throw OIDCError(.serverError, code: "oidc.no-signing-key", reason: "the provider has no signing key")
        }
        let box = try AES.GCM.seal(plaintext, using: Self.sealingKey(key, purpose: purpose), authenticating: Data(purpose.utf8))
        guard let combined = box.combined else { throw OIDCError(.serverError, code: "oidc.seal-failed", reason: "the value could not be sealed") }
        return key.kid + "." + Base64URL.encode(combined)
    }

    /// What ``seal(_:purpose:)`` sealed, if `token` is one of ours for `purpose` (not altered,
    /// its key still published); nil otherwise.
    func open(_ token: String, purpose: String) async throws -> [UInt8]? {
        guard token.utf8.count <= 8192, let dot = token.firstIndex(of: ".") else { return nil }
        guard let combined = Base64URL.decode(token[token.index(after: dot)...]),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let key = try await key(String(token[..<dot])),
              let opened = try? AES.GCM.open(box, using: Self.sealingKey(key, purpose: purpose), authenticating: Data(purpose.utf8))
        else { return nil }
        return Array(opened)
    }

    /// The AES-256 key of a purpose, derived (HKDF-SHA256) from a signing key.
    private static func sealingKey(_ key: Key, purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: key.privateKey.rawRepresentation), salt: Data("OpenCPS OIDC sealed values".utf8),
            info: Data(purpose.utf8), outputByteCount: 32)
    }

    /// The published key with this `kid`, reading the database again if the cached keys lack it
    /// (another node may have rotated within the cache's second).
    private func key(_ kid: String) async throws -> Key? {
        if let key = try await keys().first(where: { $0.kid == kid }) { return key }
        return try await keys(fresh: true).first(where: { $0.kid == kid })
    }

    /// The JWKS document (RFC 7517): every published key's public half.
    public func jwks() async throws -> JSONValue {
        .object(["keys": .array(try await keys().map { .object(Self.jwk($0.privateKey.publicKey).merging(["kid": .string($0.kid), "use": .string("sig"), "alg": .string("ES256")]) { a, _ in a }) })])
    }

    private static func jwk(_ key: P256.Signing.PublicKey) -> [String: JSONValue] {
        let raw = Array(key.rawRepresentation)
        return ["kty": .string("EC"), "crv": .string("P-256"), "x": .string(Base64URL.encode(raw[0..<32])), "y": .string(Base64URL.encode(raw[32..<64]))]
    }

    /// The RFC 7638 thumbprint, used as `kid`.
    static func thumbprint(_ key: P256.Signing.PublicKey) -> String {
        Base64URL.encode(SHA256.hash(data: JSONValue.object(jwk(key)).encoded()))
    }

    /// The left half of SHA-256, base64url: `at_hash` and `c_hash` for ES256 (OpenID Connect Core §3.1.3.6).
    public static func halfHash(_ value: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Data(value.utf8))).prefix(16))
    }
}

extension PKCE {
    /// The S256 challenge of a verifier: base64url(SHA-256(verifier)).
    public static func s256(_ verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
    }
}

/// The signing keys last read and when (``OIDCKeys``'s cache).
private final class KeyCache: @unchecked Sendable {
    // @unchecked: the one mutable property is read and written under the lock.
    private let lock = NSLock()
    private var stored: (loadedAt: Date, keys: [OIDCKeys.Key])?

    var value: (loadedAt: Date, keys: [OIDCKeys.Key])? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
