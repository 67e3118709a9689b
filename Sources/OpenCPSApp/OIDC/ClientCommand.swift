import ArgumentParser
import Foundation
import OpenCPSDomain
import OpenCPSServices

/// `opencps client ...`: the relying services registered with the OpenID Connect provider.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Register, list and remove the OpenID Connect provider's relying services.",
        subcommands: [ClientAddCommand.self, ClientListCommand.self, ClientRemoveCommand.self])
}

/// The registry of clients on the configured database.
private func withClients<T>(_ options: DataOptions, _ body: (OIDCClients) async throws -> T) async throws -> T {
    let configuration = try options.configuration(defaultLogLevel: "warning")
    return try await ApplicationRunner.withDatabase(configuration) { app in
        try await body(OIDCClients(database: ServiceDatabase { [unowned app] in app.db }, clock: SystemWallClock(), random: .system, settings: configuration.oidc))
    }
}

/// Turns a refusal into a clear message and a non-zero exit.
private func refusing<T>(_ work: () async throws -> T) async throws -> T {
    do {
        return try await work()
    } catch let error as OIDCError {
        printError("\(error.reason) [\(error.code)]")
        throw ExitCode(2)
    }
}

/// `opencps client add ID --redirect-uri URI ...`.
struct ClientAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Register a client; a confidential client's secret is printed once.",
        discussion: "Exit status: 0 registered, 2 refused (bad redirect URI, unknown scope, identifier taken).")

    @OptionGroup var options: DataOptions

    @Argument(help: "The client_id.")
    var id: String

    @Option(name: .long, help: "A readable name (default: the client_id).")
    var name: String?

    @Option(name: .long, help: "client_secret_basic (default), client_secret_post, private_key_jwt (with --jwks), or none for a public client (PKCE only).")
    var authMethod: String = "client_secret_basic"

    @Option(name: .long, help: "A JWK Set file (JSON) with the client's public keys: registers a private_key_jwt client (implies --auth-method private_key_jwt).")
    var jwks: String?

    @Option(name: .long, help: "A redirect URI, matched exactly (repeat for several).")
    var redirectURI: [String] = []

    @Option(name: .long, help: "A post-logout redirect URI (repeat for several).")
    var postLogoutRedirectURI: [String] = []

    @Option(name: .long, help: "An allowed scope (repeat; default: openid profile scope_all).")
    var scope: [String] = []

    @Flag(name: .long, help: "Answer userinfo with a signed JWT instead of JSON.")
    var userinfoSigned = false

    func run() async throws {
        guard var method = OIDCClientAuthMethod(rawValue: authMethod) else {
            throw ValidationError("--auth-method is client_secret_basic, client_secret_post, private_key_jwt or none")
        }
        var keys: String?
        if let jwks {
            guard let data = FileManager.default.contents(atPath: jwks), let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("cannot read the JWK Set file \(jwks)")
            }
            keys = text
            method = .privateKeyJWT
        }
        let registration = OIDCClients.Registration(
            id: id, name: name ?? id, authMethod: method, redirectURIs: redirectURI, postLogoutRedirectURIs: postLogoutRedirectURI,
            scopes: scope.isEmpty ? OIDCScope.known : scope, userinfoSigned: userinfoSigned, jwks: keys)
        let (client, secret) = try await withClients(options) { clients in
            try await refusing { try await clients.register(registration, actor: "operator:cli") }
        }
        print("client_id:     \(client.id)")
        if let secret { print("client_secret: \(secret)") }
        print("auth method:   \(client.authMethod.rawValue)")
    }
}

/// `opencps client list`.
struct ClientListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the registered clients.")

    @OptionGroup var options: DataOptions

    func run() async throws {
        let clients = try await withClients(options) { try await $0.list() }
        for client in clients {
            print("\(client.id)\t\(client.authMethod.rawValue)\t\(client.scopes.joined(separator: " "))\t\(client.redirectURIs.joined(separator: " "))")
        }
    }
}

/// `opencps client remove ID`.
struct ClientRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a client; its tokens are revoked.", discussion: "Exit status: 0 removed, 2 no such client.")

    @OptionGroup var options: DataOptions

    @Argument(help: "The client_id.")
    var id: String

    func run() async throws {
        try await withClients(options) { clients in try await refusing { try await clients.remove(id, actor: "operator:cli") } }
        print("removed \(id)")
    }
}
