import Foundation

/// How a professional proved who they are: the `amr` values of their tokens.
public enum OIDCAuthenticationMeans: String, Sendable, Codable, CaseIterable {
    /// A challenge signed by the card's authentication key after the PIN.
    case cardChallenge = "card"
    /// A TLS client certificate from the card.
    case mutualTLS = "mtls"
    /// A login approved on an enrolled e-CPS device with its PIN.
    case ecps = "ecps"

    /// The `amr` list (RFC 8176 values where one fits: `pin`, `hwk`, `mfa`, `swk`).
    public var amr: [String] {
        switch self {
        case .cardChallenge: ["card", "pin", "hwk", "mfa"]
        case .mutualTLS: ["mtls", "card", "hwk"]
        case .ecps: ["ecps", "pin", "swk", "mfa"]
        }
    }
}

/// A professional the provider has authenticated, ready to receive tokens.
public struct AuthenticatedSubject: Sendable, Equatable {
    /// Who.
    public var idNat: IdNat
    /// The card file used, when a card was: its sessions end when the card is blocked.
    public var cardID: String?
    /// The e-CPS device used, when one was: its sessions end when the device is revoked.
    public var deviceID: String?
    /// How.
    public var means: OIDCAuthenticationMeans
    /// When.
    public var authenticatedAt: Date

    /// Creates the subject.
    public init(idNat: IdNat, cardID: String? = nil, deviceID: String? = nil, means: OIDCAuthenticationMeans, authenticatedAt: Date) {
        self.idNat = idNat
        self.cardID = cardID
        self.deviceID = deviceID
        self.means = means
        self.authenticatedAt = authenticatedAt
    }

    /// `acr`: eIDAS substantial, as Pro Santé Connect names it, for every means here.
    public var acr: String { "eidas1" }
}

/// PKCE (RFC 7636): only `S256` is accepted; `plain` would let whoever reads the
/// authorization request redeem the code.
public enum PKCE {
    /// Refuses a challenge method other than S256 and a malformed challenge.
    public static func checkChallenge(_ challenge: String?, method: String?) throws(OIDCError) {
        guard let challenge, !challenge.isEmpty else {
            throw OIDCError(.invalidRequest, code: "oidc.pkce.missing", reason: "code_challenge is required (PKCE, S256)")
        }
        guard method == "S256" else {
            throw OIDCError(.invalidRequest, code: "oidc.pkce.method-refused", reason: "code_challenge_method must be S256 ('\(method ?? "plain")' is refused)")
        }
        guard challenge.count == 43, challenge.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw OIDCError(.invalidRequest, code: "oidc.pkce.bad-challenge", reason: "code_challenge is the base64url SHA-256 of the verifier (43 characters)")
        }
    }

    /// Whether a verifier has the form RFC 7636 §4.1 gives it (43–128 unreserved characters).
    public static func isWellFormedVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.count)
            && verifier.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }
    }
}
