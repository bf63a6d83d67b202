/// The curriculum's SimpleConvNet (ゼロから作るDeep Learning, ch. 7): conv → ReLU → 2×2 max-pool → affine →
/// ReLU → affine (softmax is applied by the loss). Defaults: 30 filters of 5×5, stride 1, no padding,
/// 100 hidden units. Keys: `conv1.*`, `fc1.*`, `fc2.*`.
public final class SimpleConvNet: Module, ImageClassifier {
    public let classes: Int
    let conv1: Conv2D, fc1: Linear, fc2: Linear

    /// `inputShape` is (channels, height, width) of one image.
    public init(inputShape: (c: Int, h: Int, w: Int), classes: Int, filters: Int = 30, kernel: Int = 5, padding: Int = 0,
                hidden: Int = 100, rng: inout RandomSource) {
        self.classes = classes
        let oh = (inputShape.h + 2 * padding - kernel) + 1, ow = (inputShape.w + 2 * padding - kernel) + 1
        precondition(oh >= 2 && ow >= 2, "input \(inputShape.h)x\(inputShape.w) too small for a \(kernel)x\(kernel) kernel and 2x2 pooling")
        conv1 = Conv2D(inputShape.c, filters, kernel: kernel, padding: padding, initializer: .kaimingNormal(), rng: &rng)
        fc1 = Linear(filters * (oh / 2) * (ow / 2), hidden, initializer: .kaimingNormal(), rng: &rng)
        fc2 = Linear(hidden, classes, rng: &rng)
        super.init()
        register("conv1", conv1)
        register("fc1", fc1)
        register("fc2", fc2)
    }

    public override func forward(_ x: Variable) -> Variable {
        let h = maxPool2d(conv1(x).relu(), geometry: ConvGeometry(kernel: 2, stride: 2)).output
        return fc2(fc1(h.flattened()).relu())
    }
}

/// VGG (Simonyan & Zisserman 2015). `vgg16` is torchvision's layout and key names (`features.N`, `avgpool`
/// to 7×7, `classifier.0/3/6` with 4096 units and dropout); `vggCIFAR` is the common small-image variant
/// (VGG-11 convolutions with batch norm, global pooling, one linear layer).
public final class VGG: Module, ImageClassifier {
    public let classes: Int
    public let features: Sequential
    let classifier: Sequential
    let imagenetHead: Bool

    public static let vgg11Config: [Int] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]  // 0 = max-pool
    public static let vgg16Config: [Int] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]

    public init(config: [Int], batchNorm: Bool, imagenetHead: Bool, inputChannels: Int = 3, classes: Int,
                dropout: Float = 0.5, rng: inout RandomSource) {
        self.classes = classes
        self.imagenetHead = imagenetHead
        features = Sequential([])
        var c = inputChannels
        for v in config {
            if v == 0 {
                features.append(MaxPool2D(kernel: 2, stride: 2))
            } else {
                features.append(Conv2D(c, v, kernel: 3, padding: 1, initializer: convInit, rng: &rng))
                if batchNorm { features.append(BatchNorm2D(v)) }
                features.append(ReLU())
                c = v
            }
        }
        if imagenetHead {
            classifier = Sequential(
                Linear(512 * 7 * 7, 4096, initializer: .normal(mean: 0, std: 0.01), rng: &rng), ReLU(), Dropout(dropout),
                Linear(4096, 4096, initializer: .normal(mean: 0, std: 0.01), rng: &rng), ReLU(), Dropout(dropout, seed: 1),
                Linear(4096, classes, initializer: .normal(mean: 0, std: 0.01), rng: &rng))
        } else {
            classifier = Sequential(Linear(c, classes, rng: &rng))
        }
        super.init()
        register("features", features)
        register("classifier", classifier)
        // torchvision zeroes every convolution and linear bias (batch-norm biases start at zero anyway).
        for (name, p) in namedParameters() where name.hasSuffix(".bias") { p.value = Tensor.zeros(p.shape) }
    }

    public override func forward(_ x: Variable) -> Variable {
        let f = features(x)
        let pooled = imagenetHead ? adaptiveAvgPool2d(f, outputSize: (7, 7)) : globalAvgPool2d(f)
        return classifier(pooled.flattened())
    }
}
