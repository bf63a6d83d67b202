/// torchvision's `_make_divisible`: round `v` to the nearest multiple of `divisor`, never below 90% of `v`.
public func makeDivisible(_ v: Double, _ divisor: Int = 8) -> Int {
    var newV = max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
    if Double(newV) < 0.9 * v { newV += divisor }
    return newV
}

/// MobileNet V1 (Howard et al. 2017): a 3×3/2 conv, then 13 depthwise-separable blocks (3×3 depthwise conv–
/// BN–ReLU, 1×1 pointwise conv–BN–ReLU), global average pool, `fc`. `width` multiplies every channel count.
/// Keys: `features.0.{0,1}` (stem), `features.i.{0,1}` depthwise and `features.i.{3,4}` pointwise, `fc`.
public final class MobileNetV1: Module, ImageClassifier {
    public let classes: Int
    let features: Sequential
    let fc: Linear

    static let blocks: [(Int, Int)] = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
                                       (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    public init(classes: Int = 1000, width: Double = 1, inputChannels: Int = 3, rng: inout RandomSource) {
        self.classes = classes
        let scale = { (c: Int) in max(8, Int((Double(c) * width).rounded())) }
        features = Sequential([])
        var c = scale(32)
        features.append(convBN(inputChannels, c, kernel: 3, stride: 2, rng: &rng))
        for (cout, stride) in MobileNetV1.blocks {
            let co = scale(cout)
            let block = Sequential(
                Conv2D(c, c, kernel: 3, stride: stride, padding: 1, groups: c, bias: false, initializer: convInit, rng: &rng),
                BatchNorm2D(c), ReLU(),
                Conv2D(c, co, kernel: 1, bias: false, initializer: convInit, rng: &rng), BatchNorm2D(co), ReLU())
            features.append(block)
            c = co
        }
        fc = Linear(c, classes, rng: &rng)
        super.init()
        register("features", features)
        register("fc", fc)
    }

    public override func forward(_ x: Variable) -> Variable {
        fc(globalAvgPool2d(features(x)).flattened())
    }
}

/// MobileNet V2's inverted residual: optional 1×1 expansion (×t, ReLU6), 3×3 depthwise (ReLU6), 1×1 linear
/// projection; residual when the stride is 1 and the channels match. Keys as torchvision: `conv.0.{0,1}`, ….
public final class InvertedResidual: Module {
    let conv: Sequential
    let residual: Bool

    init(_ inp: Int, _ oup: Int, stride: Int, expandRatio: Int, rng: inout RandomSource) {
        let hidden = inp * expandRatio
        residual = stride == 1 && inp == oup
        conv = Sequential([])
        if expandRatio != 1 { conv.append(convBN(inp, hidden, kernel: 1, activation: .relu6, rng: &rng)) }
        conv.append(convBN(hidden, hidden, kernel: 3, stride: stride, groups: hidden, activation: .relu6, rng: &rng))
        conv.append(Conv2D(hidden, oup, kernel: 1, bias: false, initializer: convInit, rng: &rng))
        conv.append(BatchNorm2D(oup))
        super.init()
        register("conv", conv)
    }

    public override func forward(_ x: Variable) -> Variable {
        conv.forward(x, residual: residual ? x : nil)
    }
}

/// MobileNet V2 (Sandler et al. 2018), torchvision's `mobilenet_v2` layout and keys: `features.0` stem,
/// `features.1…17` inverted residuals, `features.18` 1×1 to 1280, dropout 0.2 and `classifier.1`.
public final class MobileNetV2: Module, ImageClassifier {
    public let classes: Int
    /// The convolutional trunk (`features.0` … `features.18`), for detection and segmentation backbones.
    public let features: Sequential
    let classifier: Sequential

    static let settings: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    public init(classes: Int = 1000, width: Double = 1, inputChannels: Int = 3, dropout: Float = 0.2, rng: inout RandomSource) {
        self.classes = classes
        var input = makeDivisible(32 * width)
        let last = makeDivisible(1280 * max(1, width))
        features = Sequential([])
        features.append(convBN(inputChannels, input, kernel: 3, stride: 2, activation: .relu6, rng: &rng))
        for (t, c, n, s) in MobileNetV2.settings {
            let out = makeDivisible(Double(c) * width)
            for i in 0..<n {
                features.append(InvertedResidual(input, out, stride: i == 0 ? s : 1, expandRatio: t, rng: &rng))
                input = out
            }
        }
        features.append(convBN(input, last, kernel: 1, activation: .relu6, rng: &rng))
        let fc = Linear(last, classes, initializer: .normal(mean: 0, std: 0.01), rng: &rng)
        fc.bias?.value = Tensor.zeros([classes])
        classifier = Sequential(Dropout(dropout), fc)
        super.init()
        register("features", features)
        register("classifier", classifier)
    }

    public override func forward(_ x: Variable) -> Variable {
        classifier(globalAvgPool2d(features(x)).flattened())
    }
}
