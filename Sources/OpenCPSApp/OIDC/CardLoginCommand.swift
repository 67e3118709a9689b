import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSTokens

/// `opencps card login`: logs the card's holder in to a relying service, as a browser
/// extension or a desktop middleware would. It opens the authorization URL the service gave,
/// signs the provider's challenge with the card's authentication key after the PIN, posts the
/// signature and the authentication certificate, and prints where the provider sends the
/// user agent back: the service's redirect URI with its `code` and `state`.
struct CardLoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a relying service with the card (OpenID Connect): prints the redirect with the code.",
        discussion: "The PIN is read from standard input (or --input FILE). Exit status: 0 logged in, 3 wrong PIN, 4 PIN blocked, 6 login refused.")

    @OptionGroup var options: TokenOptions

    @Option(name: .long, help: "The authorization URL the relying service sent the user agent to (…/oidc/authorize?...).")
    var authorizeURL: String

    @Flag(name: .long, help: "Print only the code, not the whole redirect URL.")
    var codeOnly = false

    func run() async throws {
        let token = try options.open()
        var secrets = try options.secrets()
        guard let url = URL(string: authorizeURL) else { throw ValidationError("--authorize-url: not a URL: \(authorizeURL)") }
        var start = URLRequest(url: url)
        start.setValue("application/json", forHTTPHeaderField: "Accept")
        let (startBody, startResponse) = try await URLSession.shared.data(for: start)
        let challenge = try Self.object(startBody, response: startResponse)
        guard let challengeID = challenge["challengeId"] as? String, let message = challenge["message"] as? String,
              let loginURL = (challenge["loginUrl"] as? String).flatMap(URL.init(string:)), let bytes = Self.base64URL(message) else {
            throw ValidationError("the provider did not answer with a card login challenge")
        }
        switch try token.sign(bytes, with: .authentication, pin: try secrets.read("PIN")) {
        case .success(let signature):
            var login = URLRequest(url: loginURL)
            login.httpMethod = "POST"
            login.setValue("application/json", forHTTPHeaderField: "Content-Type")
            login.httpBody = try JSONSerialization.data(withJSONObject: [
                "challengeId": challengeID, "signature": Data(signature).base64EncodedString(), "certificate": token.certificatePEM(.authentication),
            ])
            let (body, response) = try await URLSession.shared.data(for: login)
            let reply = try Self.object(body, response: response)
            guard let redirect = reply["redirect"] as? String else { throw ValidationError("the provider gave no redirect") }
            if codeOnly {
                print(URLComponents(string: redirect)?.queryItems?.first { $0.name == "code" }?.value ?? "")
            } else {
                print(redirect)
            }
        case .failure(let refusal):
            try finish(refusal.result, what: "PIN")
        }
    }

    private static func object(_ body: Data, response: URLResponse) throws -> [String: Any] {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        guard status == 200 else {
            printError("login refused (HTTP \(status)): \(object["error_description"] as? String ?? String(decoding: body, as: UTF8.self)) [\(object["code"] as? String ?? "")]")
            throw ExitCode(6)
        }
        return object
    }

    private static func base64URL(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
