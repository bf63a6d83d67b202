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

@Suite struct GEMMTests {
    func run(_ kernel: any GEMMKernel, _ t: GEMMCase, seed: UInt64) -> (out: [Float], expected: [Double]) {
        let (rowsA, colsA) = t.transA ? (t.k, t.m) : (t.m, t.k)
        let (rowsB, colsB) = t.transB ? (t.n, t.k) : (t.k, t.n)
        let lda = colsA + t.pad, ldb = colsB + t.pad, ldc = t.n + t.pad
        var rng = RandomSource(seed: seed)
        let a = (0..<(rowsA * lda)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let b = (0..<(rowsB * ldb)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        var c = (0..<(t.m * ldc)).map { _ in Float(rng.nextUnit() * 2 - 1) }
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
    func blasAndPortableMatchTheReference(_ t: GEMMCase) {
        // Float32 accumulation of k products of magnitude ≤ 1: error grows like k·ε.
        let atol = 1e-6 * Double(t.k + 1) * 4, rtol = 1e-5
        for kernel in [BLASGEMM(), PortableGEMM()] as [any GEMMKernel] {
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
        for kernel in [BLASGEMM(), PortableGEMM()] as [any GEMMKernel] {
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
        for kernel in [BLASGEMM(), PortableGEMM()] as [any GEMMKernel] {
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
