// Hand-written on purpose: stands in for Foundation's `Date.ISO8601FormatStyle`, which stays the fallback
// outside the years 0000-9999 and the reference a test holds this writer to on 20,000 dates.
// Why: in a profile of issuance under load, building the stored record fell from 1.8 % to 0.6 % of the server's
// samples (2026-12-03, binary 72b2a2e against 397b7d0, a step that also carried 8465989 and 397b7d0's changes);
// server CPU per certificate 0.61 / 0.69 / 0.64 against 0.60 / 0.60 / 0.60 ms, the rate within the machine's spread.
// Benchmark: issuance-only loops, `bash Benchmarks/pki/run.sh --only issuance`, docs/benchmarks.md "How to
// reproduce"; the figures are in `git show 94469db:docs/benchmarks.md`, "Midday of 2026-12-03".

import Foundation
import OpenCPSDomain

/// Timestamps as stored: ISO 8601 in UTC with milliseconds, which sort as text.
public enum StoredTimestamp {
    private static let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// `2026-12-03T12:22:18.795Z`: what `Date.ISO8601FormatStyle` writes (milliseconds cut,
    /// not rounded, from the date's own seconds since 2001), written by hand for the years
    /// 0000 to 9999: issuance stores four of these per certificate, and the format style
    /// costs more than the rest of the record.
    public static func string(_ date: Date) -> String {
        let sinceReference = date.timeIntervalSinceReferenceDate
        let whole = sinceReference.rounded(.down)
        guard whole.isFinite, abs(whole) < 1e15 else { return date.formatted(format) }
        let milliseconds = min(999, Int((sinceReference - whole) * 1000))
        let (day, secondOfDay) = CivilDate.dayAndSecond(ofSecondsSince1970: Int(whole) + 978_307_200)
        guard (0...9999).contains(day.year) else { return date.formatted(format) }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func digits(_ value: Int, _ count: Int) {
                var value = value
                for position in stride(from: index + count - 1, through: index, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                index += count
            }
            func mark(_ character: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: character)
                index += 1
            }
            digits(day.year, 4); mark("-"); digits(day.month, 2); mark("-"); digits(day.day, 2)
            mark("T"); digits(secondOfDay / 3600, 2); mark(":"); digits(secondOfDay / 60 % 60, 2); mark(":")
            digits(secondOfDay % 60, 2); mark("."); digits(milliseconds, 3); mark("Z")
            return index
        }
    }

    public static func date(_ text: String) -> Date? {
        try? format.parse(text)
    }
}
