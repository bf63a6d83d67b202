/// A GEMM in plain Swift: blocked for the cache, a 4×16 register micro-kernel on packed panels, rows split
/// across ``Compute/threads``. Slower than OpenBLAS; it exists as an independent implementation to test
/// against and as the fallback where no BLAS is available.
public struct PortableGEMM: GEMMKernel {
    public init() {}

    static let kc = 256  // depth of a packed panel
    static let nc = 512  // columns of a packed B panel (multiple of 16)
    static let mc = 64  // rows of a packed A panel (multiple of 4)

    public func sgemm(
        order: MatrixOrder, transA: MatrixTranspose, transB: MatrixTranspose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        validate(order: order, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if order == .columnMajor {
            // Column-major C (m×n) is row-major Cᵀ (n×m): Cᵀ = op(B)ᵀ · op(A)ᵀ.
            rowMajor(transA: transB, transB: transA, m: n, n: m, k: k, alpha: alpha, a: b, lda: ldb, b: a, ldb: lda,
                     beta: beta, c: c, ldc: ldc)
        } else {
            rowMajor(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: c, ldc: ldc)
        }
    }

    private func rowMajor(
        transA: MatrixTranspose, transB: MatrixTranspose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0 && n > 0 else { return }
        // C ← beta·C first (beta = 0 overwrites, so NaNs already in C do not survive).
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
        guard k > 0 && alpha != 0 else { return }
        let kc = PortableGEMM.kc, nc = PortableGEMM.nc, mc = PortableGEMM.mc
        let bPanel = UnsafeMutablePointer<Float>.allocate(capacity: kc * nc)
        defer { bPanel.deallocate() }
        let sa = SendablePointer(a), sb = SendablePointer(bPanel), sc = SendablePointer(c)
        for j0 in stride(from: 0, to: n, by: nc) {
            let nb = min(nc, n - j0)
            let nbPadded = (nb + 15) / 16 * 16
            for p0 in stride(from: 0, to: k, by: kc) {
                let kb = min(kc, k - p0)
                // Pack op(B)[p0..<p0+kb, j0..<j0+nb] row-major with rows nbPadded long, zero-padded.
                for p in 0..<kb {
                    let dst = bPanel + p * nbPadded
                    for j in 0..<nb {
                        dst[j] = transB == .noTranspose ? b[(p0 + p) * ldb + j0 + j] : b[(j0 + j) * ldb + p0 + p]
                    }
                    for j in nb..<nbPadded { dst[j] = 0 }
                }
                let blocks = (m + mc - 1) / mc
                Compute.parallelFor(blocks) { range in
                    let aPanel = UnsafeMutablePointer<Float>.allocate(capacity: mc * kc)
                    defer { aPanel.deallocate() }
                    for blk in range {
                        let i0 = blk * mc
                        let mb = min(mc, m - i0)
                        // Pack alpha·op(A)[i0..<i0+mb, p0..<p0+kb] as rows of kb.
                        for i in 0..<mb {
                            for p in 0..<kb {
                                let v = transA == .noTranspose ? sa[(i0 + i) * lda + p0 + p] : sa[(p0 + p) * lda + i0 + i]
                                aPanel[i * kb + p] = alpha * v
                            }
                        }
                        PortableGEMM.macroKernel(
                            aPanel: aPanel, bPanel: sb.base, mb: mb, nb: nb, nbPadded: nbPadded, kb: kb,
                            c: sc.base + i0 * ldc + j0, ldc: ldc)
                    }
                }
            }
        }
    }

    /// C[mb×nb] += A_panel[mb×kb] · B_panel[kb×nbPadded] in 4×16 tiles.
    private static func macroKernel(
        aPanel: UnsafePointer<Float>, bPanel: UnsafePointer<Float>, mb: Int, nb: Int, nbPadded: Int, kb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        var i = 0
        while i < mb {
            let rows = min(4, mb - i)
            var j = 0
            while j < nb {
                var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()
                let a0 = aPanel + i * kb
                let a1 = rows > 1 ? a0 + kb : a0
                let a2 = rows > 2 ? a0 + 2 * kb : a0
                let a3 = rows > 3 ? a0 + 3 * kb : a0
                var bp = bPanel + j
                for p in 0..<kb {
                    let bv = UnsafeRawPointer(bp).loadUnaligned(as: SIMD16<Float>.self)
                    acc0.addProduct(SIMD16(repeating: a0[p]), bv)
                    acc1.addProduct(SIMD16(repeating: a1[p]), bv)
                    acc2.addProduct(SIMD16(repeating: a2[p]), bv)
                    acc3.addProduct(SIMD16(repeating: a3[p]), bv)
                    bp += nbPadded
                }
                let cols = min(16, nb - j)
                let accs = [acc0, acc1, acc2, acc3]
                for r in 0..<rows {
                    let row = c + (i + r) * ldc + j
                    for q in 0..<cols { row[q] += accs[r][q] }
                }
                j += 16
            }
            i += 4
        }
    }
}

extension SIMD16 where Scalar == Float {
    @inline(__always)
    fileprivate mutating func addProduct(_ a: SIMD16<Float>, _ b: SIMD16<Float>) {
        self = self + a * b
    }
}
