import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSTokens
import Testing

/// A software token's counters hold against concurrent presentations.
@Suite("Software token")
struct SoftwareTokenTests {
    /// A token with a P-256 key pair per role and cheap seals, in a folder of its own.
    func makeToken(pin: String = "1234") throws -> URL {
        let folder = try ExternalTool.temporaryFolder("token")
        let url = folder.appendingPathComponent("3100345668.token")
        let keys = try CardKeyRole.allCases.map { ($0, try SoftwareSigningKey.generate(label: "test-\($0.rawValue)", algorithm: .p256), "") }
        _ = try SoftwareToken.create(
            at: url, publicData: CardPublicData(
                cardSerial: "3100345668", holderIdNat: "810100271385", holderName: "Claire Lambert", kind: "CPS", cardTypeCode: 0,
                expiresOn: "2031-11-24"),
            keys: keys, pin: pin, puk: "12345678", kdf: SoftwareToken.KDFCost(n: 1 << 4, r: 8, p: 1), durable: false)
        return url
    }

    @Test("twenty wrong PINs at once, each through its own opening of the file, are three tries, not twenty")
    func concurrentWrongPINs() async throws {
        let url = try makeToken()
        let results = await withTaskGroup(of: TokenSecretResult?.self) { group in
            for _ in 0..<20 {
                group.addTask { try? SoftwareToken.open(url).verifyPIN("0000") }
            }
            var results: [TokenSecretResult] = []
            for await result in group { if let result { results.append(result) } }
            return results
        }
        #expect(results.count == 20)
        #expect(results.filter { if case .wrong = $0 { true } else { false } }.count == 2, "\(results)")
        #expect(results.filter { $0 == .pinBlocked }.count == 18)
        let token = try SoftwareToken.open(url)
        #expect(try token.counters().pinTriesLeft == 0)
        #expect(try token.verifyPIN("1234") == .pinBlocked)
    }

    @Test("an object opened before another one's PIN change sees the new PIN and the counters on disk")
    func staleObjectsReadTheFile() throws {
        let url = try makeToken()
        let early = try SoftwareToken.open(url)
        #expect(try SoftwareToken.open(url).changePIN(current: "1234", new: "2468") == .accepted)
        #expect(try early.verifyPIN("2468") == .accepted)
        #expect(try early.verifyPIN("1234") == .wrong(triesLeft: 2))
        #expect(try SoftwareToken.open(url).counters().pinTriesLeft == 2)
    }
}
