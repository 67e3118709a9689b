import Foundation
import OpenCPSDomain
import OpenCPSPersistence
import Testing

/// Stored timestamps are written by hand for speed: they must stay what Foundation's ISO 8601
/// format style writes, since stored values are compared and sorted as text.
@Suite("Stored timestamps")
struct StoredTimestampTests {
    private static let foundation = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    private func stored(_ date: Date) -> String {
        StoredCertificate(
            issuer: "i", serial: "01", profile: "authentication", subject: "CN=x", idNat: nil, cardSerial: nil,
            notBefore: date, notAfter: date, issuedAt: date, der: []).notBefore
    }

    @Test("known answers: milliseconds are cut, not rounded, before and after 1970")
    func knownAnswers() {
        let cases: [(TimeInterval, String)] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_764_764_538.795, "2025-12-03T12:22:18.795Z"),
            (1_764_764_538.9995, "2025-12-03T12:22:18.999Z"),
            (951_782_400, "2000-02-29T00:00:00.000Z"),
            (-1.5, "1969-12-31T23:59:58.500Z"),
            (-0.0004, "1969-12-31T23:59:59.999Z"),
            (253_402_300_799, "9999-12-31T23:59:59.000Z"),
        ]
        for (seconds, text) in cases {
            #expect(stored(Date(timeIntervalSince1970: seconds)) == text)
        }
    }

    @Test("it agrees with Foundation's ISO 8601 format style on 20,000 dates, at the edges of milliseconds too")
    func agreesWithFoundation() {
        var random = SplitMix64(seed: 11)
        let edges: [Double] = [0.9995, 0.0005, 0.999_999, 0.000_001, 0.123_999_9, 0.123, 0.5]
        for index in 0..<20_000 {
            let seconds: Double
            switch index % 3 {
            case 0: seconds = Double.random(in: -2e9...8e9, using: &random)
            case 1: seconds = Double(Int.random(in: -2_000_000_000...8_000_000_000, using: &random)) + Double(Int.random(in: 0...999, using: &random)) / 1000
            default: seconds = Double(Int.random(in: 0...2_000_000_000, using: &random)) + edges[index % edges.count]
            }
            let date = Date(timeIntervalSinceReferenceDate: seconds)
            #expect(stored(date) == date.formatted(Self.foundation), "\(seconds)")
        }
    }

    @Test("years outside 0000-9999 are left to Foundation")
    func outsideFourDigitYears() {
        let date = Date(timeIntervalSince1970: 253_402_300_800 + 86_400)
        #expect(stored(date) == date.formatted(Self.foundation))
    }
}
