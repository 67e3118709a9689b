import Foundation

/// Where OpenCPS keeps its data: an SQLite file (the embedded default), SQLite in memory
/// (tests), or a PostgreSQL server (production), written as one URL.
///
/// Accepted forms: `sqlite:PATH` (relative paths are relative to the working directory),
/// `sqlite::memory:`, and `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (also
/// `postgresql://`), with an optional `?sslmode=disable|prefer|require`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite database file.
    case sqliteFile(String)
    /// An SQLite database in memory, gone when the process ends.
    case sqliteMemory
    /// A PostgreSQL server, by URL.
    case postgres(URL)

    /// Reads a database URL.
    /// - Throws: ``ConfigurationError`` naming what is wrong with it.
    public init(url text: String) throws(ConfigurationError) {
        if text == "sqlite::memory:" {
            self = .sqliteMemory
        } else if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else {
                throw ConfigurationError("database", "sqlite: needs a file path, such as sqlite:data/opencps.sqlite")
            }
            self = .sqliteFile(path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let url = URL(string: text), url.host != nil, !url.path.isEmpty, url.path != "/" else {
                throw ConfigurationError("database", "a PostgreSQL URL reads postgres://USER:PASSWORD@HOST:PORT/DATABASE")
            }
            self = .postgres(url)
        } else {
            throw ConfigurationError("database", "use sqlite:PATH, sqlite::memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
    }

    /// The URL with any password masked, for logs and start-up messages.
    public var description: String {
        switch self {
        case .sqliteFile(let path): return "sqlite:\(path)"
        case .sqliteMemory: return "sqlite::memory:"
        case .postgres(let url):
            guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "postgres://…" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "postgres://…"
        }
    }

    /// Whether this is a PostgreSQL server.
    public var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }
}

/// A configuration value that cannot be used, with the setting it concerns.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The setting (`database`, `port`, ...).
    public let setting: String
    /// Why it was refused.
    public let reason: String

    /// Creates an error.
    public init(_ setting: String, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    /// `setting: reason`.
    public var description: String { "\(setting): \(reason)" }
}
