import Foundation
import Logging
import OpenCPSDomain
import OpenCPSHTTP
import OpenCPSPersistence
import OpenCPSPKI
import OpenCPSServices

/// Everything OpenCPS is configured with, read once at start-up: command-line flags first,
/// then environment variables, then defaults. Nothing else reads the environment.
///
/// | setting | flag | environment | default |
/// |---|---|---|---|
/// | data folder | `--data` | `OPENCPS_DATA` | `./data` |
/// | database | `--database` | `OPENCPS_DATABASE_URL` | `sqlite:<data>/opencps.sqlite` |
/// | listen address | `--hostname` | `OPENCPS_HOSTNAME` | `127.0.0.1` |
/// | listen port | `--port` | `OPENCPS_PORT` | `8080` |
/// | dedicated OCSP port | `--ocsp-port` | `OPENCPS_OCSP_PORT` | none (OCSP on the main port only) |
/// | threads of the OCSP port | | `OPENCPS_OCSP_THREADS` | `1` |
/// | dedicated issuance port | `--issuance-port` | `OPENCPS_ISSUANCE_PORT` | none (issuance on the main port only) |
/// | threads of the issuance port | | `OPENCPS_ISSUANCE_THREADS` | `1` |
/// | largest lot of the demonstration payer (`POST /api/v1/payer/lots`) | | `OPENCPS_PAYER_LOT_MAXIMUM_SHEETS` (1–10000) | `500` |
/// | age below which the sweep leaves intents and card files alone (s) | | `OPENCPS_SWEEP_GRACE_SECONDS` (0–86400) | `300` |
/// | issuance commit delay (µs; SQLite) | | `OPENCPS_ISSUANCE_COMMIT_DELAY_US` | `800` (`0`: none) |
/// | public base URL | `--public-url` | `OPENCPS_PUBLIC_URL` | `http://<hostname>:<port>` |
/// | operator tokens | | `OPENCPS_OPERATOR_TOKENS` (`name:role+role=token,...`; roles `registry`, `issuance`, `security`; `name=token`: every role) | none (demo: `demo-operator-token` with every role, and one token per role) |
/// | log level | `--log-level` | `OPENCPS_LOG_LEVEL` | `info` |
/// | card actors | | `OPENCPS_ACTOR_TOKENS` (`actor=token,...`, actor as `holder:<idNat>`, `ordre:CNOM`, `ars:<region>` (INSEE region code, such as `84`), `manager:<idNatStruct>`, `helpdesk`, `operator:production\|security\|registration`) | none (demo: `demo-<actor>` tokens, listed at start) |
/// | key-store passphrase | | `OPENCPS_KEYSTORE_PASSPHRASE_FILE` or `OPENCPS_KEYSTORE_PASSPHRASE` | none (demo: a random one kept in `<data>/keystore-passphrase`) |
/// | PKCS #11 module holding the CA and OCSP keys | `--pkcs11-module` | `OPENCPS_PKCS11_MODULE` | none: the encrypted software store |
/// | label of that module's token | `--pkcs11-token` | `OPENCPS_PKCS11_TOKEN` | none (required with a module) |
/// | that token's user PIN (never a flag) | | `OPENCPS_PKCS11_PIN_FILE` or `OPENCPS_PKCS11_PIN` | none (required with a module) |
/// | PKCS #11 module cards are made on (a token per card) | `--card-pkcs11-module` | `OPENCPS_CARD_PKCS11_MODULE` | none: software tokens |
/// | e-CPS: where activation codes are written (no mail/SMS gateway) | | `OPENCPS_ECPS_OUTBOX` | `<data>/outbox/ecps` |
/// | e-CPS: months an enrolled device serves before reactivation | | `OPENCPS_ECPS_DEVICE_VALIDITY_MONTHS` (1–60) | `12` |
/// | web portal: the session cookie's `Secure` flag (`false` only at `http://127.0.0.1` or `http://localhost`) | | `OPENCPS_PORTAL_SECURE_COOKIE` | `true` |
/// | OpenID Connect: access (and ID) token lifetime, seconds | | `OPENCPS_OIDC_ACCESS_TOKEN_SECONDS` | `120` |
/// | OpenID Connect: refresh token lifetime, seconds | | `OPENCPS_OIDC_REFRESH_TOKEN_SECONDS` | `1800` |
/// | OpenID Connect: SSO session lifetime, seconds | | `OPENCPS_OIDC_SESSION_SECONDS` | `14400` |
/// | OpenID Connect: SSO session idle timeout, seconds | | `OPENCPS_OIDC_SESSION_IDLE_SECONDS` | `1800` |
/// | OpenID Connect: signing key rotation interval, seconds | | `OPENCPS_OIDC_KEY_ROTATION_SECONDS` | `2592000` (30 days) |
public struct OpenCPSConfiguration: Sendable {
    /// The folder holding the SQLite file, the key store and, in the demo, the demo cards.
    public var dataDirectory: URL
    /// Where the records live.
    public var database: DatabaseLocation
    /// The address the server listens on.
    public var hostname: String
    /// The port the server listens on.
    public var port: Int
    /// A second port, on the same address, that serves OCSP alone (``OCSPListener``); nil for none.
    /// OCSP stays on the main port either way.
    public var ocspPort: Int?
    /// How many threads serve the OCSP port.
    public var ocspThreads: Int
    /// A port, on the same address, that serves `POST /api/v1/certificates` alone
    /// (``IssuanceListener``); nil for none. Issuance stays on the main port either way.
    public var issuancePort: Int?
    /// How many threads read and answer requests on the issuance port.
    public var issuanceThreads: Int
    /// The most care sheets a lot of the demonstration payer holds (OpenCPS's choice).
    public var payerLotMaximumSheets: Int = PayerLotService.defaultMaximumSheets
    /// How old a certificate intent or a card file must be before the sweep (``CardRepair``)
    /// takes it for left behind: younger ones may be a card being made, here or on another node.
    public var sweepGrace: TimeInterval = 300
    /// How long an issuance transaction waits for more certificates under load (SQLite).
    public var issuanceCommitDelay: Duration
    /// The URL clients reach the server at; certificates and FHIR bundles name it.
    public var publicBaseURL: String
    /// The operators allowed to change the registry: token → operator name.
    public var operatorTokens: [String: String]
    /// Each operator token's roles: token → roles; a token not listed has every role.
    public var operatorRoles: [String: Set<OperatorRole>] = [:]
    /// Whether to load the demo data set on start.
    public var demo: Bool
    /// How much to log.
    public var logLevel: Logger.Level
    /// Where the key-store passphrase comes from.
    public var keyStorePassphrase: KeyStorePassphraseSource
    /// Who may act on cards: token → actor (holders, orders, ARS, managers, help desk, operators).
    public var actorTokens: [String: CardActor]
    /// The HSM holding the CA and OCSP responder keys (`pki init` records it in `<data>/pki`); nil:
    /// the encrypted software store, or what `pki init` recorded.
    public var pkcs11KeyStore: PKCS11KeyStore.Location?
    /// Where the HSM's user PIN comes from.
    public var pkcs11PIN: SecretSource
    /// The PKCS #11 module on which cards are made, one token per card; nil: software tokens.
    public var cardPKCS11Module: String?

