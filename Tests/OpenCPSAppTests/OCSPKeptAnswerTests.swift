import Foundation
import OpenCPSDomain
@testable import OpenCPSPKI
@testable import OpenCPSServices
import Testing

/// Kept OCSP answers never outlive a revocation: each carries the revocation version its status
/// was read at, and none is stored or served once a newer change to its certificate is known.
@Suite("Kept OCSP answers")
struct OCSPKeptAnswerTests {
    let result = OCSPResponderResult(
        der: [0x30, 0x03, 0x0A, 0x01, 0x00], status: .successful, thisUpdate: testNow, nextUpdate: testNow.addingTimeInterval(3600),
        hasNonce: false, serialNumbers: [try! #require(.init(hex: "0a"))])
    let request: [UInt8] = [0x30, 0x01, 0x00]
    let expires = testNow.addingTimeInterval(300)

    @Test("an answer whose status was read at a version before a revocation is never stored, one read after it is")
    func staleAnswersAreNotKept() {
        let cache = OCSPResponseCache()
        // Read at version 4; the revocation (version 5) is heard of before the answer is stored.
        cache.invalidate(issuer: "forte-personnes", serialHex: "0a", version: 5)
        cache.store(result, for: request, issuer: "forte-personnes", expires: expires, readAt: 4)
        #expect(cache.response(for: request, now: testNow) == nil)
        cache.store(result, for: request, issuer: "forte-personnes", expires: expires, readAt: 5)
        #expect(cache.response(for: request, now: testNow) == result)
        // A change of any certificate counts: the answer might name it under another request.
        cache.invalidate(issuer: "forte-personnes", serialHex: "0b", version: 6)
        cache.store(result, for: [0x30, 0x01, 0x01], issuer: "forte-personnes", expires: expires, readAt: 5)
        #expect(cache.response(for: [0x30, 0x01, 0x01], now: testNow) == nil)
        // The answer for 0a read at 5 is still right: 0b's change does not touch it.
        #expect(cache.response(for: request, now: testNow) == result)
        cache.invalidate(issuer: "forte-personnes", serialHex: "0a", version: 7)
        #expect(cache.response(for: request, now: testNow) == nil)
    }

    @Test("an answer read at a version newer than any heard of drops every kept answer: notifications are behind")
    func aNewerReadDropsEverything() {
        let cache = OCSPResponseCache()
        cache.store(result, for: request, issuer: "forte-personnes", expires: expires, readAt: 0)
        #expect(cache.response(for: request, now: testNow) == result)
        cache.store(result, for: [0x30, 0x01, 0x01], issuer: "forte-personnes", expires: expires, readAt: 3)
        #expect(cache.response(for: request, now: testNow) == nil)
        #expect(cache.response(for: [0x30, 0x01, 0x01], now: testNow) == result)
        // The notices of versions 1 to 3 arriving late change nothing kept since.
        cache.invalidate(issuer: "forte-personnes", serialHex: "0c", version: 2)
        #expect(cache.response(for: [0x30, 0x01, 0x01], now: testNow) == result)
    }

    @Test("while suspended (notifications may be missed) nothing is kept or served; resumed, only answers read at the version re-read are kept")
    func suspendedCacheKeepsNothing() {
        let cache = OCSPResponseCache()
        cache.store(result, for: request, issuer: "forte-personnes", expires: expires, readAt: 0)
        cache.suspend()
        #expect(!cache.isLive)
        #expect(cache.response(for: request, now: testNow) == nil)
        cache.store(result, for: request, issuer: "forte-personnes", expires: expires, readAt: 0)
        #expect(cache.response(for: request, now: testNow) == nil)
        cache.resume(at: 9)
        #expect(cache.response(for: request, now: testNow) == nil)
        cache.store(result, for: request, issuer: "forte-personnes", expires: expires, readAt: 8)
        #expect(cache.response(for: request, now: testNow) == nil)
        cache.store(result, for: request, issuer: "forte-personnes", expires: expires, readAt: 9)
        #expect(cache.response(for: request, now: testNow) == result)
    }
}
