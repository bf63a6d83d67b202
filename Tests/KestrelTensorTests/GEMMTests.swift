import KestrelTensor
import Testing
import _KestrelTestSupport

/// One GEMM case: sizes, transposes, scalars and padded leading dimensions.
struct GEMMCase: Sendable, CustomTestStringConvertible {
    var m: Int, n: Int, k: Int
    var transA: Bool, transB: Bool
    var alpha: Float, beta: Float
    var pad: Int  // extra elements per row beyond the extent (ld > extent)
    var testDescription: String { "m\(m) n\(n) k\(k) \(transA ? "T" : "N")\(transB ? "T" : "N") α\(alpha) β\(beta) pad\(pad)" }

    static let all: [GEMMCase] = {
        var cases: [GEMMCase] = []
        let sizes: [(Int, Int, Int)] = [(1, 1, 1), (1, 7, 3), (5, 1, 9), (3, 4, 1), (13, 17, 19), (4, 16, 8), (16, 16, 16),
                                        (31, 37, 41), (64, 33, 257), (67, 513, 5), (2, 600, 300)]
        for (m, n, k) in sizes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                cases.append(GEMMCase(m: m, n: n, k: k, transA: ta, transB: tb, alpha: 1, beta: 0, pad: 0))
            }
            cases.append(GEMMCase(m: m, n: n, k: k, transA: false, transB: true, alpha: -0.5, beta: 2, pad: 3))
            cases.append(GEMMCase(m: m, n: n, k: k, transA: true, transB: false, alpha: 1.5, beta: 1, pad: 1))
        }
        return cases
    }()
}

/// Every GEMM this CPU can run: OpenBLAS, the portable Swift kernel, and FastGEMM with each micro-kernel.
let allKernels: [any GEMMKernel] = [BLASGEMM(), PortableGEMM()] + fastKernels
let fastKernels: [any GEMMKernel] = {
    let isas = FastGEMM.ISA.allCases.compactMap { FastGEMM(isa: $0) }
    return isas.isEmpty ? [FastGEMM()] : isas
}()