    /// e-CPS's lifetimes, limits and outbox (see ``ECPSSettings``).
    public var ecps = ECPSSettings()

    /// The OpenID Connect provider's lifetimes and limits (its issuer is ``publicBaseURL``).
    public var oidc = OIDCSettings(issuer: "")

    /// Card login by mutual TLS on a port of its own (``CardTLSLoginListener``); nil for none
    /// (the default).
    public var cardTLSLogin: CardTLSLoginSettings?
    /// The web portal's session lifetimes and cookie flags.
    public var portal = PortalSettings()

    /// Where manufactured software tokens are kept.
    public var tokenDirectory: URL { dataDirectory.appendingPathComponent("tokens", isDirectory: true) }
    /// Where PIN letters wait for the print service.
    public var letterDirectory: URL { dataDirectory.appendingPathComponent("letters", isDirectory: true) }

    /// The demo operator's token, accepted only when the server runs with `--demo`.
    public static let demoOperatorToken = "demo-operator-token"
    /// The demo's operator tokens of one role each (`demo-registry-operator`, ...), accepted only with `--demo`.
    public static let demoRoleOperatorTokens: [OperatorRole: String] = Dictionary(
        uniqueKeysWithValues: OperatorRole.allCases.map { ($0, "demo-\($0.rawValue)-operator") })

