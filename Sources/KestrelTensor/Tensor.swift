/// A dense Float32 tensor: contiguous, row-major (`[N, C, H, W]` for images: NCHW), value semantics with
/// copy-on-write storage.
///
/// Shape errors (adding `[2, 3]` to `[4]`, a matrix product of mismatched sizes) are programming errors and
/// stop the program with a message, as Array's out-of-range subscripts do; code that turns user input into
/// tensors validates it first and throws.
public struct Tensor: Sendable, CustomStringConvertible {
    public private(set) var shape: Shape
    var storage: TensorStorage

    init(shape: Shape, storage: TensorStorage) {
        precondition(storage.count >= shape.count)
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` with every element `value`.
    public init(shape: Shape, repeating value: Float = 0) {
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: shape.count))
    }

    /// A tensor of `shape` holding `scalars` in row-major order (`scalars.count == shape.count`).
    public init(shape: Shape, scalars: [Float]) {
        precondition(scalars.count == shape.count, "\(scalars.count) scalars for shape \(shape)")
        self.init(shape: shape) { dst in
            scalars.withUnsafeBufferPointer { src in
                _ = dst.initialize(fromContentsOf: src)
            }
        }
    }

    /// A rank-0 tensor holding one value.
    public init(_ scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    public static func zeros(_ shape: Shape) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: Shape) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// Number of elements.
    public var count: Int { shape.count }
    public var rank: Int { shape.rank }

    /// The elements, row-major, as an array (a copy).
    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return storage.base[0]
    }

    /// Element at a full multi-index (slow; for tests and small tensors).
    public subscript(index: Int...) -> Float {
        get { storage.base[offset(index)] }
        set {
            let o = offset(index)
            makeUnique()
            storage.base[o] = newValue
        }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == rank, "index \(index) for shape \(shape)")
        var o = 0
        for (i, d) in Swift.zip(index, shape.dims) {
            precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shape)")
            o = o * d + i
        }
        return o
    }

    /// The same elements viewed with another shape of the same count (no copy). One dimension may be -1 and
    /// is inferred.
    public func reshaped(_ dims: [Int]) -> Tensor {
        var dims = dims
        if let inferred = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(dims)")
            dims[inferred] = count / known
        }
        let newShape = Shape(dims)
        precondition(newShape.count == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    public func reshaped(_ shape: Shape) -> Tensor { reshaped(shape.dims) }

    /// True when both tensors have the same shape and bit-identical elements.
    public func isIdentical(to other: Tensor) -> Bool {
        shape == other.shape
            && withUnsafeBufferPointer { a in
                other.withUnsafeBufferPointer { b in
                    memcmp(a.baseAddress!, b.baseAddress!, count * MemoryLayout<Float>.stride) == 0
                }
            }
    }

    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor\(shape)(\(shown)\(count > 8 ? ", …" : ""))"
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