@Suite struct GEMMTests {
    func run(_ kernel: any GEMMKernel, _ t: GEMMCase, seed: UInt64) -> (out: [Float], expected: [Double]) {
        let (rowsA, colsA) = t.transA ? (t.k, t.m) : (t.m, t.k)
        let (rowsB, colsB) = t.transB ? (t.n, t.k) : (t.k, t.n)
        let lda = colsA + t.pad, ldb = colsB + t.pad, ldc = t.n + t.pad
        var rng = RandomSource(seed: seed)
        let a = (0..<(rowsA * lda)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<(rowsB * ldb)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        // beta = 0 must not read C: fill it with NaN then, so a kernel that reads it fails.
        // (The padding beyond n keeps finite values, which every kernel must leave alone.)
        var c = (0..<(t.m * ldc)).map { i in t.beta == 0 && i % ldc < t.n ? Float.nan : Float(rng.nextUnit() * 2 - 1) }
        let expected = Ref.gemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: Double(t.alpha),
                                a: a, lda: lda, b: b, ldb: ldb, beta: Double(t.beta), c: c, ldc: ldc)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    kernel.sgemm(order: .rowMajor, transA: t.transA ? .transpose : .noTranspose,
                                 transB: t.transB ? .transpose : .noTranspose, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                                 a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: t.beta,
                                 c: pc.baseAddress!, ldc: ldc)
                }
            }
        }
        return (c, expected)
    }

    @Test(arguments: GEMMCase.all)
    func everyKernelMatchesTheReference(_ t: GEMMCase) {
        // Float32 accumulation of k products of magnitude ≤ 1: error grows like k·ε.
        let atol = 1e-6 * Double(t.k + 1) * 4, rtol = 1e-5
        for kernel in allKernels {
            let (out, expected) = run(kernel, t, seed: UInt64(t.m * 1000 + t.n * 10 + t.k))
            let check = closeness(out, expected, atol: atol, rtol: rtol)
            #expect(check.ok, "\(type(of: kernel)) \(t.testDescription): \(check.message)")
        }
    }

    @Test func portableEqualsBlasOnLargeShapesAcrossThreads() {
        let t = GEMMCase(m: 130, n: 1100, k: 600, transA: false, transB: false, alpha: 1, beta: 0, pad: 0)
        for threads in [1, 2] {
            Compute.withThreads(threads) {
                let (p, expected) = run(PortableGEMM(), t, seed: 7)
                let (b, _) = run(BLASGEMM(), t, seed: 7)
                #expect(closeness(p, expected, atol: 1e-3, rtol: 1e-5).ok)
                #expect(closeness(b, p.map(Double.init), atol: 1e-3, rtol: 1e-5).ok)
            }
        }
    }

    @Test func columnMajorIsTheTransposedProblem() {
        // Column-major C = A·B equals row-major Cᵀ = Bᵀ·Aᵀ over the same memory.
        let (m, n, k) = (5, 3, 4)
        let a = (0..<(m * k)).map { Float($0) * 0.25 }  // column-major m×k, lda = m
        let b = (0..<(k * n)).map { Float($0) - 3 }  // column-major k×n, ldb = k
        for kernel in allKernels {
            var c = [Float](repeating: 0, count: m * n)
            kernel.sgemm(order: .columnMajor, transA: .noTranspose, transB: .noTranspose, m: m, n: n, k: k, alpha: 1,
                         a: a, lda: m, b: b, ldb: k, beta: 0, c: &c, ldc: m)
            for i in 0..<m {
                for j in 0..<n {
                    var acc: Float = 0
                    for p in 0..<k { acc += a[p * m + i] * b[j * k + p] }
                    #expect(c[j * m + i] == acc, "\(type(of: kernel)) (\(i), \(j))")
                }
            }
        }
    }

    @Test func betaZeroIgnoresNaNInC() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [1, 0, 0, 1]
        for kernel in allKernels {
            var c: [Float] = [.nan, .nan, .nan, .nan]
            kernel.sgemm(order: .rowMajor, transA: .noTranspose, transB: .noTranspose, m: 2, n: 2, k: 2, alpha: 1,
                         a: a, lda: 2, b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
            #expect(c == [1, 2, 3, 4])
            var d: [Float] = [.nan, .nan, .nan, .nan]
            kernel.sgemm(order: .rowMajor, transA: .noTranspose, transB: .noTranspose, m: 2, n: 2, k: 0, alpha: 1,
                         a: a, lda: 2, b: b, ldb: 2, beta: 0, c: &d, ldc: 2)
            #expect(d == [0, 0, 0, 0])  // k = 0: C = beta·C = 0
        }
    }

    @Test func matmulUsesTheSelectedKernel() {
        let a = Tensor.random([7, 5], seed: 1), b = Tensor.random([5, 3], seed: 2)
        let viaBlas = Compute.withGEMM(BLASGEMM()) { Tensor.matmul(a, b) }
        let viaPortable = Compute.withGEMM(PortableGEMM()) { Tensor.matmul(a, b) }
        #expect(closeness(viaBlas.scalars, viaPortable.scalars.map(Double.init), atol: 1e-6, rtol: 1e-6).ok)
        let expected = Ref.gemm(transA: true, transB: false, m: 5, n: 5, k: 7, alpha: 1, a: a.scalars, lda: 5,
                                b: a.scalars, ldb: 5, beta: 0, c: [Float](repeating: 0, count: 25), ldc: 5)
        #expect(closeness(Tensor.matmul(a, a, transposeA: true).scalars, expected, atol: 1e-6, rtol: 1e-6).ok)
    }
}

/// FastGEMM on random problems across its blocking boundaries (register tile, MC rows, KC depth, NC columns),
/// and its determinism promises.
@Suite struct FastGEMMTests {
    /// Random cases: sizes from a list of primes, tile multiples ± 1 and blocking boundaries; every transpose;
    /// alpha/beta including beta = 0 over NaN; padded leading dimensions.
    static let randomCases: [GEMMCase] = {
        var rng = RandomSource(seed: 2026)
        let ms = [1, 2, 7, 8, 9, 13, 31, 47, 63, 64, 65, 97, 130]
        let ns = [1, 3, 16, 17, 31, 32, 33, 61, 97, 200, 1537]
        let ks = [1, 2, 5, 17, 64, 255, 511, 513, 1031]
        let scalars: [(Float, Float)] = [(1, 0), (-0.5, 2), (1.5, 1), (2, -1), (0.25, 0)]
        return (0..<36).map { i in
            var t = GEMMCase(m: ms[Int(rng.next() % UInt64(ms.count))], n: ns[Int(rng.next() % UInt64(ns.count))],
                             k: ks[Int(rng.next() % UInt64(ks.count))], transA: i % 2 == 1, transB: i / 2 % 2 == 1,
                             alpha: 1, beta: 0, pad: Int(rng.next() % 3))
            (t.alpha, t.beta) = scalars[i % scalars.count]
            // Keep the Double reference quick: huge products lose their largest dimension.
            if t.m * t.n * t.k > 30_000_000 { t.k = 255 }
            return t
        }
    }()

