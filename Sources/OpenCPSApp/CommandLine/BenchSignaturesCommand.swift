import ArgumentParser
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import X509

/// `opencps bench signatures`: signature verifications per second with revocation status cached
/// (in memory), beside `openssl cms -verify` over the same signatures in the same run, and
/// time-stamps per second.
struct BenchSignaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signatures",
        abstract: "Verifications/s (revocation cached) beside openssl cms -verify over the same signatures, and time-stamps/s.",
        discussion: """
            Builds a hierarchy in memory (the default profile: RSA-2048 issuing CA, as cards), signs --signatures \
            documents with a card's signature key, half of them time-stamped, then verifies them all --rounds times in \
            one task with the revocation status answered from memory. The peer: openssl cms -verify, one process per \
            signature, over the same files; `openssl version` run as many times gives the cost of starting a process, \
            printed beside it. Time-stamps: the TSA answering DER queries in process (no HTTP).
            """)

    @Option(name: .long, help: "Signatures to make and verify.")
    var signatures = 200

    @Option(name: .long, help: "Rounds of verification over all signatures.")
    var rounds = 10

    @Option(name: .long, help: "Time-stamps to make.")
    var timeStamps = 2_000

    @Option(name: .long, help: "Key type of the card: rsa2048 or p256.")
    var cardKey = "rsa2048"

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-bench-signatures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let algorithm = KeyAlgorithm(rawValue: cardKey) else { throw ValidationError("--card-key: rsa2048 or p256") }

        let now = Date()
        let keyStore = InMemoryKeyStore()
        let hierarchy = try PKIHierarchyBuilder(configuration: PKIConfiguration(publicBaseURL: "http://127.0.0.1:8080"), keyStore: keyStore)
            .initialize(now: now.addingTimeInterval(-3600))
        let issuer = try CertificateIssuer(authority: hierarchy.fortePersonnes, signingKey: hierarchy.fortePersonnes.ca.signingKey(in: keyStore))
        let signingKey = try keyStore.generateKey(label: "card", algorithm: algorithm)
        let request = CardCertificateRequest(
            givenName: "Claire", surname: "Lambert", idNat: "810099990011", professionTitle: "Médecin", structureName: "Cabinet",
            structureIdentifier: "R10000000001", cardTypeCode: 0, cardIssuerIdentifier: "80276", cardSerialNumber: "0000000001",
            cardDomain: "cps.opencps.example", publicKey: signingKey.publicKey, notBefore: now.addingTimeInterval(-600),
            notAfter: now.addingTimeInterval(3 * 365 * 86_400))
        let issued = try issuer.issue(request, profile: .signature, now: now, serial: SerialNumberGenerator(random: .system).next())
        let certificate = try Certificate(derEncoded: issued.der)
        let tsaAuthority = try TimeStampAuthority(authority: try hierarchy.timeStamping.unwrap(), keyStore: keyStore)
        let chain = [hierarchy.fortePersonnes.ca.certificate]

        var made: [(document: [UInt8], signature: [UInt8])] = []
        for index in 0..<signatures {
            let document = Array("Ordonnance \(index): paracétamol 1 g, 3 fois par jour.\n".utf8)
            let signature = index % 2 == 0
                ? try CAdESSignatureBuilder.sign(document, signer: certificate, chain: chain, signingTime: now, with: signingKey.sign)
                : try CAdESTimeStamping.sign(document, signer: certificate, chain: chain, signingTime: now, with: signingKey.sign,
                                             timeStamp: { try tsaAuthority.timeStamp(sha256Of: $0, now: now) })
            made.append((document, signature))
        }

        // Revocation status cached: answered from memory, as a relying service's cache would.
        let cache: [String: SignerCertificateStatus] = [issued.serialHex: .good]
        let verifier = CAdESVerifier(hierarchy: hierarchy, timeStampAuthorities: [tsaAuthority.authority.certificate],
                                     status: { _, serial in cache[serial.hex] ?? .notIssued })
        var valid = 0
        let started = ContinuousClock.now
        for _ in 0..<rounds {
            for item in made where await verifier.verify(document: item.document, signature: item.signature, as: .prescription, now: now).isValid {
                valid += 1
            }
        }
        let ours = Double(rounds * signatures) / Self.seconds(since: started)
        guard valid == rounds * signatures else { throw ValidationError("only \(valid) of \(rounds * signatures) verifications passed") }

        let root = folder.appendingPathComponent("root.pem")
        try (hierarchy.root.pem + "\n").write(to: root, atomically: true, encoding: .utf8)
        var files: [(URL, URL)] = []
        for (index, item) in made.enumerated() {
            let document = folder.appendingPathComponent("\(index).txt")
            let signature = folder.appendingPathComponent("\(index).p7s")
            try Data(item.document).write(to: document)
            try Data(item.signature).write(to: signature)
            files.append((document, signature))
        }
        let opensslStarted = ContinuousClock.now
        for (document, signature) in files {
            guard try Self.openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", signature.path, "-content", document.path,
                                    "-CAfile", root.path, "-out", "/dev/null"]) == 0 else {
                throw ValidationError("openssl cms -verify refused \(signature.lastPathComponent)")
            }
        }
        let peer = Double(files.count) / Self.seconds(since: opensslStarted)
        let spawnStarted = ContinuousClock.now
        for _ in files { _ = try Self.openssl(["version"]) }
        let spawn = Double(files.count) / Self.seconds(since: spawnStarted)

        let query = TimeStampRequest.derEncoded(sha256Of: Array("bench".utf8), nonce: [0x01, 0x02, 0x03, 0x04])
        let stampStarted = ContinuousClock.now
        for _ in 0..<timeStamps {
            guard (try TimeStampResponse(derEncoded: tsaAuthority.respond(to: query, now: Date()))).status == 0 else {
                throw ValidationError("the TSA refused a query")
            }
        }
        let stamps = Double(timeStamps) / Self.seconds(since: stampStarted)

        print("card key \(cardKey), \(signatures) signatures (half time-stamped), \(rounds) rounds")
        print(String(format: "OpenCPS CAdESVerifier, revocation cached:     %9.0f verifications/s", ours))
        print(String(format: "openssl cms -verify, one process each:         %9.0f verifications/s", peer))
        print(String(format: "  (openssl version, one process each:          %9.0f runs/s: the cost of starting it)", spawn))
        print(String(format: "OpenCPS TSA, in process (%@ key):          %9.0f time-stamps/s", hierarchy.configuration.ocspResponderKeyAlgorithm.rawValue, stamps))
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static func openssl(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension Optional {
    fileprivate func unwrap() throws -> Wrapped {
        guard let self else { throw ValidationError("the hierarchy has no time-stamping authority") }
        return self
    }
}
