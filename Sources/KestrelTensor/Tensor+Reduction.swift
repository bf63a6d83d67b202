/// Reductions. Sums over many elements add fixed-size chunks in a fixed order, so results do not depend on
/// the thread count.
extension Tensor {
    /// Elements per chunk of a full reduction; partial sums are combined in chunk order.
    static let reductionChunk = 1 << 14

    /// The sum of all elements (accumulated in Double per chunk).
    public func sum() -> Float { Float(sumDouble()) }

    /// The mean of all elements; 0 for an empty tensor.
    public func mean() -> Float { count == 0 ? 0 : Float(sumDouble() / Double(count)) }

    func sumDouble() -> Double {
        let n = count
        let chunks = (n + Tensor.reductionChunk - 1) / Tensor.reductionChunk
        guard chunks > 0 else { return 0 }
        var partial = [Double](repeating: 0, count: chunks)
        withUnsafeBufferPointer { src in
            let s = SendablePointer(src.baseAddress!)
            partial.withUnsafeMutableBufferPointer { pp in
                let p = SendablePointer(pp.baseAddress!)
                Compute.parallelFor(chunks) { r in
                    for c in r {
                        var acc = 0.0
                        let lo = c * Tensor.reductionChunk
                        for i in lo..<Swift.min(n, lo + Tensor.reductionChunk) { acc += Double(s[i]) }
                        p[c] = acc
                    }
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// The largest element.
    public func max() -> Float { withUnsafeBufferPointer { $0.max() ?? -.infinity } }
    /// The smallest element.
    public func min() -> Float { withUnsafeBufferPointer { $0.min() ?? .infinity } }

    /// Splits the shape around `axis` into (outer, axis length, inner) element counts.
    func split(at axis: Int) -> (outer: Int, length: Int, inner: Int) {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        let outer = shape.dims[..<axis].reduce(1, *)
        let inner = shape.dims[(axis + 1)...].reduce(1, *)
        return (outer, shape.dims[axis], inner)
    }

    /// Sum along `axis`; the axis is kept with length 1 when `keepingDimension`, else removed.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let (outer, length, inner) = split(at: axis)
        var dims = shape.dims
        if keepingDimension { dims[axis] = 1 } else { dims.remove(at: axis) }
        return withUnsafeBufferPointer { src in
            let s = SendablePointer(src.baseAddress!)
            return Tensor(shape: Shape(dims)) { dst in
                let d = SendablePointer(dst.baseAddress!)
                Compute.parallelFor(outer * inner, grain: 256) { r in
                    for oi in r {
                        let o = oi / inner, i = oi % inner
                        var acc: Float = 0
                        var p = o * length * inner + i
                        for _ in 0..<length {
                            acc += s[p]
                            p += inner
                        }
                        d[oi] = acc
                    }
                }
            }
        }
    }

    /// Mean along `axis`.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(alongAxis: axis, keepingDimension: keepingDimension) * (1 / Float(Swift.max(shape.dims[axis], 1)))
    }

    /// Maximum along `axis`.
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let (outer, length, inner) = split(at: axis)
        precondition(length > 0, "max along an empty axis")
        var dims = shape.dims
        if keepingDimension { dims[axis] = 1 } else { dims.remove(at: axis) }
        return withUnsafeBufferPointer { s in
            Tensor(shape: Shape(dims)) { d in
                for oi in 0..<(outer * inner) {
                    let o = oi / inner, i = oi % inner
                    var best = -Float.infinity
                    for k in 0..<length { best = Swift.max(best, s[(o * length + k) * inner + i]) }
                    d[oi] = best
                }
            }
        }
    }

    /// Index of the maximum along `axis` (the first one on ties), as Int, with the axis removed.
    public func argmax(alongAxis axis: Int) -> [Int] {
        let (outer, length, inner) = split(at: axis)
        return withUnsafeBufferPointer { s in
            (0..<(outer * inner)).map { oi in
                let o = oi / inner, i = oi % inner
                var best = -Float.infinity
                var arg = 0
                for k in 0..<length where s[(o * length + k) * inner + i] > best {
                    best = s[(o * length + k) * inner + i]
                    arg = k
                }
                return arg
            }
        }
    }

    /// Sums a broadcast result back down to `target` (the shape it was broadcast from): the gradient of
    /// broadcasting.
    public func summed(toShape target: Shape) -> Tensor {
        if shape == target { return self }
        var t = self
        // Leading dimensions that broadcasting added.
        while t.rank > target.rank { t = t.sum(alongAxis: 0) }
        for axis in 0..<target.rank where target.dims[axis] == 1 && t.shape.dims[axis] != 1 {
            t = t.sum(alongAxis: axis, keepingDimension: true)
        }
        precondition(t.shape == target, "cannot sum \(shape) to \(target)")
        return t
    }
}