    /// Creates a configuration from explicit values (tests and embedders).
    public init(
        dataDirectory: URL, database: DatabaseLocation, hostname: String = "127.0.0.1", port: Int = 8080,
        ocspPort: Int? = nil, ocspThreads: Int = 1, issuancePort: Int? = nil, issuanceThreads: Int = 1,
        issuanceCommitDelay: Duration = CertificateGroupCommit.Gathering.default.delay, publicBaseURL: String? = nil, operatorTokens: [String: String] = [:], demo: Bool = false,
        logLevel: Logger.Level = .info, keyStorePassphrase: KeyStorePassphraseSource = .none,
        actorTokens: [String: CardActor] = [:], pkcs11KeyStore: PKCS11KeyStore.Location? = nil, pkcs11PIN: SecretSource = .none,
        cardPKCS11Module: String? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.database = database
        self.hostname = hostname
        self.port = port
        self.ocspPort = ocspPort
        self.ocspThreads = ocspThreads
        self.issuancePort = issuancePort
        self.issuanceThreads = issuanceThreads
        self.issuanceCommitDelay = issuanceCommitDelay
        self.publicBaseURL = publicBaseURL ?? "http://\(hostname):\(port)"
        self.operatorTokens = operatorTokens
        self.demo = demo
        self.logLevel = logLevel
        self.keyStorePassphrase = keyStorePassphrase
        self.actorTokens = actorTokens
        self.pkcs11KeyStore = pkcs11KeyStore
        self.pkcs11PIN = pkcs11PIN
        self.cardPKCS11Module = cardPKCS11Module
    }

    /// The values given on the command line; nil means "not given".
    public struct Flags: Sendable {
        /// `--data`.
        public var data: String?
        /// `--database`.
        public var database: String?
        /// `--hostname`.
        public var hostname: String?
        /// `--port`.
        public var port: Int?
        /// `--ocsp-port`.
        public var ocspPort: Int?
        /// `--issuance-port`.
        public var issuancePort: Int?
        /// `--public-url`.
        public var publicURL: String?
        /// `--log-level`.
        public var logLevel: String?
        /// `--demo`.
        public var demo: Bool
        /// `--pkcs11-module`.
        public var pkcs11Module: String?
        /// `--pkcs11-token`.
        public var pkcs11Token: String?
        /// `--card-pkcs11-module`.
        public var cardPKCS11Module: String?

        /// Creates the flags.
        public init(
            data: String? = nil, database: String? = nil, hostname: String? = nil, port: Int? = nil,
            ocspPort: Int? = nil, issuancePort: Int? = nil, publicURL: String? = nil, logLevel: String? = nil, demo: Bool = false,
            pkcs11Module: String? = nil, pkcs11Token: String? = nil, cardPKCS11Module: String? = nil
        ) {
            self.pkcs11Module = pkcs11Module
            self.pkcs11Token = pkcs11Token
            self.cardPKCS11Module = cardPKCS11Module
            self.data = data
            self.database = database
            self.hostname = hostname
            self.port = port
            self.ocspPort = ocspPort
            self.issuancePort = issuancePort
            self.publicURL = publicURL
            self.logLevel = logLevel
            self.demo = demo
        }
    }

