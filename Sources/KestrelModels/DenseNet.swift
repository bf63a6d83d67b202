/// DenseNet layer (bottleneck "B" form): BN–ReLU–1×1 conv to `bnSize·growth` channels, BN–ReLU–3×3 conv to
/// `growth` channels; its output is concatenated to its input. Keys: `norm1`, `conv1`, `norm2`, `conv2`.
public final class DenseLayer: Module {
    let norm1: BatchNorm2D, conv1: Conv2D, norm2: BatchNorm2D, conv2: Conv2D

    init(_ inChannels: Int, growth: Int, bnSize: Int, rng: inout RandomSource) {
        norm1 = BatchNorm2D(inChannels)
        conv1 = Conv2D(inChannels, bnSize * growth, kernel: 1, bias: false, initializer: .kaimingNormal(), rng: &rng)
        norm2 = BatchNorm2D(bnSize * growth)
        conv2 = Conv2D(bnSize * growth, growth, kernel: 3, padding: 1, bias: false, initializer: .kaimingNormal(), rng: &rng)
        super.init()
        register("norm1", norm1)
        register("conv1", conv1)
        register("norm2", norm2)
        register("conv2", conv2)
    }

    public override func forward(_ x: Variable) -> Variable {
        let h = conv1(norm1(x).relu())
        return concatenate([x, conv2(norm2(h).relu())], alongAxis: 1)
    }
}

/// Transition between dense blocks: BN–ReLU–1×1 conv (compression) – 2×2 average pool.
public final class Transition: Module {
    let norm: BatchNorm2D, conv: Conv2D

    init(_ cin: Int, _ cout: Int, rng: inout RandomSource) {
        norm = BatchNorm2D(cin)
        conv = Conv2D(cin, cout, kernel: 1, bias: false, initializer: .kaimingNormal(), rng: &rng)
        super.init()
        register("norm", norm)
        register("conv", conv)
    }

    public override func forward(_ x: Variable) -> Variable {
        avgPool2d(conv(norm(x).relu()), geometry: ConvGeometry(kernel: 2, stride: 2))
    }
}

/// DenseNet (Huang et al. 2017). `.densenet121` is torchvision's layout and keys (`features.conv0/norm0`,
/// `features.denseblockK.denselayerL.*`, `features.transitionK.*`, `features.norm5`, `classifier`): growth 32,
/// blocks (6, 12, 24, 16), bottleneck ×4, compression 0.5, 7×7/2 stem with max-pool. `.bc(depth:growth:)` is
/// DenseNet-BC for 32×32 inputs: a 3×3 stem of 2·growth channels and three blocks of (depth − 4)/6 layers.
public final class DenseNet: Module, ImageClassifier {
    public enum Variant: Sendable, Equatable {
        case densenet121
        case bc(depth: Int, growth: Int)
    }

    public let classes: Int
    let features: Sequential
    let classifier: Linear
    let variant: Variant

    public init(_ variant: Variant, classes: Int, inputChannels: Int = 3, rng: inout RandomSource) {
        self.variant = variant
        self.classes = classes
        let growth: Int, blocks: [Int], initial: Int
        switch variant {
        case .densenet121: (growth, blocks, initial) = (32, [6, 12, 24, 16], 64)
        case .bc(let depth, let k):
            precondition((depth - 4) % 6 == 0, "DenseNet-BC depth must be 6n + 4")
            (growth, blocks, initial) = (k, [Int](repeating: (depth - 4) / 6, count: 3), 2 * k)
        }
        features = Sequential([])
        if variant == .densenet121 {
            features.append(Conv2D(inputChannels, initial, kernel: 7, stride: 2, padding: 3, bias: false,
                                   initializer: .kaimingNormal(), rng: &rng), name: "conv0")
            features.append(BatchNorm2D(initial), name: "norm0")
            features.append(ReLU(), name: "relu0")
            features.append(MaxPool2D(kernel: 3, stride: 2, padding: 1), name: "pool0")
        } else {
            features.append(Conv2D(inputChannels, initial, kernel: 3, padding: 1, bias: false,
                                   initializer: .kaimingNormal(), rng: &rng), name: "conv0")
        }
        var c = initial
        for (i, count) in blocks.enumerated() {
            let block = Sequential([])
            for l in 0..<count {
                block.append(DenseLayer(c + l * growth, growth: growth, bnSize: 4, rng: &rng), name: "denselayer\(l + 1)")
            }
            features.append(block, name: "denseblock\(i + 1)")
            c += count * growth
            if i < blocks.count - 1 {
                features.append(Transition(c, c / 2, rng: &rng), name: "transition\(i + 1)")
                c /= 2
            }
        }
        features.append(BatchNorm2D(c), name: variant == .densenet121 ? "norm5" : "norm_final")
        classifier = Linear(c, classes, rng: &rng)
        classifier.bias?.value = Tensor.zeros([classes])
        super.init()
        register("features", features)
        register("classifier", classifier)
    }

    public override func forward(_ x: Variable) -> Variable {
        classifier(globalAvgPool2d(features(x).relu()).flattened())
    }
}
