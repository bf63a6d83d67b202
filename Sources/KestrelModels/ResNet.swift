/// ResNet building block with two 3×3 convolutions (ResNet-18/34, CIFAR ResNets):
/// conv–BN–ReLU–conv–BN, plus the shortcut, then ReLU. Keys: `conv1`, `bn1`, `conv2`, `bn2`, `downsample.0/1`.
public final class BasicBlock: Module {
    public static let expansion = 1
    let conv1: Conv2D, bn1: BatchNorm2D, conv2: Conv2D, bn2: BatchNorm2D
    let downsample: Sequential?
    let shortcutA: (stride: Int, pad: Int)?

    /// `projection`: a 1×1 conv + BN shortcut when the shape changes (torchvision, option B);
    /// otherwise the parameter-free option A (subsample and zero-pad channels).
    /// `dilation` > 1 replaces striding (dilated ResNets for segmentation keep the resolution).
    init(_ inplanes: Int, _ planes: Int, stride: Int, projection: Bool, dilation: Int = 1, rng: inout RandomSource) {
        conv1 = Conv2D(inplanes, planes, kernel: 3, stride: stride, padding: dilation, dilation: dilation, bias: false,
                       initializer: convInit, rng: &rng)
        bn1 = BatchNorm2D(planes)
        conv2 = Conv2D(planes, planes, kernel: 3, padding: dilation, dilation: dilation, bias: false, initializer: convInit, rng: &rng)
        bn2 = BatchNorm2D(planes)
        let reshapes = stride != 1 || inplanes != planes
        if reshapes && projection {
            downsample = Sequential(
                Conv2D(inplanes, planes, kernel: 1, stride: stride, bias: false, initializer: convInit, rng: &rng),
                BatchNorm2D(planes))
            shortcutA = nil
        } else {
            downsample = nil
            shortcutA = reshapes ? (stride, (planes - inplanes) / 2) : nil
        }
        super.init()
        register("conv1", conv1)
        register("bn1", bn1)
        register("conv2", conv2)
        register("bn2", bn2)
        if let downsample { register("downsample", downsample) }
    }

    public override func forward(_ x: Variable) -> Variable {
        let identity: Variable
        if let downsample {
            identity = downsample(x)
        } else if let a = shortcutA {
            identity = subsampleAndPadChannels(x, stride: a.stride, before: a.pad, after: a.pad)
        } else {
            identity = x
        }
        // relu(bn2(conv2(·)) + identity): in inference, one convolution whose epilogue adds the shortcut.
        return convBatchNorm(convBatchNorm(x, conv1, bn1, activation: .relu), conv2, bn2, activation: .relu,
                             residual: identity)
    }
}

/// ResNet bottleneck block (ResNet-50): 1×1 reduce, 3×3 (carrying the stride, torchvision's "v1.5"), 1×1
/// expand ×4, plus the shortcut. Keys: `conv1..3`, `bn1..3`, `downsample.0/1`.
public final class Bottleneck: Module {
    public static let expansion = 4
    let conv1: Conv2D, bn1: BatchNorm2D, conv2: Conv2D, bn2: BatchNorm2D, conv3: Conv2D, bn3: BatchNorm2D
    let downsample: Sequential?

    init(_ inplanes: Int, _ planes: Int, stride: Int, rng: inout RandomSource) {
        conv1 = Conv2D(inplanes, planes, kernel: 1, bias: false, initializer: convInit, rng: &rng)
        bn1 = BatchNorm2D(planes)
        conv2 = Conv2D(planes, planes, kernel: 3, stride: stride, padding: 1, bias: false, initializer: convInit, rng: &rng)
        bn2 = BatchNorm2D(planes)
        conv3 = Conv2D(planes, planes * 4, kernel: 1, bias: false, initializer: convInit, rng: &rng)
        bn3 = BatchNorm2D(planes * 4)
        downsample = stride != 1 || inplanes != planes * 4
            ? Sequential(Conv2D(inplanes, planes * 4, kernel: 1, stride: stride, bias: false, initializer: convInit, rng: &rng),
                         BatchNorm2D(planes * 4))
            : nil
        super.init()
        register("conv1", conv1)
        register("bn1", bn1)
        register("conv2", conv2)
        register("bn2", bn2)
        register("conv3", conv3)
        register("bn3", bn3)
        if let downsample { register("downsample", downsample) }
    }

    public override func forward(_ x: Variable) -> Variable {
        let identity = downsample.map { $0(x) } ?? x
        let h = convBatchNorm(convBatchNorm(x, conv1, bn1, activation: .relu), conv2, bn2, activation: .relu)
        return convBatchNorm(h, conv3, bn3, activation: .relu, residual: identity)
    }
}