    @Test(arguments: randomCases)
    func matchesTheReferenceAndTheOtherKernels(_ t: GEMMCase) {
        let atol = 1e-6 * Double(t.k + 1) * 4, rtol = 1e-5
        let seed = UInt64(t.m * 7919 + t.n * 31 + t.k)
        let (portable, _) = GEMMTests().run(PortableGEMM(), t, seed: seed)
        let (blas, _) = GEMMTests().run(BLASGEMM(), t, seed: seed)
        for kernel in fastKernels {
            let (out, expected) = GEMMTests().run(kernel, t, seed: seed)
            let name = "\(kernel) \(t.testDescription)"
            let vsRef = closeness(out, expected, atol: atol, rtol: rtol)
            #expect(vsRef.ok, "\(name) vs Double reference: \(vsRef.message)")
            // Against the other Float32 kernels: both sides round, so twice the tolerance.
            let vsPortable = closeness(out, portable.map(Double.init), atol: 2 * atol, rtol: 2 * rtol)
            #expect(vsPortable.ok, "\(name) vs PortableGEMM: \(vsPortable.message)")
            let vsBlas = closeness(out, blas.map(Double.init), atol: 2 * atol, rtol: 2 * rtol)
            #expect(vsBlas.ok, "\(name) vs BLASGEMM: \(vsBlas.message)")
        }
    }

    @Test func columnMajorMatchesTheReference() {
        // Column-major C = op(A)·op(B) is row-major Cᵀ; compare through the row-major reference of the transpose.
        let (m, n, k, lda, ldb, ldc) = (37, 45, 70, 39, 72, 40)  // A m×k (lda ≥ m), B k×n (ldb ≥ k), C (ldc ≥ m)
        var rng = RandomSource(seed: 5)
        let a = (0..<(lda * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<(ldb * n)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let c0 = (0..<(ldc * n)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        // Row-major view: Cᵀ (n×m, ld ldc) = Bᵀ (n×k: B stored column-major is Bᵀ row-major, ld ldb) · Aᵀ.
        let expected = Ref.gemm(transA: false, transB: false, m: n, n: m, k: k, alpha: 0.5, a: b, lda: ldb, b: a,
                                ldb: lda, beta: 2, c: c0, ldc: ldc)
        for kernel in fastKernels {
            var c = c0
            kernel.sgemm(order: .columnMajor, transA: .noTranspose, transB: .noTranspose, m: m, n: n, k: k,
                         alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &c, ldc: ldc)
            let check = closeness(c, expected, atol: 1e-4, rtol: 1e-5)
            #expect(check.ok, "\(kernel): \(check.message)")
        }
    }

    @Test func bitIdenticalAcrossThreadCountsAndMicroKernels() {
        // Shapes that split by columns (wide) and by rows (tall), with several depth blocks.
        for t in [GEMMCase(m: 70, n: 1100, k: 700, transA: false, transB: true, alpha: 1, beta: 0.5, pad: 1),
                  GEMMCase(m: 515, n: 40, k: 1030, transA: true, transB: false, alpha: -1, beta: 0, pad: 0)] {
            var outputs: [[Float]] = []
            for kernel in fastKernels {
                for threads in [1, 2, 3] {
                    outputs.append(Compute.withThreads(threads) { GEMMTests().run(kernel, t, seed: 11).out })
                }
            }
            for (i, o) in outputs.enumerated() {
                let same = o == outputs[0]  // (not inside #expect, which would print both arrays)
                #expect(same, "\(t.testDescription): run \(i) differs from run 0")
            }
        }
    }

    @Test func isTheDefaultAndReportsItsMicroKernel() {
        #expect(Compute.gemm is FastGEMM)
        let fast = FastGEMM()
        #expect(fast.isa == FastGEMM.bestISA)
        if let isa = fast.isa {
            let tile = fast.registerTile
            #expect(tile.rows == (isa == .avx512 ? 8 : 6) && tile.columns == (isa == .avx512 ? 32 : 16))
        }
    }
}
