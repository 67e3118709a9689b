import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import OpenCPSPKI

/// The portal's lifetimes.
public struct PortalSettings: Sendable, Equatable {
    /// How long a session lasts whatever the use.
    public var sessionLifetime: TimeInterval = 8 * 3600
    /// How long a session may stay unused.
    public var idleTimeout: TimeInterval = 30 * 60
    /// Whether the session cookie is `Secure`; off only for tests on `http://127.0.0.1`.
    public var secureCookies = true

    /// Creates the settings with their defaults.
    public init() {}
}

/// The portal's server-side sessions: opened after the OpenID Connect login, found by the
/// cookie's identifier (of which only the SHA-256 is stored), ended at logout or by time.
public struct PortalSessions: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock
    private let random: RandomBytes
    /// The lifetimes.
    public let settings: PortalSettings

    /// Creates the service.
    public init(database: ServiceDatabase, clock: any WallClock, random: RandomBytes, settings: PortalSettings) {
        self.database = database
        self.clock = clock
        self.random = random
        self.settings = settings
    }

    private var repository: PortalSessionRepository { PortalSessionRepository(database: database.current, clock: clock) }

    /// The SHA-256 (hex) of a cookie's identifier: what the table stores.
    static func digest(_ value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).hexString
    }

    /// Opens a session for a professional the provider authenticated.
    /// - Returns: the cookie's value (shown nowhere else) and the session.
    public func open(idNat: IdNat, idToken: String, address: String) async throws -> (cookie: String, session: PortalSession) {
        let now = clock.now()
        let cookie = Base64URL.encode(random.bytes(32))
        let session = PortalSession(
            idDigest: Self.digest(cookie), idNat: idNat, csrfToken: Base64URL.encode(random.bytes(32)), idToken: idToken, createdAt: now,
            lastUsedAt: now, expiresAt: now.addingTimeInterval(settings.sessionLifetime))
        try await database.transaction { _ in
            try await self.repository.insert(session)
            try await self.repository.record([AuditEvent(
                actor: CardActor.holder(idNat).auditName, action: "portal.login", entityType: "professional", entityID: idNat.value,
                detail: "portal session opened from \(address)")])
        }
        return (cookie, session)
    }

    /// The session a cookie names, if it still serves; its idle timeout restarts.
    public func session(cookie: String) async throws -> PortalSession? {
        let digest = Self.digest(cookie)
        let now = clock.now()
        guard let session = try await repository.session(digest: digest), session.isActive(at: now, idleTimeout: settings.idleTimeout) else {
            return nil
        }
        try await repository.touch(digest: digest, at: now)
        return session
    }

    /// Ends a session (logout).
    public func end(_ session: PortalSession) async throws {
        try await database.transaction { _ in
            try await self.repository.end(digest: session.idDigest, at: self.clock.now())
            try await self.repository.record([AuditEvent(
                actor: CardActor.holder(session.idNat).auditName, action: "portal.logout", entityType: "professional",
                entityID: session.idNat.value, detail: "portal session ended")])
        }
    }
}
