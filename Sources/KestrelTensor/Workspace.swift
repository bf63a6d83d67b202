import Synchronization

/// Reusable scratch buffers for kernels (im2col columns, gathered gradients). A kernel borrows a buffer for the
/// duration of a closure; buffers return to the pool afterwards, so steady-state training and inference do not
/// allocate column memory per call. Thread-safe: concurrent callers get different buffers.
public final class Workspace: Sendable {
    public static let shared = Workspace()

    /// A block of floats owned by the pool (only one borrower touches it at a time).
    private struct Block: @unchecked Sendable {
        let base: UnsafeMutablePointer<Float>
        let count: Int
    }

    private let free = Mutex<[Block]>([])
    /// Buffers kept for reuse; beyond this the smallest are freed.
    private let keep = 8

    public init() {}

    /// Calls `body` with at least `count` floats of uninitialised scratch memory.
    public func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let block = take(count)
        defer { give(block) }
        return try body(block.base)
    }

    private func take(_ count: Int) -> Block {
        let reused: Block? = free.withLock { list in
            // The smallest free block that is large enough.
            var best: Int? = nil
            for (i, b) in list.enumerated() where b.count >= count && (best == nil || b.count < list[best!].count) {
                best = i
            }
            return best.map { list.remove(at: $0) }
        }
        if let reused { return reused }
        let n = max(count, 16)
        return Block(base: UnsafeMutablePointer<Float>.allocate(capacity: n), count: n)
    }

    private func give(_ block: Block) {
        let keep = self.keep
        let evicted: [Block] = free.withLock { list in
            list.append(block)
            guard list.count > keep else { return [] }
            list.sort { $0.count > $1.count }
            let extra = Array(list[keep...])
            list.removeSubrange(keep...)
            return extra
        }
        for b in evicted { b.base.deallocate() }
    }

    deinit {
        free.withLock { list in
            for b in list { b.base.deallocate() }
            list.removeAll()
        }
    }
}
