import Dispatch
import Foundation

/// Builds numbered items (batches) on background threads, a few ahead of the consumer, and hands them out in
/// order. Items must be a pure function of their number, so the result does not depend on the number of
/// workers and a sequence can be resumed from any item.
public final class Prefetcher<Item: Sendable>: @unchecked Sendable {
    public let count: Int
    private let build: @Sendable (Int) -> Result<Item, DataError>
    private let prefetch: Int
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var nextToBuild: Int
    private var nextToDeliver: Int
    private var ready: [Int: Result<Item, DataError>] = [:]
    private var cancelled = false

    /// Items `start ..< count`, built by `build` on `workers` threads, at most `prefetch` ahead.
    public init(count: Int, start: Int = 0, workers: Int = 1, prefetch: Int = 2,
                build: @escaping @Sendable (Int) -> Result<Item, DataError>) {
        precondition(workers > 0 && prefetch > 0)
        self.count = count
        self.build = build
        self.prefetch = prefetch
        nextToBuild = min(max(start, 0), count)
        nextToDeliver = nextToBuild
        for _ in 0..<workers {
            DispatchQueue.global(qos: .userInitiated).async { [self] in self.work() }
        }
    }

    deinit { cancel() }

    /// Stops the workers (items being built are finished and dropped).
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next item in order, waiting for it if needed; nil after the last one.
    public func next() throws(DataError) -> Item? {
        condition.lock()
        defer { condition.unlock() }
        guard nextToDeliver < count else { return nil }
        while ready[nextToDeliver] == nil && !cancelled { condition.wait() }
        guard let result = ready.removeValue(forKey: nextToDeliver) else { return nil }
        nextToDeliver += 1
        condition.broadcast()
        return try result.get()
    }

    private func work() {
        while true {
            condition.lock()
            while !cancelled && nextToBuild < count && nextToBuild - nextToDeliver >= prefetch { condition.wait() }
            if cancelled || nextToBuild >= count {
                condition.unlock()
                return
            }
            let k = nextToBuild
            nextToBuild += 1
            condition.unlock()
            let result = build(k)
            condition.lock()
            ready[k] = result
            condition.broadcast()
            condition.unlock()
        }
    }
}
