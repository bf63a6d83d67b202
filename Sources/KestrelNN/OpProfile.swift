import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a training step's time goes, op by op: while profiling is on, every recorded op's forward and every
/// backward closure is timed and summed by op name (`"conv2d"`, `"relu"`, …).
///
/// Forward time is the wall time from the previous recorded op to this one, so it includes any glue between
/// ops (reshapes, Swift code of the model) and is exact only when ops run back to back; backward time is the
/// backward closure itself, plus `"grad accumulate"` for summing the gradients of variables used twice. Off by
/// default; when off, the cost is one relaxed atomic load per op. Meant for one thread driving the graph.
public enum OpProfile {
    /// Totals for one op name.
    public struct Entry: Sendable {
        public var name: String
        public var forwardSeconds: Double
        public var backwardSeconds: Double
        /// Recorded ops of this name (forward calls).
        public var calls: Int
        public var total: Double { forwardSeconds + backwardSeconds }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var lastMark: Double = 0
    }

    private static let enabled = Atomic<Bool>(false)
    private static let state = Mutex(State())

    /// Starts (or restarts) profiling, clearing the totals.
    public static func start() {
        state.withLock { $0 = State(entries: [:], lastMark: now()) }
        enabled.store(true, ordering: .relaxed)
    }

    /// Stops profiling and returns the totals, most expensive first.
    @discardableResult
    public static func stop() -> [Entry] {
        enabled.store(false, ordering: .relaxed)
        return state.withLock { $0.entries.values.sorted { $0.total > $1.total } }
    }

    /// Marks the start of a forward pass (time before it is not charged to its first op).
    public static func mark() {
        guard isOn else { return }
        state.withLock { $0.lastMark = now() }
    }

    static var isOn: Bool { enabled.load(ordering: .relaxed) }

    /// Charges the time since the previous op to `name`'s forward.
    static func forward(_ name: String) {
        let t = now()
        state.withLock { s in
            s.entries[name, default: Entry(name: name, forwardSeconds: 0, backwardSeconds: 0, calls: 0)]
                .forwardSeconds += t - s.lastMark
            s.entries[name]!.calls += 1
            s.lastMark = t
        }
    }

    /// Times `body` as part of `name`'s backward.
    static func backward<R>(_ name: String, _ body: () -> R) -> R {
        guard isOn else { return body() }
        let t0 = now()
        let r = body()
        let dt = now() - t0
        state.withLock { s in
            s.entries[name, default: Entry(name: name, forwardSeconds: 0, backwardSeconds: 0, calls: 0)]
                .backwardSeconds += dt
            s.lastMark = now()
        }
        return r
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
