import CKestrelKernels

/// Kestrel's own SGEMM: cache-blocked and packed (the BLIS / GotoBLAS structure), with register micro-kernels
/// in C intrinsics for AVX-512 (8×32 tile) and AVX2 + FMA (6×16 tile), chosen at run time from the CPU's
/// features. On CPUs with neither (or not x86-64) it runs ``PortableGEMM``.
///
/// Threads: the rows or the columns of C (whichever has more register tiles) are split into ``Compute/threads``
/// contiguous ranges, one per thread; OpenBLAS is not involved, so its threads never compete with these.
///
/// Determinism: every element of C is the same chain of FMAs whatever the thread count, the range a thread
/// covers or the ISA (the depth is blocked as a function of k alone), so results are bit-identical across
/// thread counts and between the AVX-512 and AVX2 kernels. They differ from ``BLASGEMM`` and
/// ``PortableGEMM`` by rounding only.
public struct FastGEMM: GEMMKernel {
    /// An instruction set with a micro-kernel.
    public enum ISA: String, Sendable, CaseIterable {
        case avx512, avx2

        var c: KKISA { self == .avx512 ? KK_ISA_AVX512 : KK_ISA_AVX2 }
    }

    /// The micro-kernel this instance runs, or nil for the portable fallback.
    public let isa: ISA?

    /// The best instruction set this CPU supports (nil when neither AVX-512 nor AVX2 + FMA is available).
    public static let bestISA: ISA? = {
        switch kk_cpu_isa() {
        case KK_ISA_AVX512: return .avx512
        case KK_ISA_AVX2: return .avx2
        default: return nil
        }
    }()

    /// The best micro-kernel for this CPU (the portable fallback where there is none).
    public init() { isa = FastGEMM.bestISA }

    /// A specific micro-kernel; nil when this CPU cannot run it.
    public init?(isa: ISA) {
        guard let best = FastGEMM.bestISA, best == .avx512 || isa == .avx2 else { return nil }
        self.isa = isa
    }

    /// The register tile (rows × columns of C per micro-kernel call).
    public var registerTile: (rows: Int, columns: Int) {
        guard let isa else { return (4, 16) }
        var mr = 0, nr = 0
        kk_register_tile(isa.c, &mr, &nr)
        return (mr, nr)
    }

    public func sgemm(
        order: MatrixOrder, transA: MatrixTranspose, transB: MatrixTranspose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        validate(order: order, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        guard let isa else {
            PortableGEMM().sgemm(order: order, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a,
                                 lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if m == 0 || n == 0 { return }
        // Column-major C (m×n) is row-major Cᵀ (n×m) = op(B)ᵀ · op(A)ᵀ over the same memory.
        let rowMajor = order == .rowMajor
        let (rm, rn) = rowMajor ? (m, n) : (n, m)
        let (pa, tA, ldA, pb, tB, ldB) = rowMajor ? (a, transA, lda, b, transB, ldb) : (b, transB, ldb, a, transA, lda)
        // In the row-major problem, op(A)(i, p) = pa[i·lda + p] (or pa[p·lda + i] transposed); likewise B.
        var g = KKGemm()
        g.m = rm; g.n = rn; g.k = k
        g.alpha = alpha; g.beta = beta
        g.a = pa
        (g.rsa, g.csa) = tA == .noTranspose ? (ldA, 1) : (1, ldA)
        g.b.kind = KK_B_DENSE
        g.b.dense.p = pb
        (g.b.dense.rs, g.b.dense.cs) = tB == .noTranspose ? (ldB, 1) : (1, ldB)
        g.c = c
        g.ldc = ldc
        g.segment = rn
        g.segmentStride = 0
        FastGEMM.run(g, isa: isa)
    }

    /// Runs a problem over ``Compute/threads`` threads: rows or columns of C in contiguous, tile-aligned
    /// ranges, each range computed by one `kk_sgemm` call with its own scratch memory from ``Workspace``.
    static func run(_ g: KKGemm, isa: ISA) {
        var mr = 0, nr = 0
        kk_register_tile(isa.c, &mr, &nr)
        let rowTiles = (g.m + mr - 1) / mr, colTiles = (g.n + nr - 1) / nr
        // Each thread gets at least ~2 MFLOP so tiny products stay on the calling thread.
        let work = 2 * Double(g.m) * Double(g.n) * Double(g.k)
        let threads = max(1, min(Compute.threads, Int(work / 2e6)))
        let splitColumns = colTiles >= rowTiles || colTiles >= 2 * threads
        let tiles = splitColumns ? colTiles : rowTiles
        let chunks = max(1, min(threads, tiles))
        let scratch = Int(kk_sgemm_workspace(isa.c))
        let problem = ProblemBox(g)
        let span = splitColumns ? nr : mr
        Compute.parallelFor(chunks) { range in
            Workspace.shared.withBuffer(count: scratch) { work in
                for chunk in range {
                    // Tile-aligned bounds: chunk i gets tiles [tiles·i / chunks, tiles·(i+1) / chunks).
                    let lo = tiles * chunk / chunks * span
                    let hi = min(splitColumns ? problem.g.n : problem.g.m, tiles * (chunk + 1) / chunks * span)
                    withUnsafePointer(to: problem.g) { gp in
                        let status = splitColumns
                            ? kk_sgemm(gp, isa.c, 0, gp.pointee.m, lo, hi, work)
                            : kk_sgemm(gp, isa.c, lo, hi, 0, gp.pointee.n, work)
                        assert(status == 0, "kk_sgemm refused ISA \(isa)")
                    }
                }
            }
        }
    }
}

/// A GEMM problem description carried into the worker closures. Its pointers are only dereferenced by the
/// C kernels, each of which writes a disjoint range of C.
struct ProblemBox: @unchecked Sendable {
    let g: KKGemm
    init(_ g: KKGemm) { self.g = g }
}
