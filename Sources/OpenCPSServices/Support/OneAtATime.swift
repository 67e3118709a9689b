/// Runs asynchronous operations one at a time, in the order they arrive.
///
/// A production run's batches, and every transaction on SQLite (``ServiceDatabase``), queue
/// here rather than on the database's write lock: a waiting operation is resumed the moment
/// the one before ends, where SQLite's busy handler would poll with sleeps.
actor OneAtATime {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `operation` once every operation that arrived before it has finished.
    func run<Result: Sendable>(_ operation: @Sendable () async throws -> Result) async throws -> Result {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await operation()
    }
}