    /// Resolves the configuration: flags, then environment, then defaults.
    /// - Parameters:
    ///   - flags: what the command line said.
    ///   - environment: the process environment (the composition root passes it in).
    /// - Throws: ``ConfigurationError`` for a value that cannot be used.
    public static func resolve(flags: Flags, environment: [String: String]) throws(ConfigurationError) -> OpenCPSConfiguration {
        func value(_ flag: String?, _ variable: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let env = environment[variable], !env.isEmpty { return env }
            return nil
        }
        let dataPath = value(flags.data, "OPENCPS_DATA") ?? "data"
        let dataDirectory = URL(fileURLWithPath: dataPath, isDirectory: true).standardizedFileURL
        let database = try DatabaseLocation(
            url: value(flags.database, "OPENCPS_DATABASE_URL")
                ?? "sqlite:" + dataDirectory.appendingPathComponent("opencps.sqlite").path)
        let hostname = value(flags.hostname, "OPENCPS_HOSTNAME") ?? "127.0.0.1"
        /// A port from its flag, else its variable; nil when neither is given.
        func portSetting(_ flag: Int?, _ variable: String, setting: String) throws(ConfigurationError) -> Int? {
            var port = flag
            if port == nil, let text = environment[variable], !text.isEmpty {
                guard let parsed = Int(text) else { throw ConfigurationError(setting, "\(variable) must be a number, got '\(text)'") }
                port = parsed
            }
            if let port, !(0...65_535).contains(port) {
                throw ConfigurationError(setting, "must be between 0 and 65535, got \(port)")
            }
            return port
        }
        let port = try portSetting(flags.port, "OPENCPS_PORT", setting: "port") ?? 8080
        let ocspPort = try portSetting(flags.ocspPort, "OPENCPS_OCSP_PORT", setting: "ocsp-port")
        if let ocspPort, ocspPort == port, port != 0 {
            throw ConfigurationError("ocsp-port", "must differ from the main port (\(port))")
        }
        let issuancePort = try portSetting(flags.issuancePort, "OPENCPS_ISSUANCE_PORT", setting: "issuance-port")
        if let issuancePort, issuancePort != 0, issuancePort == port || issuancePort == ocspPort {
            throw ConfigurationError("issuance-port", "must differ from the main port (\(port)) and the OCSP port")
        }
        /// A thread count from its variable, 1 when unset.
        func threadSetting(_ variable: String, setting: String) throws(ConfigurationError) -> Int {
            guard let text = environment[variable], !text.isEmpty else { return 1 }
            guard let parsed = Int(text), (1...64).contains(parsed) else {
                throw ConfigurationError(setting, "\(variable) must be a number from 1 to 64, got '\(text)'")
            }
            return parsed
        }
        let ocspThreads = try threadSetting("OPENCPS_OCSP_THREADS", setting: "ocsp-threads")
        let issuanceThreads = try threadSetting("OPENCPS_ISSUANCE_THREADS", setting: "issuance-threads")
        var payerLotMaximumSheets = PayerLotService.defaultMaximumSheets
        if let text = environment["OPENCPS_PAYER_LOT_MAXIMUM_SHEETS"], !text.isEmpty {
            guard let parsed = Int(text), (1...10_000).contains(parsed) else {
                throw ConfigurationError("payer-lot-maximum-sheets", "OPENCPS_PAYER_LOT_MAXIMUM_SHEETS must be a number from 1 to 10000, got '\(text)'")
            }
            payerLotMaximumSheets = parsed
        }
        var sweepGrace: TimeInterval = 300
        if let text = environment["OPENCPS_SWEEP_GRACE_SECONDS"], !text.isEmpty {
            guard let parsed = Int(text), (0...86_400).contains(parsed) else {
                throw ConfigurationError("sweep-grace", "OPENCPS_SWEEP_GRACE_SECONDS must be a number of seconds from 0 to 86400, got '\(text)'")
            }
            sweepGrace = TimeInterval(parsed)
        }
        var issuanceCommitDelay = CertificateGroupCommit.Gathering.default.delay
        if let text = environment["OPENCPS_ISSUANCE_COMMIT_DELAY_US"], !text.isEmpty {
            guard let microseconds = Int(text), (0...100_000).contains(microseconds) else {
                throw ConfigurationError(
                    "issuance-commit-delay", "OPENCPS_ISSUANCE_COMMIT_DELAY_US must be a number of microseconds from 0 to 100000, got '\(text)'")
            }
            issuanceCommitDelay = .microseconds(microseconds)
        }
        let publicURL = value(flags.publicURL, "OPENCPS_PUBLIC_URL")
        if let publicURL, !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            throw ConfigurationError("public-url", "must start with http:// or https://, got '\(publicURL)'")
        }
        let levelText = value(flags.logLevel, "OPENCPS_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationError("log-level", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(levelText)'")
        }
        var (tokens, operatorRoles) = try parseOperatorTokens(environment["OPENCPS_OPERATOR_TOKENS"] ?? "")
        if flags.demo, tokens.isEmpty {
            tokens[demoOperatorToken] = "demo"
            for (role, token) in demoRoleOperatorTokens {
                tokens[token] = "demo-\(role.rawValue)"
                operatorRoles[token] = [role]
            }
        }
        var passphrase = KeyStorePassphraseSource.none
        if let file = environment["OPENCPS_KEYSTORE_PASSPHRASE_FILE"], !file.isEmpty {
            passphrase = .file(URL(fileURLWithPath: file))
        } else if let value = environment["OPENCPS_KEYSTORE_PASSPHRASE"], !value.isEmpty {
            passphrase = .environment(value)
        } else if flags.demo {
            passphrase = .file(dataDirectory.appendingPathComponent("keystore-passphrase"))
        }
        var pkcs11KeyStore: PKCS11KeyStore.Location?
        let pkcs11Token = value(flags.pkcs11Token, "OPENCPS_PKCS11_TOKEN")
        if let module = value(flags.pkcs11Module, "OPENCPS_PKCS11_MODULE") {
            guard let pkcs11Token else {
                throw ConfigurationError("pkcs11-token", "a PKCS #11 module for the CA keys needs the label of its token (--pkcs11-token or OPENCPS_PKCS11_TOKEN)")
            }
            pkcs11KeyStore = PKCS11KeyStore.Location(modulePath: module, tokenLabel: pkcs11Token)
        } else if pkcs11Token != nil {
            throw ConfigurationError("pkcs11-module", "a PKCS #11 token label needs its module (--pkcs11-module or OPENCPS_PKCS11_MODULE)")
        }
        var pkcs11PIN = SecretSource.none
        if let file = environment["OPENCPS_PKCS11_PIN_FILE"], !file.isEmpty {
            pkcs11PIN = .file(URL(fileURLWithPath: file), variable: "OPENCPS_PKCS11_PIN_FILE")
        } else if let value = environment["OPENCPS_PKCS11_PIN"], !value.isEmpty {
            pkcs11PIN = .environment(value, variable: "OPENCPS_PKCS11_PIN")
        }
        var actors: [String: CardActor] = [:]
        for (token, spec) in try parseTokens(environment["OPENCPS_ACTOR_TOKENS"] ?? "", setting: "OPENCPS_ACTOR_TOKENS") {
            // The platform acts only for itself (expiry, supersession, automatic orders): no token may.
            guard let actor = CardActor(auditName: spec), actor != .platform else {
                throw ConfigurationError("actor-tokens", "'\(spec)' is not an actor: use holder:<idNat>, ordre:<CNOM...>, ars:<region code, such as 84>, manager:<idNatStruct>, helpdesk or operator:<production|security|registration>")
            }
            actors[token] = actor
        }
        var configuration = OpenCPSConfiguration(
            dataDirectory: dataDirectory, database: database, hostname: hostname, port: port, ocspPort: ocspPort, ocspThreads: ocspThreads,
            issuancePort: issuancePort, issuanceThreads: issuanceThreads, issuanceCommitDelay: issuanceCommitDelay,
            publicBaseURL: publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            operatorTokens: tokens, demo: flags.demo, logLevel: level, keyStorePassphrase: passphrase, actorTokens: actors,
            pkcs11KeyStore: pkcs11KeyStore, pkcs11PIN: pkcs11PIN, cardPKCS11Module: value(flags.cardPKCS11Module, "OPENCPS_CARD_PKCS11_MODULE"))
        configuration.payerLotMaximumSheets = payerLotMaximumSheets
        configuration.operatorRoles = operatorRoles
        configuration.sweepGrace = sweepGrace
        configuration.ecps = try ecpsSettings(environment: environment, dataDirectory: dataDirectory)
        configuration.oidc = try oidcSettings(environment: environment)
        configuration.cardTLSLogin = try cardTLSLoginSettings(environment: environment, otherPorts: [port, ocspPort, issuancePort].compactMap { $0 })
        configuration.portal = try portalSettings(environment: environment, publicBaseURL: configuration.publicBaseURL)
        return configuration
    }

    /// Reads `OPENCPS_OPERATOR_TOKENS`: `name:role+role=token,...`, or `name=token` for a token with every role (the
    /// format before roles). Returns token → name and token → roles (only for tokens that name theirs).
    static func parseOperatorTokens(_ text: String) throws(ConfigurationError) -> (names: [String: String], roles: [String: Set<OperatorRole>]) {
        var names: [String: String] = [:]
        var roles: [String: Set<OperatorRole>] = [:]
        for (token, spec) in try parseTokens(text) {
            let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                names[token] = spec
                continue
            }
            var named: Set<OperatorRole> = []
            for word in parts[1].split(separator: "+", omittingEmptySubsequences: false) {
                guard let role = OperatorRole(rawValue: word.trimmingCharacters(in: .whitespaces)) else {
                    throw ConfigurationError(
                        "OPENCPS_OPERATOR_TOKENS",
                        "'\(word)' is not an operator role: OPENCPS_OPERATOR_TOKENS reads name:role+role=token with roles \(OperatorRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                named.insert(role)
            }
            guard !parts[0].isEmpty else {
                throw ConfigurationError("OPENCPS_OPERATOR_TOKENS", "OPENCPS_OPERATOR_TOKENS reads name:role+role=token: a name is needed before ':'")
            }
            names[token] = String(parts[0])
            roles[token] = named
        }
        return (names, roles)
    }

    /// Reads `name=token,name2=token2`.
    static func parseTokens(_ text: String, setting: String = "OPENCPS_OPERATOR_TOKENS") throws(ConfigurationError) -> [String: String] {
        var tokens: [String: String] = [:]
        for pair in text.split(separator: ",") where !pair.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].count >= 16 else {
                throw ConfigurationError(
                    setting, "\(setting) reads name=token,... with tokens of at least 16 characters")
            }
            tokens[parts[1]] = parts[0]
        }
        return tokens
    }
}
