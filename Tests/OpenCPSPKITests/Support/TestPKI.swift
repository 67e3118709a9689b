import Foundation
import OpenCPSPKI
import SwiftASN1
import X509

/// One hierarchy shared by the suites (key generation is the slow part): a P-256 root,
/// RSA-2048 issuing CAs and P-256 OCSP responders, so both signature algorithms are exercised.
final class TestPKI: Sendable {
    static let shared: TestPKI = {
        do { return try TestPKI() } catch { fatalError("test PKI setup failed: \(error)") }
    }()

    let keyStore = InMemoryKeyStore()
    let hierarchy: PKIHierarchy
    /// A minute ago, so OpenSSL (which checks against the real clock) accepts what we issue.
    let now: Date
    let rsaCardKey: any PKISigningKey
    let p256CardKey: any PKISigningKey
    let forteIssuer: CertificateIssuer
    let directory: URL

    init() throws {
        now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60).rounded(.down))
        let configuration = PKIConfiguration(publicBaseURL: "http://127.0.0.1:8080/",
                                             rootKeyAlgorithm: .p256, issuingCAKeyAlgorithm: .rsa2048,
                                             ocspResponderKeyAlgorithm: .p256)
        hierarchy = try PKIHierarchyBuilder(configuration: configuration, keyStore: keyStore, random: .seeded(1)).initialize(now: now)
        rsaCardKey = try keyStore.generateKey(label: "card-rsa", algorithm: .rsa2048)
        p256CardKey = try keyStore.generateKey(label: "card-p256", algorithm: .p256)
        forteIssuer = try CertificateIssuer(authority: hierarchy.fortePersonnes,
                                            signingKey: hierarchy.fortePersonnes.ca.signingKey(in: keyStore))
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-pki-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A request for a personal card (CPS, no structure), or for a staff card (CPE of a
    /// hospital) when `staff` is set.
    func request(key: any PKISigningKey, idNat: String = "810002345678", cardSerial: String = "0123456789",
                 staff: Bool = false) -> CardCertificateRequest {
        CardCertificateRequest(givenName: "Jeanne", surname: "Dupont-Martin", idNat: idNat,
                               professionTitle: staff ? "Personnel d'établissement" : "Médecin",
                               structureName: staff ? "CH de Pontarlier" : nil, structureIdentifier: staff ? "1250000700" : nil,
                               cardTypeCode: staff ? 2 : 0, cardIssuerIdentifier: "80276", cardSerialNumber: cardSerial,
                               cardDomain: "cps.opencps.example", publicKey: key.publicKey,
                               notBefore: now, notAfter: now.addingTimeInterval(3 * 365 * 86_400))
    }

    func issue(_ profile: CardCertificateProfile, key: any PKISigningKey, seed: UInt64, cardSerial: String = "0123456789") throws -> IssuedCertificate {
        try forteIssuer.issue(request(key: key, cardSerial: cardSerial), profile: profile, now: now,
                              serial: SerialNumberGenerator(random: .seeded(seed)).next())
    }

    /// Writes bytes or text to a fresh file in the test folder.
    func write(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func write(_ name: String, _ text: String) throws -> URL {
        try write(name, Array(text.utf8))
    }
}

/// Runs a tool and returns its exit status and combined output.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    if let environment { process.environment = environment }
    if executable.hasPrefix("/") {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
    }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

func openssl(_ arguments: String...) throws -> (status: Int32, output: String) {
    try run("/usr/bin/openssl", arguments)
}

/// Loads a test resource.
func resource(_ name: String) throws -> [UInt8] {
    let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
    guard let url = Bundle.module.url(forResource: parts[0], withExtension: parts.count > 1 ? parts[1] : nil,
                                      subdirectory: "Resources/openssl") else {
        throw PKIError(code: "test.missing-resource", reason: "no resource \(name)")
    }
    return Array(try Data(contentsOf: url))
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var chars = Array(text)
    while chars.count >= 2 {
        bytes.append(UInt8(String(chars[0...1]), radix: 16)!)
        chars.removeFirst(2)
    }
    return bytes
}
