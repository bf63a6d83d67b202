import KestrelTensor

extension RefTensor {
    /// The Float32 tensor's values, widened.
    public init(_ t: Tensor) { self.init(shape: t.shape.dims, data: t.scalars.map(Double.init)) }
}

extension Tensor {
    /// The reference tensor's values, rounded to Float32.
    public init(_ r: RefTensor) { self.init(shape: Shape(r.shape), scalars: r.data.map { Float($0) }) }

    /// Elements uniform in [-1, 1) from a test seed.
    public static func random(_ shape: Shape, seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor.uniform(shape, low: -scale, high: scale, using: &rng)
    }
}
