import ArgumentParser
import Foundation
import OpenCPSTokens

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
            success, 3 for a wrong PIN or PUK, 4 when the PIN is blocked or the PUK used up.
            """,
        subcommands: [CardStatusCommand.self, CardVerifyPINCommand.self, CardChangePINCommand.self, CardUnblockCommand.self, CardSignCommand.self])
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

/// `opencps card sign FILE`.
struct CardSignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a file with the card's signature key (PIN from standard input).",
        discussion: """
            Writes FILE.sig (the SHA-256 signature: PKCS#1 v1.5 for RSA, DER ECDSA for P-256) and FILE.sig.pem (the \
            signature certificate). Check it with: openssl x509 -in FILE.sig.pem -pubkey -noout > key.pem && \
            openssl dgst -sha256 -verify key.pem -signature FILE.sig FILE
            """)

    @OptionGroup var options: TokenOptions

    @Argument(help: "The file to sign.")
    var file: String

    func run() async throws {
        let token = try options.open()
        guard let content = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        var secrets = try options.secrets()
        switch try token.sign(Array(content), with: .signature, pin: try secrets.read("PIN")) {
        case .success(let signature):
            try Data(signature).write(to: URL(fileURLWithPath: file + ".sig"))
            try Data(token.certificatePEM(.signature).utf8).write(to: URL(fileURLWithPath: file + ".sig.pem"))
            print("Signed: \(file).sig (certificate in \(file).sig.pem)")
        case .failure(let refusal):
            try finish(refusal.result, what: "PIN")
        }
    }
}
