import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSTokens
import X509

/// `opencps card ...`: the holder's side of a card, a software token or a PKCS #11 token.
struct CardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card",
        abstract: "Use a card (software or PKCS #11 token): status, PIN, unblocking, signing.",
        discussion: """
            The card is a token file (--token FILE, or --serial N for <data>/tokens/N.token) or, when no such file \
            exists and a card module is configured (--card-pkcs11-module or OPENCPS_CARD_PKCS11_MODULE), the PKCS #11 \
            token labelled "OpenCPS N" in that module. PINs are read from \
            standard input (one per line, in the order the command asks), never from a flag. Exit status: 0 on \
            success, 3 for a wrong PIN or PUK, 4 when the PIN is blocked or the PUK used up, 5 when the signing \
            policy refuses the document type.
            """,
        subcommands: [CardStatusCommand.self, CardVerifyPINCommand.self, CardChangePINCommand.self, CardUnblockCommand.self, CardSignCommand.self, CardLoginCommand.self])
}

/// Which token a card command uses.
struct TokenOptions: ParsableArguments {
    @Option(name: .long, help: "The token file.")
    var token: String?

    @Option(name: .long, help: "The card serial: the token is <data>/tokens/<serial>.token.")
    var serial: String?

    @Option(name: .long, help: "The data folder (env OPENCPS_DATA; default ./data).")
    var data: String?

    @Option(name: .long, help: "Read the PIN (and PUK) lines from this file instead of standard input.")
    var input: String?

    @Option(name: .long, help: "The PKCS #11 module of cards made as tokens (env OPENCPS_CARD_PKCS11_MODULE).")
    var cardPKCS11Module: String?

    /// The source of PIN and PUK lines.
    func secrets() throws -> SecretReader {
        guard let input else { return SecretReader(lines: nil) }
        guard let text = try? String(contentsOfFile: input, encoding: .utf8) else {
            throw ValidationError("cannot read \(input)")
        }
        return SecretReader(lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    /// The card's token: the file given or found by serial, else the PKCS #11 token of the serial.
    func open() throws -> any CardToken {
        let environment = ProcessInfo.processInfo.environment
        do {
            if let token {
                return try SoftwareToken.open(URL(fileURLWithPath: token))
            }
            guard let serial else { throw ValidationError("give --token FILE or --serial N") }
            let folder = data ?? environment["OPENCPS_DATA"] ?? "data"
            let file = URL(fileURLWithPath: folder).appendingPathComponent("tokens").appendingPathComponent("\(serial).token")
            let module = cardPKCS11Module ?? environment["OPENCPS_CARD_PKCS11_MODULE"].flatMap { $0.isEmpty ? nil : $0 }
            if let module, !FileManager.default.fileExists(atPath: file.path) {
                return try PKCS11CardTokenStore(modulePath: module).open(cardSerial: serial)
            }
            return try SoftwareToken.open(file)
        } catch let error as TokenError {
            throw ValidationError(error.reason)
        }
    }
}

/// Reads PIN and PUK lines from a file or standard input, never from a flag.
struct SecretReader {
    var lines: [String]?
    private var index = 0

    init(lines: [String]?) {
        self.lines = lines
    }

    mutating func read(_ prompt: String) throws -> String {
        if let lines {
            guard index < lines.count else { throw ValidationError("\(prompt) expected in the input file") }
            index += 1
            return lines[index - 1].trimmingCharacters(in: .whitespaces)
        }
        if isatty(STDIN_FILENO) != 0 { FileHandle.standardError.write(Data("\(prompt): ".utf8)) }
        guard let line = readLine(strippingNewline: true) else {
            throw ValidationError("\(prompt) expected on standard input")
        }
        return line.trimmingCharacters(in: .whitespaces)
    }
}

/// Says what a PIN or PUK presentation gave, and exits with its status.
func finish(_ result: TokenSecretResult, what: String) throws {
    switch result {
    case .accepted:
        print("\(what): OK")
    case .wrong(let left):
        printError("\(what): wrong, \(left) tries left")
        throw ExitCode(3)
    case .pinBlocked:
        printError("The PIN is blocked: unblock it with the PUK (opencps card unblock).")
        throw ExitCode(4)
    case .pukExhausted:
        printError("The PUK is used up: the card is dead and must be replaced.")
        throw ExitCode(4)
    }
}

/// `opencps card status`.
struct CardStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the card's public data and its PIN counters.")

    @OptionGroup var options: TokenOptions

    func run() async throws {
        let token = try options.open()
        let data = token.publicData
        let counters = try token.counters()
        print("""
            card:        \(data.kind) n° \(data.cardSerial)
            holder:      \(data.holderName) (\(data.holderIdNat))
            valid until: \(data.expiresOn)
            PIN:         \(counters.pinTriesLeft) tries left
            PUK:         \(counters.pukTriesLeft) tries left
            status:      \(counters.status.rawValue)
            """)
    }
}

/// `opencps card verify-pin`.
struct CardVerifyPINCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify-pin", abstract: "Present the PIN (read from standard input).")

