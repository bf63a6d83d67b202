#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reordering, joining and cutting tensors. Every result is a new contiguous tensor.
extension Tensor {
    /// Axes reordered: result dimension i is input dimension `axes[i]` (numpy's `transpose(axes)`).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "\(axes) is not a permutation of 0..<\(rank)")
        if axes == Array(0..<rank) { return self }
        let outDims = axes.map { shape.dims[$0] }
        let inStrides = shape.strides
        let strides = axes.map { inStrides[$0] }
        let out = Shape(outDims)
        let inner = outDims.last ?? 1
        let innerStride = strides.last ?? 1
        let outer = out.count / Swift.max(inner, 1)
        let outerDims = Array(outDims.dropLast())
        return withUnsafeBufferPointer { src in
            let s = SendablePointer(src.baseAddress!)
            return Tensor(shape: out) { dst in
                let d = SendablePointer(dst.baseAddress!)
                Compute.parallelFor(outer, grain: Swift.max(1, 4096 / Swift.max(inner, 1))) { r in
                    for o in r {
                        var rem = o
                        var offset = 0
                        for axis in stride(from: outerDims.count - 1, through: 0, by: -1) {
                            offset += (rem % outerDims[axis]) * strides[axis]
                            rem /= outerDims[axis]
                        }
                        for j in 0..<inner { d[o * inner + j] = s[offset + j * innerStride] }
                    }
                }
            }
        }
    }

    /// The transpose of a matrix `[r, c]` → `[c, r]`.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, shape is \(shape)")
        return permuted([1, 0])
    }

    /// Tensors joined along `axis`; all other dimensions must agree.
    public static func concatenated(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "nothing to concatenate")
        let first = tensors[0].shape
        for t in tensors {
            precondition(t.rank == first.rank, "concatenating ranks \(first.rank) and \(t.rank)")
            for i in 0..<first.rank where i != axis {
                precondition(t.shape.dims[i] == first.dims[i], "concatenating \(first) and \(t.shape) along \(axis)")
            }
        }
        var dims = first.dims
        dims[axis] = tensors.reduce(0) { $0 + $1.shape.dims[axis] }
        let outer = first.dims[..<axis].reduce(1, *)
        let inner = first.dims[(axis + 1)...].reduce(1, *)
        return Tensor(shape: Shape(dims)) { dst in
            var offset = 0
            let rowOut = dims[axis] * inner
            for t in tensors {
                let rowIn = t.shape.dims[axis] * inner
                t.withUnsafeBufferPointer { src in
                    for o in 0..<outer {
                        memcpy(dst.baseAddress! + o * rowOut + offset, src.baseAddress! + o * rowIn,
                               rowIn * MemoryLayout<Float>.stride)
                    }
                }
                offset += rowIn
            }
        }
    }

    /// The elements with index in `range` along `axis` (the others whole).
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape.dims[axis], "slice \(range) of \(shape)")
        var dims = shape.dims
        dims[axis] = range.count
        let outer = shape.dims[..<axis].reduce(1, *)
        let inner = shape.dims[(axis + 1)...].reduce(1, *)
        let rowIn = shape.dims[axis] * inner
        let rowOut = range.count * inner
        return withUnsafeBufferPointer { src in
            Tensor(shape: Shape(dims)) { dst in
                for o in 0..<outer {
                    memcpy(dst.baseAddress! + o * rowOut, src.baseAddress! + o * rowIn + range.lowerBound * inner,
                           rowOut * MemoryLayout<Float>.stride)
                }
            }
        }
    }

    /// Adds the elements of `source` into the `range` part along `axis` (the gradient of `slice`).
    public mutating func addSlice(_ source: Tensor, alongAxis axis: Int, at start: Int) {
        let outer = shape.dims[..<axis].reduce(1, *)
        let inner = shape.dims[(axis + 1)...].reduce(1, *)
        let rowSelf = shape.dims[axis] * inner
        let rowSrc = source.shape.dims[axis] * inner
        precondition(start + source.shape.dims[axis] <= shape.dims[axis])
        source.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    for j in 0..<rowSrc { dst[o * rowSelf + start * inner + j] += src[o * rowSrc + j] }
                }
            }
        }
    }
}
