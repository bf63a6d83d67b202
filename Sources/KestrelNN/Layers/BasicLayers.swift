/// Max pooling layer. ``forwardWithIndices(_:)`` also returns the argmax indices for ``maxUnpool2d``.
public final class MaxPool2D: Module {
    public let geometry: ConvGeometry
    public let ceilMode: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        geometry = ConvGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation)
        self.ceilMode = ceilMode
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable { maxPool2d(x, geometry: geometry, ceilMode: ceilMode).output }
    public func forwardWithIndices(_ x: Variable) -> MaxPoolResult { maxPool2d(x, geometry: geometry, ceilMode: ceilMode) }
}

/// Average pooling layer (`countIncludePad` as PyTorch, default true).
public final class AvgPool2D: Module {
    public let geometry: ConvGeometry
    public let countIncludePad: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true) {
        geometry = ConvGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
        self.countIncludePad = countIncludePad
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        avgPool2d(x, geometry: geometry, countIncludePad: countIncludePad)
    }
}

/// `[N, C, H, W] → [N, C, 1, 1]` average (torchvision's `AdaptiveAvgPool2d((1, 1))`).
public final class GlobalAvgPool2D: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) -> Variable { globalAvgPool2d(x) }
}

/// `[N, d1, d2, …] → [N, d1·d2·…]`.
public final class Flatten: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) -> Variable { x.flattened() }
}

/// Inverted dropout, active in training mode only; its mask stream comes from `seed`.
public final class Dropout: Module {
    public let p: Float
    private var rng: RandomSource

    public init(_ p: Float = 0.5, seed: UInt64 = 0) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
        self.p = p
        rng = RandomSource(seed: seed)
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        isTraining ? dropout(x, p: p, using: &rng) : x
    }

    /// Restarts the mask stream (training loops reseed per batch from (seed, epoch, batch) so a resumed run
    /// draws the same masks).
    public func reseed(_ seed: UInt64) { rng = RandomSource(seed: seed) }
}

/// Resize to a fixed size or by an integer scale factor.
public final class Upsample: Module {
    public let scale: Int?
    public let size: (h: Int, w: Int)?
    public let mode: UpsampleMode

    public init(scale: Int, mode: UpsampleMode = .nearest) {
        self.scale = scale
        self.size = nil
        self.mode = mode
        super.init()
    }

    public init(size: (h: Int, w: Int), mode: UpsampleMode = .nearest) {
        self.scale = nil
        self.size = size
        self.mode = mode
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        let (h, w) = size ?? (x.shape[2] * scale!, x.shape[3] * scale!)
        return upsample2d(x, height: h, width: w, mode: mode)
    }
}

/// An activation as a layer.
public final class Activation: Module {
    public enum Kind: Sendable {
        case relu, relu6, sigmoid, tanh, silu, leakyRelu(Float), softmax(axis: Int), logSoftmax(axis: Int), identity
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        switch kind {
        case .relu: x.relu()
        case .relu6: x.relu6()
        case .sigmoid: x.sigmoid()
        case .tanh: x.tanh()
        case .silu: x.silu()
        case .leakyRelu(let a): x.leakyRelu(negativeSlope: a)
        case .softmax(let axis): x.softmax(alongAxis: axis)
        case .logSoftmax(let axis): x.logSoftmax(alongAxis: axis)
        case .identity: x
        }
    }
}

public func ReLU() -> Activation { Activation(.relu) }
public func ReLU6() -> Activation { Activation(.relu6) }
public func Sigmoid() -> Activation { Activation(.sigmoid) }
public func Tanh() -> Activation { Activation(.tanh) }
public func SiLU() -> Activation { Activation(.silu) }
public func LeakyReLU(_ slope: Float = 0.01) -> Activation { Activation(.leakyRelu(slope)) }
public func Identity() -> Activation { Activation(.identity) }