/// ResNet at ImageNet shape (He et al. 2016; torchvision's `resnet18/34/50` layout and state-dict keys):
/// 7×7/2 conv, 3×3/2 max-pool, four stages (`layer1…4`), global average pool, `fc`. Any input of at least
/// 32×32 works (the pooling is global).
public final class ResNet: Module, ImageClassifier {
    public enum Depth: Int, Sendable { case resnet18 = 18, resnet34 = 34, resnet50 = 50 }
    public let classes: Int
    /// The stem (7×7/2 convolution and its batch norm; the 3×3/2 max-pool follows in `forward`).
    public let conv1: Conv2D, bn1: BatchNorm2D
    /// `layer1` … `layer4`, at strides 4, 8, 16, 32 (or 8, 8, 8 with `dilated`).
    public let layers: [Sequential]
    let fc: Linear

    /// `dilated`: layers 3 and 4 keep stride 8 with dilations 2 and 4 instead of striding (basic blocks only:
    /// ResNet-18/34), the dilated-convolution segmentation backbone.
    public init(_ depth: Depth, classes: Int = 1000, inputChannels: Int = 3, dilated: Bool = false, rng: inout RandomSource) {
        self.classes = classes
        let counts: [Int] = depth == .resnet18 ? [2, 2, 2, 2] : [3, 4, 6, 3]
        let bottleneck = depth == .resnet50
        let expansion = bottleneck ? 4 : 1
        conv1 = Conv2D(inputChannels, 64, kernel: 7, stride: 2, padding: 3, bias: false, initializer: convInit, rng: &rng)
        bn1 = BatchNorm2D(64)
        var inplanes = 64
        var stages: [Sequential] = []
        for (i, (planes, count)) in zip([64, 128, 256, 512], counts).enumerated() {
            let stage = Sequential([])
            for b in 0..<count {
                let dilation = dilated && i >= 2 ? (i == 2 ? 2 : 4) : 1
                let stride = i > 0 && b == 0 && dilation == 1 ? 2 : 1
                if bottleneck {
                    precondition(!dilated, "dilated ResNets are built from basic blocks here")
                    stage.append(Bottleneck(inplanes, planes, stride: stride, rng: &rng))
                } else {
                    stage.append(BasicBlock(inplanes, planes, stride: stride, projection: true, dilation: dilation, rng: &rng))
                }
                inplanes = planes * expansion
            }
            stages.append(stage)
        }
        layers = stages
        fc = Linear(512 * expansion, classes, rng: &rng)
        super.init()
        register("conv1", conv1)
        register("bn1", bn1)
        for (i, s) in layers.enumerated() { register("layer\(i + 1)", s) }
        register("fc", fc)
    }

    public override func forward(_ x: Variable) -> Variable {
        var h = convBatchNorm(x, conv1, bn1, activation: .relu)
        h = maxPool2d(h, geometry: ConvGeometry(kernel: 3, stride: 2, padding: 1)).output
        for stage in layers { h = stage(h) }
        return fc(globalAvgPool2d(h).flattened())
    }
}

/// The CIFAR ResNets of He et al. 2016 §4.2 (ResNet-20, -32, -44, -56, -110: depth = 6n + 2): a 3×3 conv with
/// 16 filters, three stages of n basic blocks with 16, 32, 64 filters (stride 2 at the start of stages 2 and
/// 3), global average pool, `fc`. Shortcuts that change shape use option A (parameter-free, the paper's CIFAR
/// choice) or, with `projection`, option B (1×1 conv + BN). Keys follow torchvision's ResNet naming.
public final class CIFARResNet: Module, ImageClassifier {
    public let classes: Int
    let conv1: Conv2D, bn1: BatchNorm2D
    let layers: [Sequential]
    let fc: Linear

    public init(depth: Int, classes: Int = 10, inputChannels: Int = 3, projection: Bool = false, rng: inout RandomSource) {
        precondition((depth - 2) % 6 == 0 && depth >= 8, "CIFAR ResNet depth must be 6n + 2")
        self.classes = classes
        let n = (depth - 2) / 6
        conv1 = Conv2D(inputChannels, 16, kernel: 3, padding: 1, bias: false, initializer: convInit, rng: &rng)
        bn1 = BatchNorm2D(16)
        var inplanes = 16
        var stages: [Sequential] = []
        for (i, planes) in [16, 32, 64].enumerated() {
            let stage = Sequential([])
            for b in 0..<n {
                stage.append(BasicBlock(inplanes, planes, stride: i > 0 && b == 0 ? 2 : 1, projection: projection, rng: &rng))
                inplanes = planes
            }
            stages.append(stage)
        }
        layers = stages
        fc = Linear(64, classes, initializer: .kaimingNormal(), rng: &rng)
        super.init()
        register("conv1", conv1)
        register("bn1", bn1)
        for (i, s) in layers.enumerated() { register("layer\(i + 1)", s) }
        register("fc", fc)
    }

    public override func forward(_ x: Variable) -> Variable {
        var h = convBatchNorm(x, conv1, bn1, activation: .relu)
        for stage in layers { h = stage(h) }
        return fc(globalAvgPool2d(h).flattened())
    }
}
