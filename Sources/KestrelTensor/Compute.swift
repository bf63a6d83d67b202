import CBLAS
import CKestrelKernels
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Process-wide compute settings: how many threads kernels use and which GEMM implementation runs.
///
/// Determinism: for a fixed `threads` and seed every result is bit-identical run to run. Elementwise and
/// im2col work is split across threads without changing any arithmetic; reductions sum fixed-size chunks in a
/// fixed order, so they do not depend on `threads` either. With the default ``FastGEMM`` the GEMM does not
/// depend on `threads` either (each element of C is the same FMA chain however the work is split); with
/// ``BLASGEMM`` the summation order may change with the thread count (OpenBLAS's choice).
public enum Compute {
    /// For executables (a process-wide choice): on glibc, keep large freed blocks in the heap instead of
    /// returning them to the kernel. Training allocates and frees the same large activations every step; glibc
    /// serves blocks above its mmap threshold (at most 32 MiB) with fresh mappings, so each step pays page faults
    /// and kernel page zeroing (6% of an SSD training step). Returns whether it applied (false off glibc).
    @discardableResult
    public static func keepFreedMemory() -> Bool { kk_keep_freed_memory() != 0 }

    private struct Settings {
        var threads: Int
        var gemm: any GEMMKernel
    }

    private static let settings: Mutex<Settings> = {
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return Mutex(Settings(threads: cores, gemm: FastGEMM()))
    }()

    /// Per-task overrides set by ``withThreads(_:_:)`` and ``withGEMM(_:_:)``; they win over the process-wide
    /// values, so concurrent callers (tests, two models) can use different settings.
    @TaskLocal private static var threadOverride: Int?
    @TaskLocal private static var gemmOverride: (any GEMMKernel)?

    /// Threads used by Kestrel's kernels and by OpenBLAS (default: the online processors). At least 1.
    /// Setting it changes the process-wide default.
    public static var threads: Int {
        get { threadOverride ?? settings.withLock { $0.threads } }
        set {
            let n = max(1, newValue)
            settings.withLock { $0.threads = n }
        }
    }

    /// The GEMM every Kestrel kernel calls (default: ``FastGEMM``, Kestrel's packed AVX-512 / AVX2 kernel, which
    /// runs ``PortableGEMM`` on other CPUs; ``BLASGEMM`` is OpenBLAS). Setting it changes the process-wide
    /// default.
    public static var gemm: any GEMMKernel {
        get { gemmOverride ?? settings.withLock { $0.gemm } }
        set { settings.withLock { $0.gemm = newValue } }
    }

    /// Runs `body` with `n` threads for this task (and the kernels it calls), leaving the default alone.
    public static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        try $threadOverride.withValue(max(1, n), operation: body)
    }

    /// Runs `body` with another GEMM for this task, leaving the default alone.
    public static func withGEMM<R>(_ kernel: any GEMMKernel, _ body: () throws -> R) rethrows -> R {
        try $gemmOverride.withValue(kernel, operation: body)
    }

    /// Calls `body` on disjoint ranges covering `0..<count`, concurrently on up to `threads` threads. Ranges are
    /// at least `grain` long (so small jobs stay on the calling thread). `body` must only write what its range
    /// owns.
    ///
    /// `chunksPerThread` > 1 cuts the work into that many ranges per thread, which the threads claim as they
    /// finish: a thread slowed by another process then leaves its share to the others instead of keeping them
    /// waiting. The ranges depend only on `count`, `grain`, `chunksPerThread` and the thread count, never on
    /// which thread runs them.
    public static func parallelFor(_ count: Int, grain: Int = 1, chunksPerThread: Int = 1,
                                   _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let t = threads
        let chunks = min(t * max(1, chunksPerThread), max(1, count / max(grain, 1)))
        if chunks <= 1 || t <= 1 {
            body(0..<count)
            return
        }
        if WorkerPool.shared.run(count: count, chunks: chunks, threads: min(t, chunks), body) { return }
        // The pool is busy (or this is a nested call): the same ranges, dealt round-robin to at most t runners.
        let runners = min(t, chunks)
        DispatchQueue.concurrentPerform(iterations: runners) { runner in
            for i in stride(from: runner, to: chunks, by: runners) {
                let lo = count * i / chunks
                let hi = count * (i + 1) / chunks
                if lo < hi { body(lo..<hi) }
            }
        }
    }
}
