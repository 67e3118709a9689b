import Foundation
import OpenCPSHTTP

/// Runs generated inputs through a parser and counts what became of them.
struct ParserFuzzer {
    /// What a run of one target gave.
    struct Report: Sendable {
        /// The target's name.
        var target: String
        /// Inputs run.
        var inputs = 0
        /// Inputs read as well-formed.
        var accepted = 0
        /// Inputs refused with a clear client error, by problem code.
        var refusedByCode: [String: Int] = [:]
        /// Inputs refused without a clear error: index in the run and what was said (a defect);
        /// the first few only.
        var unclear: [(index: Int, input: [UInt8], message: String)] = []
        /// How many inputs were refused without a clear error.
        var unclearCount = 0
        /// Wall-clock time of the run.
        var seconds = 0.0

        /// Inputs refused with a clear error.
        var refused: Int { refusedByCode.values.reduce(0, +) }
    }

    /// Runs `count` inputs from `seed` through `target`, keeping at most `keepUnclear` unclear ones.
    /// - Parameter progress: called every 100,000 inputs with the count so far (the seed and this
    ///   index replay a crash).
    static func run(_ target: FuzzTarget, count: Int, seed: UInt64, keepUnclear: Int = 20, progress: (Int) -> Void = { _ in }) -> Report {
        var mutator = InputMutator(seed: seed, seeds: target.seeds, dictionary: target.dictionary)
        var report = Report(target: target.name)
        let started = ContinuousClock.now
        for index in 0..<count {
            let input = mutator.next()
            switch target.probe(input) {
            case .accepted:
                report.accepted += 1
            case .refused(_, let code):
                report.refusedByCode[code, default: 0] += 1
            case .unclear(let message):
                report.unclearCount += 1
                if report.unclear.count < keepUnclear { report.unclear.append((index, input, message)) }
            }
            report.inputs += 1
            if (index + 1) % 100_000 == 0 { progress(index + 1) }
        }
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }
}
