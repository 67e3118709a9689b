import Foundation

/// A progress bar on standard error: redrawn in place on a terminal, a line every 10 % otherwise.
struct ProgressBar {
    private let enabled: Bool
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let started = ContinuousClock.now
    private var lastTenth = -1
    private var drawn = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    mutating func update(_ progress: ImportProgress) {
        guard enabled else { return }
        let fraction = progress.totalBytes.map { $0 > 0 ? min(1, Double(progress.bytesRead) / Double($0)) : 1 }
        let seconds = max((ContinuousClock.now - started).seconds, 0.001)
        let rate = Int(Double(progress.rowsRead) / seconds)
        let percent = fraction.map { Int($0 * 100) }
        let text = "\(progress.rowsRead) rows, \(progress.rowsRejected) refused, \(rate) rows/s"
        if isTerminal {
            let width = 30
            let filled = Int((fraction ?? 0) * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            printErrorInline("\r\(bar) \(percent.map { "\($0)%" } ?? "") \(text)\u{1B}[K")
            drawn = true
        } else if let percent, percent / 10 > lastTenth {
            lastTenth = percent / 10
            printError("\(percent)% \(text)")
        }
    }

    mutating func finish() {
        if drawn { printErrorInline("\n") }
        drawn = false
    }

    private func printErrorInline(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
