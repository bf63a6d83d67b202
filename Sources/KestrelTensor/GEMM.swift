import CBLAS
import Synchronization

/// Storage order of a matrix in a GEMM call, as CBLAS's `CBLAS_ORDER`.
public enum MatrixOrder: Sendable { case rowMajor, columnMajor }

/// Whether a GEMM operand is used as stored or transposed, as CBLAS's `CBLAS_TRANSPOSE`.
public enum MatrixTranspose: Sendable {
    case noTranspose, transpose
}

/// Single-precision general matrix multiply with BLAS's exact argument list:
/// `C ← alpha · op(A) · op(B) + beta · C`, where op(A) is M×K, op(B) is K×N and C is M×N, each stored with
/// the given leading dimension (the distance between consecutive rows in row-major order, columns in
/// column-major). When `beta` is 0, C is not read (NaNs in it do not propagate), as BLAS specifies.
///
/// Implementations are interchangeable and tested against each other: ``FastGEMM`` (Kestrel's packed
/// AVX-512 / AVX2 kernel, the default), ``BLASGEMM`` (OpenBLAS) and ``PortableGEMM`` (Swift).
/// ``Compute/gemm`` chooses the one every kernel uses.
public protocol GEMMKernel: Sendable {
    func sgemm(
        order: MatrixOrder, transA: MatrixTranspose, transB: MatrixTranspose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int)
}

extension GEMMKernel {
    /// Checks the leading dimensions as BLAS's xerbla would; a violation is a programming error.
    func validate(order: MatrixOrder, transA: MatrixTranspose, transB: MatrixTranspose, m: Int, n: Int, k: Int,
                  lda: Int, ldb: Int, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        let rowMajor = order == .rowMajor
        // Row-major: A is m×k (or k×m transposed) with rows lda apart; column-major swaps the roles.
        let aCols = (transA == .noTranspose) == rowMajor ? k : m
        let bCols = (transB == .noTranspose) == rowMajor ? n : k
        let cCols = rowMajor ? n : m
        precondition(lda >= max(1, aCols), "sgemm: lda \(lda) < \(aCols)")
        precondition(ldb >= max(1, bCols), "sgemm: ldb \(ldb) < \(bCols)")
        precondition(ldc >= max(1, cCols), "sgemm: ldc \(ldc) < \(cCols)")
    }
}

/// OpenBLAS's `cblas_sgemm`, on ``Compute/threads`` of OpenBLAS's own threads. (OpenBLAS's thread count is
/// process-wide: it is set before each call when it differs from the caller's setting.)
public struct BLASGEMM: GEMMKernel {
    public init() {}

    private static let blasThreads = Mutex<Int>(0)

    static func ensureThreads(_ n: Int) {
        blasThreads.withLock { current in
            if current != n {
                openblas_set_num_threads(Int32(n))
                current = n
            }
        }
    }

    public func sgemm(
        order: MatrixOrder, transA: MatrixTranspose, transB: MatrixTranspose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        validate(order: order, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if m == 0 || n == 0 { return }
        BLASGEMM.ensureThreads(Compute.threads)
        cblas_sgemm(
            order == .rowMajor ? CblasRowMajor : CblasColMajor,
            transA == .noTranspose ? CblasNoTrans : CblasTrans,
            transB == .noTranspose ? CblasNoTrans : CblasTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

extension Tensor {
    /// Matrix product of `[m, k]` and `[k, n]` → `[m, n]` (either operand optionally transposed) with the
    /// current ``Compute/gemm``.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul of \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "")")
        let gemm = Compute.gemm
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                Tensor(shape: [m, n]) { pc in
                    gemm.sgemm(
                        order: .rowMajor, transA: transposeA ? .transpose : .noTranspose,
                        transB: transposeB ? .transpose : .noTranspose, m: m, n: n, k: k, alpha: 1,
                        a: pa.baseAddress!, lda: Swift.max(1, a.shape[1]), b: pb.baseAddress!,
                        ldb: Swift.max(1, b.shape[1]), beta: 0, c: pc.baseAddress!, ldc: Swift.max(1, n))
                }
            }
        }
    }
}
