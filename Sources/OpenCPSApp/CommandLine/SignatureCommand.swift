import ArgumentParser
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSServices

/// `opencps signature ...`.
struct SignatureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signature", abstract: "Verify document signatures.", subcommands: [SignatureVerifyCommand.self])
}

/// `opencps signature verify FILE --type TYPE [--signature FILE.p7s]`.
struct SignatureVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a detached CMS/CAdES signature of a file against the data folder's PKI and revocations.",
        discussion: """
            Prints the signer, the signing time and its source, and one verdict per check (integrity, time-stamp, chain, \
            revocation at the signing time and now, policy). Exit status: 0 when the signature is valid, 3 when a check \
            fails. Needs no key-store passphrase.
            """)

    @OptionGroup var options: DataOptions

    @Option(name: .long, help: "The document type: prescription, medical-certificate or care-sheet.")
    var type: String

    @Option(name: .long, help: "The signature file (default FILE.p7s).")
    var signature: String?

    @Argument(help: "The signed file.")
    var file: String

    func run() async throws {
        let documentType: SignedDocumentType
        do {
            documentType = try SignedDocumentType(code: type)
        } catch {
            throw ValidationError(error.reason)
        }
        let signatureFile = signature ?? file + ".p7s"
        guard let document = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        guard let signatureBytes = FileManager.default.contents(atPath: signatureFile) else { throw ValidationError("cannot read \(signatureFile)") }
        let configuration = try options.configuration(defaultLogLevel: "warning")
        let directory = PKIMaterial.hierarchyDirectory(configuration)
        guard PKIHierarchy.exists(in: directory) else {
            throw ValidationError("no PKI in \(configuration.dataDirectory.path): run opencps pki init first")
        }
        let hierarchy = try PKIHierarchy.load(from: directory)
        let result = try await ApplicationRunner.withDatabase(configuration, migrate: false) { app in
            let service = try SignatureService(
                hierarchy: hierarchy, keyStore: nil, database: ServiceDatabase { app.db }, clock: SystemWallClock())
            return await service.verify(document: Array(document), signature: Array(signatureBytes), as: documentType)
        }
        print(Self.report(result))
        if !result.isValid { throw ExitCode(3) }
    }

    static func report(_ result: SignatureVerification) -> String {
        var lines: [String] = [result.isValid ? "VALID signature of a \(result.documentType.code)" : "INVALID signature of a \(result.documentType.code)"]
        if let signer = result.signer {
            let name = [signer.givenName, signer.surname].compactMap { $0 }.joined(separator: " ")
            lines.append("Signer: \(signer.idNat) \(name), \(signer.professionTitle ?? "no profession"), card \(signer.cardType?.code ?? "of unknown type")")
        }
        if let time = result.signingTime {
            lines.append("Signing time: \(time.formatted(.iso8601)) (\(result.signingTimeSource.rawValue))")
        }
        let verdicts: [(String, SignatureVerdict?)] = [
            ("integrity", result.integrity), ("time-stamp", result.timeStamp), ("chain", result.chain),
            ("revocation at signing time", result.revocationAtSigningTime), ("revocation now", result.revocationNow), ("policy", result.policy),
        ]
        for (name, verdict) in verdicts {
            guard let verdict else { continue }
            lines.append("  \(name): \(verdict.status.rawValue) — \(verdict.reason) [\(verdict.code)]")
        }
        return lines.joined(separator: "\n")
    }
}
