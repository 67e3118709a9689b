import Foundation
import OpenCPSDomain
@testable import OpenCPSPKI
@testable import OpenCPSServices
import Testing

/// Kept OCSP answers never outlive a revocation.
@Suite("Kept OCSP answers")
struct OCSPKeptAnswerTests {
    let result = OCSPResponderResult(
        der: [0x30, 0x03, 0x0A, 0x01, 0x00], status: .successful, thisUpdate: testNow, nextUpdate: testNow.addingTimeInterval(3600),
        hasNonce: false, serialNumbers: [try! #require(.init(hex: "0a"))])
    let request: [UInt8] = [0x30, 0x01, 0x00]

    @Test("an answer whose status was read before a revocation is not kept, one read after it is")
    func staleAnswersAreNotKept() {
        let cache = OCSPResponseCache()
        let before = cache.currentGeneration
        cache.invalidate(issuer: "forte-personnes", serialHex: "0a")
        cache.store(result, for: request, issuer: "forte-personnes", expires: testNow.addingTimeInterval(300), readAt: before)
        #expect(cache.response(for: request, now: testNow) == nil)
        cache.store(result, for: request, issuer: "forte-personnes", expires: testNow.addingTimeInterval(300), readAt: cache.currentGeneration)
        #expect(cache.response(for: request, now: testNow) == result)
        // A revocation of any certificate counts: the answer might name it under another request.
        let reading = cache.currentGeneration
        cache.invalidate(issuer: "forte-personnes", serialHex: "0b")
        cache.store(result, for: [0x30, 0x01, 0x01], issuer: "forte-personnes", expires: testNow.addingTimeInterval(300), readAt: reading)
        #expect(cache.response(for: [0x30, 0x01, 0x01], now: testNow) == nil)
        cache.invalidate(issuer: "forte-personnes", serialHex: "0a")
        #expect(cache.response(for: request, now: testNow) == nil)
    }
}