    @OptionGroup var options: TokenOptions

    func run() async throws {
        let token = try options.open()
        var secrets = try options.secrets()
        try finish(try token.verifyPIN(try secrets.read("PIN")), what: "PIN")
    }
}

/// `opencps card change-pin`.
struct CardChangePINCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "change-pin", abstract: "Change the PIN (current, then new, from standard input).")

    @OptionGroup var options: TokenOptions

    func run() async throws {
        let token = try options.open()
        var secrets = try options.secrets()
        let current = try secrets.read("current PIN")
        let new = try secrets.read("new PIN")
        do {
            try finish(try token.changePIN(current: current, new: new), what: "PIN change")
        } catch let error as ExitCode {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// `opencps card unblock`.
struct CardUnblockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unblock", abstract: "Unblock the PIN with the PUK (PUK, then new PIN, from standard input).")

    @OptionGroup var options: TokenOptions

    func run() async throws {
        let token = try options.open()
        var secrets = try options.secrets()
        let puk = try secrets.read("PUK")
        let newPIN = try secrets.read("new PIN")
        try finish(try token.unblock(puk: puk, newPIN: newPIN), what: "unblocking")
    }
}

/// `opencps card sign FILE --type TYPE`.
struct CardSignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a file with the card's signature key: a CAdES detached signature, FILE.p7s (PIN from standard input).",
        discussion: """
            Refuses before asking for the PIN when the card may not sign this document type (a prescription needs a \
            prescriber's CPS or CPF; a care sheet a CPS of a health profession). FILE.p7s is a DER CMS signature with \
            the signing time, the message digest, signing-certificate-v2, the card's certificate and its CA's (read from \
            <data>/pki). With --tsa URL it also carries a signature time-stamp (CAdES-T) from that RFC 3161 authority, \
            e.g. http://127.0.0.1:8080/tsa. Check it with: openssl cms -verify -binary -inform DER -in FILE.p7s \
            -content FILE -CAfile <data>/pki/root.pem -out /dev/null, or opencps signature verify.
            """)

    @OptionGroup var options: TokenOptions

    @Option(name: .long, help: "The document type: prescription, medical-certificate or care-sheet.")
    var type: String

    @Option(name: .long, help: "An RFC 3161 time-stamping authority's URL, for a time-stamped signature (CAdES-T).")
    var tsa: String?

    @Argument(help: "The file to sign.")
    var file: String

    func run() async throws {
        let token = try options.open()
        guard let content = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        let certificate = try Certificate(pemEncoded: token.certificatePEM(.signature))
        do {
            let documentType = try SignedDocumentType(code: type)
            let holder = try CardCertificateReader.holder(of: certificate)
            guard let qualification = holder.qualification else {
                throw SigningPolicyError(code: "signature.policy.not-a-card", reason: "the card's certificate has no card type")
            }
            try SigningPolicy.check(qualification, maySign: documentType)
        } catch let error as SigningPolicyError {
            printError("Refused: \(error.reason) (\(error.code)).")
            throw ExitCode(5)
        }
        let folder = options.data ?? ProcessInfo.processInfo.environment["OPENCPS_DATA"] ?? "data"
        let pki = URL(fileURLWithPath: folder).appendingPathComponent("pki")
        let chain = PKIHierarchy.exists(in: pki)
            ? (try PKIHierarchy.load(from: pki)).issuingAuthorities.map(\.ca.certificate).filter { $0.subject == certificate.issuer }
            : []
        let builder = try CAdESSignatureBuilder(document: content, signer: certificate, chain: chain, signingTime: Date())
        var secrets = try options.secrets()
        switch try token.sign(builder.signedAttributes, with: .signature, pin: try secrets.read("PIN")) {
        case .success(let signature):
            var unsigned: [[UInt8]] = []
            if let tsa {
                unsigned.append(CAdESTimeStamping.attribute(try await TimeStampClient.token(from: tsa, over: signature)))
            }
            try Data(try builder.signedData(signature: signature, unsignedAttributes: unsigned)).write(to: URL(fileURLWithPath: file + ".p7s"))
            print("Signed: \(file).p7s (CAdES\(tsa == nil ? "-BES" : "-T, time-stamped")\(chain.isEmpty ? "; no CA certificate found in \(pki.path), only the card's is included" : ""))")
        case .failure(let refusal):
            try finish(refusal.result, what: "PIN")
        }
    }
}

/// Asks an RFC 3161 authority over HTTP for a token over some bytes.
enum TimeStampClient {
    static func token(from url: String, over data: [UInt8]) async throws -> [UInt8] {
        guard let endpoint = URL(string: url) else { throw ValidationError("--tsa: not a URL: \(url)") }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(TimeStampRequest.derEncoded(sha256Of: data))
        let (body, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw ValidationError("the time-stamping authority answered HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
        let reply = try TimeStampResponse(derEncoded: Array(body))
        guard reply.status <= 1, let token = reply.token else {
            throw ValidationError("the time-stamping authority refused: \(reply.statusText ?? "status \(reply.status)")")
        }
        return token
    }
}
