import Foundation
@testable import OpenCPSApp
import OpenCPSHTTP
import Testing

/// The short form of `opencps bench fuzz` (issue 21): every parser the network or a file reaches
/// takes some thousands of generated inputs without a crash, and every malformed one gets a clear
/// error. The full run (a million inputs per parser) is the command; figures in docs/benchmarks.md.
@Suite("Parser fuzzing, short form")
struct ParserFuzzTests {
    /// Inputs per target here; the command runs a million.
    static let inputsPerTarget = 4_000

    @Test("every target gets clear errors only", arguments: ["json", "ocsp-der", "ocsp-get", "csr", "listener", "multipart", "extraction"])
    func clearErrorsOnly(_ name: String) throws {
        let target = try #require(try FuzzTarget.all().first { $0.name == name })
        let report = ParserFuzzer.run(target, count: Self.inputsPerTarget, seed: 2026)
        #expect(report.inputs == Self.inputsPerTarget)
        for unclear in report.unclear {
            Issue.record("\(name) #\(unclear.index): \(unclear.message) — input \(unclear.input.prefix(96).map { String(format: "%02x", $0) }.joined())")
        }
        // The generator must reach both sides: inputs the parser reads and inputs it refuses.
        #expect(report.accepted > 0, "no generated input was well-formed")
        #expect(report.refused > Self.inputsPerTarget / 10, "too few inputs were malformed: \(report.refusedByCode)")
    }

    @Test("every seed of every target is read as well-formed")
    func seedsAreWellFormed() throws {
        for target in try FuzzTarget.all() {
            for (index, seed) in target.seeds.enumerated() {
                #expect(target.probe(seed) == .accepted, "\(target.name) seed \(index)")
            }
        }
    }

    @Test("the same seed gives the same inputs")
    func deterministic() throws {
        let target = try #require(try FuzzTarget.all().first { $0.name == "json" })
        var first = InputMutator(seed: 7, seeds: target.seeds, dictionary: target.dictionary)
        var second = InputMutator(seed: 7, seeds: target.seeds, dictionary: target.dictionary)
        for _ in 0..<500 { #expect(first.next() == second.next()) }
    }

    @Test("known malformed inputs get their clear error")
    func knownMalformed() {
        // The body that once killed the server (issue 21): 400 KB of nesting.
        #expect(ParserProbe.flatJSON(Array(repeating: UInt8(ascii: "["), count: 400_000)) == .refused(status: 400, code: "request.malformed-body"))
        #expect(ParserProbe.flatJSON(Array(#"{"a":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 400_000)) == .refused(status: 400, code: "request.malformed-body"))
        // A request line that is not HTTP: the listener's pipeline answers 400.
        #expect(ParserProbe.listenerBytes(Array("NOT HTTP\r\n\r\n".utf8)) == .refused(status: 400, code: "http.400"))
        // A well-formed request to a path the bare handler does not serve is read (and answered 404).
        #expect(ParserProbe.listenerBytes(Array("GET /x HTTP/1.1\r\nHost: a\r\n\r\n".utf8)) == .accepted)
        // A multipart body without its closing boundary.
        if case .refused = ParserProbe.documentUpload(Array("--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nid".utf8), boundary: "X") {} else {
            Issue.record("a truncated multipart body was not refused with a clear error")
        }
    }
}
