import CKestrelKernels
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The threads behind ``Compute/parallelFor(_:grain:_:)``: workers that, between jobs, spin for a while
/// (``spinNanoseconds``) before they sleep, as ONNX Runtime's pool does. Waking a sleeping thread costs
/// 30–45 µs on this kind of virtual machine (measured: two 17 µs halves through `concurrentPerform` took 45–63
/// µs, more than running them one after the other), and a model's forward pass is dozens of parallel ops of
/// 50–500 µs each.
///
/// One job at a time: a caller that finds the pool busy (another thread's job, or a `parallelFor` inside a
/// job's body) gets `false` and runs its job through `concurrentPerform` instead. Chunk boundaries are the
/// caller's, so results do not depend on which thread runs which chunk.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker polls for the next job before it sleeps.
    static let spinNanoseconds: UInt64 = 500_000

    /// One job: `chunks` ranges of `0..<count`, claimed through `next`; `pending` counts those not finished.
    /// `seats`: how many workers may join the caller (a pool started by a job with more threads has more
    /// workers than this job may use).
    private final class Job {
        let count: Int, chunks: Int
        let body: (Range<Int>) -> Void
        let next = Atomic<Int>(0)
        let pending: Atomic<Int>
        let seats: Atomic<Int>

        init(count: Int, chunks: Int, workers: Int, body: @escaping (Range<Int>) -> Void) {
            self.count = count
            self.chunks = chunks
            self.body = body
            pending = Atomic(chunks)
            seats = Atomic(workers)
        }

        /// Whether a worker may join (each seat is taken once).
        func takeSeat() -> Bool { seats.wrappingSubtract(1, ordering: .relaxed).oldValue > 0 }

        /// Claims and runs chunks until none is left.
        func work() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < chunks else { return }
                let lo = count * i / chunks, hi = count * (i + 1) / chunks
                if lo < hi { body(lo..<hi) }
                pending.wrappingSubtract(1, ordering: .releasing)
            }
        }
    }

    private let publishing = Mutex<Int>(0)  // the number of workers started
    private let job = Atomic<UnsafeMutableRawPointer?>(nil)  // the current Job, unretained (the caller owns it)
    private let generation = Atomic<Int>(0)  // bumped for every job, what idle workers watch
    private let inside = Atomic<Int>(0)  // workers between reading `job` and done with it
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)

    /// Runs `body` on `chunks` ranges with the caller and up to threads − 1 workers (threads ≤ chunks); false
    /// (nothing run) when the pool is busy.
    func run(count: Int, chunks: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) -> Bool {
        publishing.withLockIfAvailable { started -> Bool in
            while started < threads - 1 {
                startWorker()
                started += 1
            }
            withoutActuallyEscaping(body) { escapable in
                let current = Job(count: count, chunks: chunks, workers: threads - 1, body: escapable)
                job.store(Unmanaged.passUnretained(current).toOpaque(), ordering: .sequentiallyConsistent)
                generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
                let asleep = sleepers.load(ordering: .sequentiallyConsistent)
                for _ in 0..<min(asleep, threads - 1) { wake.signal() }
                current.work()
                while current.pending.load(ordering: .acquiring) > 0 { kk_cpu_relax() }
                // No worker may touch the job (or the caller's closure) once this returns: the job is kept alive
                // (workers hold it unretained) until none is between reading `job` and done with it.
                job.store(nil, ordering: .sequentiallyConsistent)
                while inside.load(ordering: .sequentiallyConsistent) > 0 { kk_cpu_relax() }
                withExtendedLifetime(current) {}
            }
            return true
        } ?? false
    }

    private func startWorker() {
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { _ in WorkerPool.shared.workerLoop() }, nil)
        precondition(status == 0, "WorkerPool: cannot start a thread (\(status))")
        pthread_detach(thread)
    }

    private func workerLoop() -> Never {
        var seen = generation.load(ordering: .sequentiallyConsistent)
        while true {
            var spunSince = DispatchTime.now().uptimeNanoseconds, spins = 0
            while generation.load(ordering: .sequentiallyConsistent) == seen {
                kk_cpu_relax()
                spins += 1
                guard spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - spunSince > WorkerPool.spinNanoseconds else {
                    continue
                }
                sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                spunSince = DispatchTime.now().uptimeNanoseconds
            }
            seen = generation.load(ordering: .sequentiallyConsistent)
            inside.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if let current = job.load(ordering: .sequentiallyConsistent) {
                let claimed = Unmanaged<Job>.fromOpaque(current).takeUnretainedValue()
                if claimed.takeSeat() { claimed.work() }
            }
            inside.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }
    }
}
