import ArgumentParser
import KestrelTensor

struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "SGEMM GFLOP/s and % of this CPU's measured FMA peak, square and convolution-shaped.",
        discussion: """
            Shapes as ../shared/anchors/sgemm_openblas.c (row-major, no transposes, alpha 1, beta 0): square
            256…2048 and the im2col GEMMs of ResNet's 3x3 convolutions (Cout × OH·OW × 9·C), plus the
            transposed products of the backward passes with --backward. The FP32 FMA peak is measured first in
            the same run (twelve independent FMA chains per thread, as ../shared/anchors/limits.c), per thread
            count, so "peak_percent" compares like with like. Compare with OpenBLAS by running
            tools/bench_gemm.sh.
            """)

    @Option(parsing: .upToNextOption, help: "Kernels: fast (the default Compute.gemm), fast-avx2, blas, portable.")
    var kernels: [String] = ["fast"]

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    @Flag(help: "Also time the backward-pass products (Wᵀ·dY and dY·colsᵀ) of the convolution shapes.")
    var backward = false

    @OptionGroup var options: BenchOptions

    func validate() throws {
        for k in kernels where BenchGEMM.kernel(named: k) == nil {
            throw ValidationError("unknown or unsupported kernel \(k); use fast, fast-avx2, blas, portable")
        }
        guard threads.allSatisfy({ $0 > 0 }) else { throw ValidationError("threads must be positive") }
    }

    static func kernel(named name: String) -> (any GEMMKernel)? {
        switch name {
        case "fast": return FastGEMM()
        case "fast-avx2": return FastGEMM(isa: .avx2)
        case "blas": return BLASGEMM()
        case "portable": return PortableGEMM()
        default: return nil
        }
    }

    struct Shape {
        var work: String, m: Int, n: Int, k: Int, transA = false, transB = false
    }

    var shapes: [Shape] {
        var s = [256, 512, 1024, 2048].map { Shape(work: "sgemm square", m: $0, n: $0, k: $0) }
        let conv = [(64, 56), (128, 28), (256, 14), (512, 7)]
        s += conv.map { Shape(work: "sgemm conv-im2col", m: $0.0, n: $0.1 * $0.1, k: 9 * $0.0) }
        if backward {
            s += conv.map { Shape(work: "sgemm conv-backward-data", m: 9 * $0.0, n: $0.1 * $0.1, k: $0.0, transA: true) }
            s += conv.map { Shape(work: "sgemm conv-backward-weight", m: $0.0, n: 9 * $0.0, k: $0.1 * $0.1, transB: true) }
        }
        return s
    }

    func run() throws {
        for t in threads {
            let peak = measurePeak(threads: t)
            for name in kernels {
                let kernel = BenchGEMM.kernel(named: name)!
                try Compute.withThreads(t) {
                    for s in shapes { try measureShape(s, kernel: kernel, name: name, threads: t, peak: peak) }
                }
            }
        }
    }

    /// FP32 FMA peak of `threads` cores in GFLOP/s, with the widest ISA this CPU has (0 when neither).
    func measurePeak(threads t: Int) -> Double {
        guard let isa = FastGEMM.bestISA else { return 0 }
        let iterations = 50_000_000
        let (seconds, _) = options.guarded {
            measure(repeats: options.repeats, minTime: 0) {
                Compute.withThreads(t) {
                    Compute.parallelFor(t) { r in for _ in r { _ = FastGEMM.fmaPeakProbe(isa: isa, iterations: iterations) } }
                }
            }
        }
        let flops = FastGEMM.fmaPeakProbe(isa: isa, iterations: 1) * Double(iterations) * Double(t)
        let rates = seconds.map { flops / $0 / 1e9 }
        let rate = median(rates)
        if options.output.json {
            Console.out(benchRecord(suite: "limits", work: "fp32 FMA peak, \(isa == .avx512 ? "AVX-512" : "AVX2") (12 chains)",
                                    size: "\(Double(iterations) * 12 / 1e9)e9 FMAs/thread", threads: t, values: rates,
                                    unit: "GFLOP/s").text)
        } else {
            Console.out("FMA peak (\(isa.rawValue)), \(t) thread\(t > 1 ? "s" : ""): \(fixed(rate, 1)) GFLOP/s")
        }
        return rate
    }

    func measureShape(_ s: Shape, kernel: any GEMMKernel, name: String, threads t: Int, peak: Double) throws {
        var rng = RandomSource(seed: 3)
        let a = Tensor.uniform([s.m * s.k], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform([s.k * s.n], low: -1, high: 1, using: &rng)
        var c = Tensor.zeros([s.m * s.n])
        let flops = 2 * Double(s.m) * Double(s.n) * Double(s.k)
        let (seconds, guardInfo) = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    options.guarded {
                        measure(repeats: options.repeats, minTime: options.minTime) {
                            kernel.sgemm(order: .rowMajor, transA: s.transA ? .transpose : .noTranspose,
                                         transB: s.transB ? .transpose : .noTranspose, m: s.m, n: s.n, k: s.k,
                                         alpha: 1, a: pa.baseAddress!, lda: s.transA ? s.m : s.k, b: pb.baseAddress!,
                                         ldb: s.transB ? s.k : s.n, beta: 0, c: pc.baseAddress!, ldc: s.n)
                        }
                    }
                }
            }
        }
        let rates = seconds.map { flops / $0 / 1e9 }
        let rate = median(rates)
        let percent = peak > 0 ? 100 * rate / peak : 0
        let size = "M=\(s.m) N=\(s.n) K=\(s.k)" + (s.transA ? " Aᵀ" : "") + (s.transB ? " Bᵀ" : "")
        if options.output.json {
            var record = benchRecord(
                suite: "gemm", work: s.work, size: size, threads: t, values: rates, unit: "GFLOP/s",
                extra: [("kernel", .string(name)), ("isa", .string(isaName(kernel))),
                        ("ms", .double(round6(median(seconds) * 1e3))), ("peak_gflops", .double(round6(peak)))] + guardInfo)
            if case .object(var pairs) = record {
                if name != "fast" { pairs[1] = ("tool", .string("kestrel-\(name)")) }
                pairs.insert(contentsOf: [("gflops", .double(round6(rate))), ("peak_percent", .double(round6(percent)))],
                             at: 0)
                record = .object(pairs)
            }
            Console.out(record.text)
        } else {
            Console.out("\(name) \(s.work) \(size) threads \(t): \(fixed(rate, 1)) GFLOP/s (\(fixed(percent, 0))% of peak)")
        }
    }

    func isaName(_ kernel: any GEMMKernel) -> String {
        if let fast = kernel as? FastGEMM { return fast.isa?.rawValue ?? "portable" }
        return kernel is BLASGEMM ? "openblas" : "portable"
    }
}
