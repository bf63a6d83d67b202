/// Building blocks for fast elementwise kernels in other modules: the caller's closure holds the loop, so the
/// compiler inlines the arithmetic at the call site; the helper only allocates and splits the work across
/// ``Compute/threads`` (each chunk is a disjoint range of element indices).
extension Tensor {
    /// A new tensor of `x`'s shape: `body(src, dst, range)` writes `dst[i]` for every i in `range`.
    public static func elementwise(
        _ x: Tensor,
        _ body: @Sendable (_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Void
    ) -> Tensor {
        let n = x.count
        return x.withUnsafeBufferPointer { px in
            let s = SendablePointer(px.baseAddress!)
            return Tensor(shape: x.shape) { out in
                let d = SendablePointer(out.baseAddress!)
                Compute.parallelFor(n, grain: elementwiseGrain) { r in body(s.base, d.base, r) }
            }
        }
    }

    /// A new tensor of the (equal) shape of `a` and `b`: `body(a, b, dst, range)` writes `dst[i]` for i in range.
    public static func elementwise(
        _ a: Tensor, _ b: Tensor,
        _ body: @Sendable (_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                           _ range: Range<Int>) -> Void
    ) -> Tensor {
        precondition(a.shape == b.shape, "elementwise needs equal shapes, got \(a.shape) and \(b.shape)")
        let n = a.count
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let sa = SendablePointer(pa.baseAddress!), sb = SendablePointer(pb.baseAddress!)
                return Tensor(shape: a.shape) { out in
                    let d = SendablePointer(out.baseAddress!)
                    Compute.parallelFor(n, grain: elementwiseGrain) { r in body(sa.base, sb.base, d.base, r) }
                }
            }
        }
    }

    /// A new tensor of shape `shape`, written plane by plane: `body(plane, dst)` fills output plane `plane`
    /// (`planeSize` elements at `dst`). Planes are distributed across threads.
    public static func byPlanes(
        _ shape: Shape, planes: Int, planeSize: Int,
        _ body: @Sendable (_ plane: Int, _ dst: UnsafeMutablePointer<Float>) -> Void
    ) -> Tensor {
        precondition(planes * planeSize == shape.count)
        return Tensor(shape: shape) { out in
            let d = SendablePointer(out.baseAddress!)
            Compute.parallelFor(planes, grain: Swift.max(1, 8192 / Swift.max(planeSize, 1))) { r in
                for p in r { body(p, d.base + p * planeSize) }
            }
        }
    }
}
