import Foundation

/// A value looked for once (the first caller that finds it, or finds there is none, settles
/// it), behind a lock.
final class FoundOnce<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `found` is only touched under `lock`.
    private let lock = NSLock()
    private var found: Value??

    /// What was found, nil when nobody has looked yet.
    var value: Value?? { lock.withLock { found } }

    /// Keeps `candidate` unless another caller's was kept first, and returns the one kept.
    func keepFirst(_ candidate: Value?) -> Value? {
        lock.withLock {
            if let earlier = found { return earlier }
            found = .some(candidate)
            return candidate
        }
    }
}
