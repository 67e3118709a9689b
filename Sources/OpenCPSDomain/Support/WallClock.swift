import Foundation

/// A source of the current time, injected so that tests control it.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The system clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}
    /// The current instant from the operating system.
    public func now() -> Date { Date() }
}

/// A clock that shows a fixed time until told otherwise; for tests and benchmarks.
public final class FixedWallClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    /// Creates a clock stopped at `date`.
    public init(_ date: Date) { current = date }

    /// The time the clock shows.
    public func now() -> Date { lock.withLock { current } }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }

    /// Sets the clock.
    public func set(_ date: Date) { lock.withLock { current = date } }

    /// Moves the clock forward to `date` if it shows an earlier time (never back).
    public func catchUp(to date: Date) { lock.withLock { current = max(current, date) } }
}
