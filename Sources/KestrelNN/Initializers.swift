/// Weight initialisers, with PyTorch's definitions (`torch.nn.init`).
///
/// Fans, as `_calculate_fan_in_and_fan_out`: for a weight `[out, in, k…]`, fan-in = in·Πk and fan-out = out·Πk;
/// for a vector, both are its length.
public enum Initializer: Sendable {
    case zeros
    case ones
    case constant(Float)
    /// U(−a, a), a = gain·√(6 / (fanIn + fanOut)) (Glorot & Bengio).
    case xavierUniform(gain: Float = 1)
    /// N(0, σ²), σ = gain·√(2 / (fanIn + fanOut)).
    case xavierNormal(gain: Float = 1)
    /// U(−b, b), b = gain·√(3 / fan), gain = √(2 / (1 + a²)) for leaky ReLU slope `a` (a = 0: ReLU) (He et al.).
    case kaimingUniform(a: Float = 0, fanOut: Bool = false)
    /// N(0, σ²), σ = gain / √fan.
    case kaimingNormal(a: Float = 0, fanOut: Bool = false)
    case uniform(low: Float, high: Float)
    case normal(mean: Float, std: Float)

    /// PyTorch's default for Conv and Linear weights: Kaiming uniform with a = √5, i.e. U(−1/√fanIn, 1/√fanIn).
    public static let torchDefault = Initializer.kaimingUniform(a: Float(5).squareRoot())

    public static func fans(_ shape: Shape) -> (fanIn: Int, fanOut: Int) {
        if shape.rank < 2 { return (shape.count, shape.count) }
        let receptive = shape.dims.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public func make(_ shape: Shape, using rng: inout RandomSource) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .zeros: return Tensor.zeros(shape)
        case .ones: return Tensor.ones(shape)
        case .constant(let v): return Tensor(shape: shape, repeating: v)
        case .xavierUniform(let gain):
            let a = gain * (6 / Float(Swift.max(fanIn + fanOut, 1))).squareRoot()
            return Tensor.uniform(shape, low: -a, high: a, using: &rng)
        case .xavierNormal(let gain):
            return Tensor.normal(shape, std: gain * (2 / Float(Swift.max(fanIn + fanOut, 1))).squareRoot(), using: &rng)
        case .kaimingUniform(let a, let useFanOut):
            let gain = (2 / (1 + a * a)).squareRoot()
            let bound = gain * (3 / Float(Swift.max(useFanOut ? fanOut : fanIn, 1))).squareRoot()
            return Tensor.uniform(shape, low: -bound, high: bound, using: &rng)
        case .kaimingNormal(let a, let useFanOut):
            let gain = (2 / (1 + a * a)).squareRoot()
            return Tensor.normal(shape, std: gain / Float(Swift.max(useFanOut ? fanOut : fanIn, 1)).squareRoot(), using: &rng)
        case .uniform(let low, let high): return Tensor.uniform(shape, low: low, high: high, using: &rng)
        case .normal(let mean, let std): return Tensor.normal(shape, mean: mean, std: std, using: &rng)
        }
    }
}
