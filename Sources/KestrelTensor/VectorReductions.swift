/// Vectorised reductions over raw buffers, for kernels in other modules (batch normalisation's statistics and
/// gradients). A plain `for i { s += p[i] }` over Float is one dependent add per element (the compiler may not
/// reorder floating-point sums); these keep 32 partial sums in two 16-lane vectors, added in a fixed order, so
/// the result depends only on the data and its length. Products are a multiply and an add, not
/// `addingProduct`: without FMA in the build's baseline, that becomes a library call per lane. Pointers must
/// cover `count` floats.
public enum VectorReductions {
    /// Σ p[i].
    @inlinable
    public static func sum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 32 <= n {
            a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            a1 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            i += 32
        }
        var s = (a0 + a1).sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Σ (p[i] − center)².
    @inlinable
    public static func sumOfSquares(_ p: UnsafePointer<Float>, count n: Int, around center: Float) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        let raw = UnsafeRawPointer(p), c = SIMD16<Float>(repeating: center)
        var i = 0
        while i + 32 <= n {
            let d0 = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - c
            let d1 = raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self) - c
            a0 += d0 * d0
            a1 += d1 * d1
            i += 32
        }
        var s = (a0 + a1).sum()
        while i < n { let d = p[i] - center; s += d * d; i += 1 }
        return s
    }

    /// (Σ a[i], Σ a[i]·b[i]).
    @inlinable
    public static func sumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> (sum: Float, dot: Float) {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), d0 = SIMD16<Float>(), d1 = SIMD16<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 32 <= n {
            let x0 = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let x1 = ra.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            s0 += x0
            s1 += x1
            d0 += x0 * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            d1 += x1 * rb.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            i += 32
        }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < n { s += a[i]; d += a[i] * b[i]; i += 1 }
        return (s, d)
    }

    /// (Σ g′[i], Σ g′[i]·(x[i] − center)), where g′ = g, or with a `gate` (a, b), g′[i] = g[i] where
    /// x[i]·a + b > 0 and 0 elsewhere: batch norm's backward through the ReLU that followed it, with the ReLU's
    /// input recomputed from x.
    @inlinable
    public static func gatedSumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count n: Int,
                                              center: Float, gate: (a: Float, b: Float)?) -> (sum: Float, dot: Float) {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), d0 = SIMD16<Float>(), d1 = SIMD16<Float>()
        let rg = UnsafeRawPointer(g), rx = UnsafeRawPointer(x)
        let gated = gate != nil, a = gate?.a ?? 0, b = gate?.b ?? 0
        let va = SIMD16<Float>(repeating: a), vb = SIMD16<Float>(repeating: b), c = SIMD16<Float>(repeating: center)
        var i = 0
        while i + 32 <= n {
            var g0 = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            var g1 = rg.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            let x0 = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let x1 = rx.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            if gated {
                g0.replace(with: 0, where: .!(x0 * va + vb .> 0))
                g1.replace(with: 0, where: .!(x1 * va + vb .> 0))
            }
            s0 += g0
            s1 += g1
            d0 += g0 * (x0 - c)
            d1 += g1 * (x1 - c)
            i += 32
        }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < n {
            let gi = !gated || x[i] * a + b > 0 ? g[i] : 0
            s += gi
            d += gi * (x[i] - center)
            i += 1
        }
        return (s, d)
    }
}
