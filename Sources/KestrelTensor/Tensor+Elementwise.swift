#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Elementwise arithmetic with numpy broadcasting, and unary maths. Large tensors are split across
/// `Compute.threads`; every element's arithmetic is the same whatever the split.
extension Tensor {
    /// Elements per thread below which elementwise work stays on one thread.
    static let elementwiseGrain = 1 << 15

    /// `f` applied to every element.
    public func map(_ f: @escaping @Sendable (Float) -> Float) -> Tensor {
        let n = count
        return withUnsafeBufferPointer { src in
            let s = SendablePointer(src.baseAddress!)
            return Tensor(shape: shape) { dst in
                let d = SendablePointer(dst.baseAddress!)
                Compute.parallelFor(n, grain: Tensor.elementwiseGrain) { r in
                    for i in r { d[i] = f(s[i]) }
                }
            }
        }
    }

    /// `f(a, b)` elementwise with broadcasting: the result has the broadcast shape of the two.
    public static func zip(_ a: Tensor, _ b: Tensor, _ f: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            let n = a.count
            return a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let sa = SendablePointer(pa.baseAddress!)
                    let sb = SendablePointer(pb.baseAddress!)
                    return Tensor(shape: a.shape) { dst in
                        let d = SendablePointer(dst.baseAddress!)
                        Compute.parallelFor(n, grain: elementwiseGrain) { r in
                            for i in r { d[i] = f(sa[i], sb[i]) }
                        }
                    }
                }
            }
        }
        if b.count == 1 {
            let v = b.storage.base[0]
            return a.map { f($0, v) }
        }
        if a.count == 1 {
            let v = a.storage.base[0]
            return b.map { f(v, $0) }
        }
        guard let out = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let sa = broadcastStrides(a.shape, to: out)
        let sb = broadcastStrides(b.shape, to: out)
        let rank = out.rank
        let inner = out.dims[rank - 1]
        let ia = sa[rank - 1], ib = sb[rank - 1]
        let outerCount = out.count / Swift.max(inner, 1)
        let outerDims = Array(out.dims.dropLast())
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let ra = SendablePointer(pa.baseAddress!)
                let rb = SendablePointer(pb.baseAddress!)
                return Tensor(shape: out) { dst in
                    let d = SendablePointer(dst.baseAddress!)
                    Compute.parallelFor(outerCount, grain: Swift.max(1, elementwiseGrain / Swift.max(inner, 1))) { r in
                        for o in r {
                            // Offsets of row o in a and b from its multi-index.
                            var rem = o
                            var oa = 0, ob = 0
                            for axis in stride(from: outerDims.count - 1, through: 0, by: -1) {
                                let idx = rem % outerDims[axis]
                                rem /= outerDims[axis]
                                oa += idx * sa[axis]
                                ob += idx * sb[axis]
                            }
                            let base = o * inner
                            for j in 0..<inner { d[base + j] = f(ra[oa + j * ia], rb[ob + j * ib]) }
                        }
                    }
                }
            }
        }
    }

    /// Strides of `shape` read as `target` under broadcasting: 0 where a dimension is stretched.
    static func broadcastStrides(_ shape: Shape, to target: Shape) -> [Int] {
        let own = shape.strides
        let pad = target.rank - shape.rank
        return (0..<target.rank).map { i in
            i < pad ? 0 : (shape.dims[i - pad] == 1 && target.dims[i] != 1 ? 0 : own[i - pad])
        }
    }

    // Equal shapes and tensor–scalar operations run a loop with the operator written in it (vectorised);
    // `zip` / `map` call their closure once per element, which only broadcasting needs.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        a.shape == b.shape ? elementwise(a, b) { x, y, d, r in for i in r { d[i] = x[i] + y[i] } } : zip(a, b, +)
    }
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        a.shape == b.shape ? elementwise(a, b) { x, y, d, r in for i in r { d[i] = x[i] - y[i] } } : zip(a, b, -)
    }
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        a.shape == b.shape ? elementwise(a, b) { x, y, d, r in for i in r { d[i] = x[i] * y[i] } } : zip(a, b, *)
    }
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        a.shape == b.shape ? elementwise(a, b) { x, y, d, r in for i in r { d[i] = x[i] / y[i] } } : zip(a, b, /)
    }
    public static func + (a: Tensor, s: Float) -> Tensor { elementwise(a) { x, d, r in for i in r { d[i] = x[i] + s } } }
    public static func - (a: Tensor, s: Float) -> Tensor { elementwise(a) { x, d, r in for i in r { d[i] = x[i] - s } } }
    public static func * (a: Tensor, s: Float) -> Tensor { elementwise(a) { x, d, r in for i in r { d[i] = x[i] * s } } }
    public static func / (a: Tensor, s: Float) -> Tensor { elementwise(a) { x, d, r in for i in r { d[i] = x[i] / s } } }
    public static func + (s: Float, a: Tensor) -> Tensor { a.map { s + $0 } }
    public static func - (s: Float, a: Tensor) -> Tensor { a.map { s - $0 } }
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { s * $0 } }
    public static func / (s: Float, a: Tensor) -> Tensor { a.map { s / $0 } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    /// In-place `self += other` (same shape; no broadcasting), the accumulation gradients need.
    public static func += (a: inout Tensor, b: Tensor) {
        precondition(a.shape == b.shape, "+= needs equal shapes, got \(a.shape) and \(b.shape)")
        let n = a.count
        b.withUnsafeBufferPointer { pb in
            let sb = SendablePointer(pb.baseAddress!)
            a.withUnsafeMutableBufferPointer { pa in
                let sa = SendablePointer(pa.baseAddress!)
                Compute.parallelFor(n, grain: elementwiseGrain) { r in
                    for i in r { sa[i] += sb[i] }
                }
            }
        }
    }

    /// In-place scaling.
    public static func *= (a: inout Tensor, s: Float) {
        let n = a.count
        a.withUnsafeMutableBufferPointer { pa in
            let sa = SendablePointer(pa.baseAddress!)
            Compute.parallelFor(n, grain: elementwiseGrain) { r in
                for i in r { sa[i] *= s }
            }
        }
    }

    public func exp() -> Tensor { map { expf($0) } }
    public func log() -> Tensor { map { logf($0) } }
    public func sqrt() -> Tensor { map { $0.squareRoot() } }
    public func abs() -> Tensor { map { Swift.abs($0) } }
    public func squared() -> Tensor { map { $0 * $0 } }
    public func pow(_ p: Float) -> Tensor { map { powf($0, p) } }
    public func tanh() -> Tensor { map { tanhf($0) } }
    public func sigmoid() -> Tensor { map { Tensor.sigmoid($0) } }
    public func relu() -> Tensor { map { $0 > 0 ? $0 : 0 } }
    public func clamped(min lo: Float, max hi: Float) -> Tensor { map { Swift.min(Swift.max($0, lo), hi) } }

    /// Numerically stable logistic function: never computes exp of a large positive number.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 {
            return 1 / (1 + expf(-x))
        }
        let e = expf(x)
        return e / (1 + e)
    }
}
