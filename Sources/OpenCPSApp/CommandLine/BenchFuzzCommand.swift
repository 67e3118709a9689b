import ArgumentParser
import Foundation

/// `opencps bench fuzz`: runs generated inputs through every parser the network or a file reaches
/// and checks that none crashes and every malformed input gets a clear error (issue 21).
struct BenchFuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Run N generated inputs through each parser (JSON, OCSP DER and GET, CSR, listeners' HTTP, multipart, extraction lines).",
        discussion: """
            Inputs are seeds mutated as libFuzzer's mutators do (bit flips, interesting bytes, insertions, deletions, \
            duplicated and spliced ranges, truncation, deep nesting), from a seed: the same --seed gives the same \
            inputs, so a crash is replayed from the seed and the index printed before it. A crash stops the process; \
            an input refused with a server error or an untyped error is counted as unclear and printed (hex), and \
            makes the command fail. Figures are in docs/benchmarks.md ("Fuzzing").
            """)

    @Option(name: .long, help: "Inputs per target.")
    var inputs = 1_000_000

    @Option(name: .long, help: "The seed of the generator.")
    var seed: UInt64 = 21

    @Option(name: .long, parsing: .upToNextOption, help: "Targets to run (default: all): json ocsp-der ocsp-get csr listener multipart extraction.")
    var target: [String] = []

    func run() async throws {
        let targets = try FuzzTarget.all()
        let unknown = target.filter { name in !targets.contains { $0.name == name } }
        guard unknown.isEmpty else {
            throw ValidationError("unknown target \(unknown.joined(separator: ", ")); targets: \(targets.map(\.name).joined(separator: ", "))")
        }
        var failed = false
        print("| target | inputs | accepted | refused (clear error) | unclear | inputs/s | most frequent refusals |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for fuzzTarget in targets where target.isEmpty || target.contains(fuzzTarget.name) {
            printError("\(fuzzTarget.name): \(fuzzTarget.summary), seed \(seed)")
            let report = ParserFuzzer.run(fuzzTarget, count: inputs, seed: seed) { done in
                printError("  \(fuzzTarget.name): \(done) inputs")
            }
            let top = report.refusedByCode.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("| \(report.target) | \(report.inputs) | \(report.accepted) | \(report.refused) | \(report.unclearCount) | \(Int(Double(report.inputs) / max(report.seconds, 1e-9))) | \(top) |")
            for unclear in report.unclear {
                failed = true
                printError("  unclear at index \(unclear.index): \(unclear.message)\n    input: \(unclear.input.prefix(256).map { String(format: "%02x", $0) }.joined())")
            }
        }
        if failed { throw ExitCode(1) }
    }
}
