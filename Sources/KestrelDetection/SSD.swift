#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import KestrelGeometry
@_exported import KestrelModels

/// A backbone for SSD: the feature maps the heads look at, largest first.
public protocol SSDBackbone: Module {
    /// Channels of each feature map.
    var outChannels: [Int] { get }
    func featureMaps(_ x: Variable) -> [Variable]
}

/// SSD (Liu et al. 2016): default boxes on several feature maps, a 3×3 convolution per map predicting
/// `k·(classes + 1)` scores and `k·4` box offsets per cell. Keys follow torchvision's `SSD`: `backbone.*`,
/// `head.classification_head.module_list.K.*`, `head.regression_head.module_list.K.*`.
///
/// Output: scores `[N, P, classes + 1]` (logits; class 0 is background) and offsets `[N, P, 4]` (encoded with
/// ``BoxCoder``) for the `P` default boxes of ``defaultBoxes``, in their order.
public final class SSD: Module {
    /// Foreground classes (the scores have one more, background, at index 0).
    public let classes: Int
    public let inputSize: Int
    public let backbone: any SSDBackbone
    public let boxConfig: DefaultBoxConfig
    /// The default boxes, normalised centre form, in output order.
    public let defaultBoxes: [BoxCXCYWH]
    let classification: Sequential
    let regression: Sequential

    /// `aspectRatios` per feature map (the extra ratios besides 1); default boxes follow the paper's scale rule
    /// over the backbone's actual feature-map sizes for `inputSize`, or `boxConfig` when given. The classifier's
    /// biases start every box at probability `foregroundPrior` of being an object (see the note in the body).
    public init(backbone: any SSDBackbone, classes: Int, inputSize: Int, aspectRatios: [[Double]],
                boxConfig: DefaultBoxConfig? = nil, foregroundPrior: Double = 0.01, rng: inout RandomSource) {
        self.classes = classes
        self.inputSize = inputSize
        self.backbone = backbone
        precondition(aspectRatios.count == backbone.outChannels.count, "one aspect-ratio list per feature map")
        // Feature-map sizes from a dry run (no gradients, batch 1).
        let sizes = GradMode.withoutGradients {
            backbone.featureMaps(Variable(Tensor.zeros([1, 3, inputSize, inputSize]))).map { $0.shape[2] }
        }
        let config = boxConfig ?? DefaultBoxConfig.paperScales(
            imageSize: inputSize, featureMapSizes: sizes, steps: sizes.map { Double(inputSize) / Double($0) },
            aspectRatios: aspectRatios)
        precondition(config.featureMapSizes == sizes, "default boxes for maps \(config.featureMapSizes), backbone gives \(sizes)")
        self.boxConfig = config
        defaultBoxes = config.boxes()
        classification = Sequential([])
        regression = Sequential([])
        for (c, k) in zip(backbone.outChannels, config.boxesPerCell) {
            classification.append(Conv2D(c, k * (classes + 1), kernel: 3, padding: 1, initializer: .xavierUniform(), rng: &rng))
            regression.append(Conv2D(c, k * 4, kernel: 3, padding: 1, initializer: .xavierUniform(), rng: &rng))
        }
        for p in regression.parameters where p.shape.rank == 1 { p.value = Tensor.zeros(p.shape) }
        // Background prior: each box starts out as background with probability 1 − π (π = `foregroundPrior`),
        // as RetinaNet initialises its classifier (torchvision's SSD starts every class at 0, p = 1/(C+1)).
        // Hard negative mining trains only 3 negatives per positive per step, so with equal starting logits
        // the never-mined negatives start at p(background) = 1/(C+1) rather than near 1. On the ssd_tiny
        // shapes recipe it made no measurable difference (docs/detection.md); it costs nothing either.
        let backgroundBias = Float(log(Double(classes) * (1 - foregroundPrior) / foregroundPrior))
        for (p, k) in zip(classification.parameters.filter { $0.shape.rank == 1 }, config.boxesPerCell) {
            var b = [Float](repeating: 0, count: k * (classes + 1))
            for j in 0..<k { b[j * (classes + 1)] = backgroundBias }
            p.value = Tensor(shape: p.shape, scalars: b)
        }
        super.init()
        register("backbone", backbone)
        let head = Module()
        let cls = Module(), reg = Module()
        cls.register("module_list", classification)
        reg.register("module_list", regression)
        head.register("classification_head", cls)
        head.register("regression_head", reg)
        register("head", head)
    }

    /// Scores `[N, P, classes + 1]` and offsets `[N, P, 4]`.
    public func predict(_ x: Variable) -> (scores: Variable, offsets: Variable) {
        let maps = backbone.featureMaps(x)
        var scores: [Variable] = [], offsets: [Variable] = []
        for (k, f) in maps.enumerated() {
            let n = f.shape[0]
            // [N, k·C, H, W] → [N, H, W, k·C] → [N, H·W·k, C]: cells row-major, then the cell's boxes.
            scores.append(classification.layers[k](f).permuted([0, 2, 3, 1]).reshaped([n, -1, classes + 1]))
            offsets.append(regression.layers[k](f).permuted([0, 2, 3, 1]).reshaped([n, -1, 4]))
        }
        return (concatenate(scores, alongAxis: 1), concatenate(offsets, alongAxis: 1))
    }
}

/// SSD300's VGG-16 backbone as torchvision builds it (`_vgg_extractor`): VGG-16 convolutions to conv4_3 with
/// pool3 in ceil mode (75 → 38), conv4_3 L2-normalised and scaled per channel (`scale_weight`, init 20), then
/// `extra.0` = pool4, conv5_x, a 3×3/1 max-pool, fc6 as a 3×3 convolution dilated by 6 and fc7 as 1×1
/// (1024 channels), and four extra blocks (1×1 reduce, 3×3) down to 1×1. 38, 19, 10, 5, 3, 1 for a 300 input.
public final class SSDVGG16Backbone: Module, SSDBackbone {
    public let outChannels = [512, 1024, 512, 256, 256, 256]
    let features: Sequential
    let scaleWeight: Parameter
    let extra: Sequential

    public init(rng: inout RandomSource) {
        features = Sequential([])
        var c = 3
        for (i, v) in [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512].enumerated() {
            if v == 0 {
                features.append(MaxPool2D(kernel: 2, stride: 2, ceilMode: i == 9))
            } else {
                features.append(Conv2D(c, v, kernel: 3, padding: 1, initializer: .kaimingNormal(fanOut: true), rng: &rng))
                features.append(ReLU())
                c = v
            }
        }
        scaleWeight = Parameter(Tensor(shape: [512], repeating: 20))
        let fc = Sequential(
            MaxPool2D(kernel: 3, stride: 1, padding: 1),
            Conv2D(512, 1024, kernel: 3, padding: 6, dilation: 6, initializer: .xavierUniform(), rng: &rng), ReLU(),
            Conv2D(1024, 1024, kernel: 1, initializer: .xavierUniform(), rng: &rng), ReLU())
        let block0 = Sequential(MaxPool2D(kernel: 2, stride: 2))
        for _ in 0..<3 {
            block0.append(Conv2D(512, 512, kernel: 3, padding: 1, initializer: .kaimingNormal(fanOut: true), rng: &rng))
            block0.append(ReLU())
        }
        block0.append(fc)
        func extraBlock(_ cin: Int, _ mid: Int, _ cout: Int, stride: Int, padding: Int, rng: inout RandomSource) -> Sequential {
            Sequential(Conv2D(cin, mid, kernel: 1, initializer: .xavierUniform(), rng: &rng), ReLU(),
                       Conv2D(mid, cout, kernel: 3, stride: stride, padding: padding, initializer: .xavierUniform(), rng: &rng), ReLU())
        }
        extra = Sequential(block0, extraBlock(1024, 256, 512, stride: 2, padding: 1, rng: &rng),
                           extraBlock(512, 128, 256, stride: 2, padding: 1, rng: &rng),
                           extraBlock(256, 128, 256, stride: 1, padding: 0, rng: &rng),
                           extraBlock(256, 128, 256, stride: 1, padding: 0, rng: &rng))
        super.init()
        register("features", features)
        registerExisting("scale_weight", scaleWeight)
        register("extra", extra)
        for (name, p) in namedParameters() where name.hasSuffix(".bias") { p.value = Tensor.zeros(p.shape) }
    }

    public func featureMaps(_ x: Variable) -> [Variable] {
        var h = features(x)
        var maps = [l2Normalize(h) * scaleWeight.variable.reshaped([1, -1, 1, 1])]
        for block in extra.layers {
            h = block(h)
            maps.append(h)
        }
        return maps
    }
}

/// A light SSD backbone on MobileNet V2 (torchvision's layout under `features`): maps at strides 8, 16 and 32
/// (the outputs of features.6, features.13 and features.18) and two extra blocks (1×1 reduce, 3×3 depthwise
/// stride 2, 1×1 expand, each with batch norm and ReLU6) at strides 64 and 128. For a 128 input: 16, 8, 4, 2, 1.
public final class SSDMobileNetBackbone: Module, SSDBackbone {
    public let outChannels: [Int]
    let features: Sequential
    let extra: Sequential

    public init(width: Double = 1, rng: inout RandomSource) {
        let mobilenet = MobileNetV2(classes: 1, width: width, rng: &rng)
        features = mobilenet.features
        let c8 = makeDivisible(32 * width), c16 = makeDivisible(96 * width)
        let c32 = makeDivisible(1280 * max(1, width))
        func block(_ cin: Int, _ cout: Int, rng: inout RandomSource) -> Sequential {
            let mid = cout / 2
            return Sequential(
                Conv2D(cin, mid, kernel: 1, bias: false, initializer: .kaimingNormal(fanOut: true), rng: &rng), BatchNorm2D(mid), ReLU6(),
                Conv2D(mid, mid, kernel: 3, stride: 2, padding: 1, groups: mid, bias: false, initializer: .kaimingNormal(fanOut: true), rng: &rng),
                BatchNorm2D(mid), ReLU6(),
                Conv2D(mid, cout, kernel: 1, bias: false, initializer: .kaimingNormal(fanOut: true), rng: &rng), BatchNorm2D(cout), ReLU6())
        }
        extra = Sequential(block(c32, 512, rng: &rng), block(512, 256, rng: &rng))
        outChannels = [c8, c16, c32, 512, 256]
        super.init()
        register("features", features)
        register("extra", extra)
    }

    public func featureMaps(_ x: Variable) -> [Variable] { tappedFeatureMaps(x, features: features, taps: [6, 13, 18], extra: extra) }
}

/// A small VGG-style backbone for quick CPU training on small images (Kestrel's own, not from a paper): pairs of
/// 3×3 convolution–batch norm–ReLU at strides 2, 4, 8 and 16 (32, 64, 128, 256 channels × `width`; a stride-2
/// first convolution, then max-pooling between stages), maps at strides 8 and 16, and extra blocks (1×1 reduce,
/// 3×3 stride 2) down to 1×1. For a 128 input: 16, 8, 4, 2, 1. About 0.2 GMAC per 128×128 image at width 1,
/// all in dense convolutions (one GEMM each), where MobileNet's depthwise layers and many normalisations make a
/// CPU step slow for its FLOPs.
public final class SSDTinyBackbone: Module, SSDBackbone {
    public let outChannels: [Int]
    let features: Sequential
    let extra: Sequential

    public init(width: Double = 1, rng: inout RandomSource) {
        func ch(_ c: Int) -> Int { max(8, Int((Double(c) * width).rounded())) }
        func convBNReLU(_ cin: Int, _ cout: Int, kernel: Int = 3, stride: Int = 1, rng: inout RandomSource) -> Sequential {
            Sequential(Conv2D(cin, cout, kernel: kernel, stride: stride, padding: (kernel - 1) / 2, bias: false,
                              initializer: .kaimingNormal(fanOut: true), rng: &rng), BatchNorm2D(cout), ReLU())
        }
        let (c1, c2, c3, c4) = (ch(32), ch(64), ch(128), ch(256))
        features = Sequential(
            convBNReLU(3, c1 / 2, stride: 2, rng: &rng), convBNReLU(c1 / 2, c1, rng: &rng), MaxPool2D(kernel: 2),
            convBNReLU(c1, c2, rng: &rng), convBNReLU(c2, c2, rng: &rng), MaxPool2D(kernel: 2),
            convBNReLU(c2, c3, rng: &rng), convBNReLU(c3, c3, rng: &rng),  // index 7: stride 8
            MaxPool2D(kernel: 2), convBNReLU(c3, c4, rng: &rng), convBNReLU(c4, c4, rng: &rng))  // index 10: stride 16
        extra = Sequential([])
        for _ in 0..<3 {
            extra.append(Sequential(convBNReLU(c4, c4 / 2, kernel: 1, rng: &rng), convBNReLU(c4 / 2, c4, stride: 2, rng: &rng)))
        }
        outChannels = [c3, c4, c4, c4, c4]
        super.init()
        register("features", features)
        register("extra", extra)
    }

    public func featureMaps(_ x: Variable) -> [Variable] { tappedFeatureMaps(x, features: features, taps: [7, 10], extra: extra) }
}

/// The detectors `kestrel train --task detect` can build.
public enum DetectorZoo {
    public static let names = ["ssd300_vgg16", "ssd_mobilenet", "ssd_tiny"]

    /// Default input size of each detector.
    public static func defaultInputSize(_ name: String) -> Int {
        switch name {
        case "ssd300_vgg16": 300
        case "ssd_tiny": 128
        default: 320
        }
    }

    public static func make(_ name: String, classes: Int, inputSize: Int? = nil, width: Double = 1, seed: UInt64 = 0)
        throws(ModelError) -> SSD
    {
        guard classes >= 1 else { throw ModelError("a detector needs at least one class") }
        var rng = RandomSource(seed: seed)
        switch name {
        case "ssd300_vgg16":
            let size = inputSize ?? 300
            guard size == 300 else { throw ModelError("ssd300_vgg16 takes 300x300 inputs (its feature maps and default boxes are SSD300's)") }
            return SSD(backbone: SSDVGG16Backbone(rng: &rng), classes: classes, inputSize: 300,
                       aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]], boxConfig: .ssd300, rng: &rng)
        case "ssd_mobilenet":
            let size = inputSize ?? 320
            guard size >= 64, size % 32 == 0 else { throw ModelError("ssd_mobilenet needs an input side that is a multiple of 32, at least 64") }
            return SSD(backbone: SSDMobileNetBackbone(width: width, rng: &rng), classes: classes, inputSize: size,
                       aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2]], rng: &rng)
        case "ssd_tiny":
            let size = inputSize ?? 128
            guard size >= 64, size % 32 == 0 else { throw ModelError("ssd_tiny needs an input side that is a multiple of 32, at least 64") }
            return SSD(backbone: SSDTinyBackbone(width: width, rng: &rng), classes: classes, inputSize: size,
                       aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2]], rng: &rng)
        default:
            throw ModelError("unknown detector '\(name)'; known: \(names.joined(separator: ", "))")
        }
    }
}

/// The maps of a backbone built as `features` then `extra` blocks: the outputs of the `features` layers at
/// `taps` (ascending indices), then the output of every extra block, in order.
func tappedFeatureMaps(_ x: Variable, features: Sequential, taps: [Int], extra: Sequential) -> [Variable] {
    var h = x
    var maps: [Variable] = []
    for (i, layer) in features.layers.enumerated() {
        h = layer(h)
        if taps.contains(i) { maps.append(h) }
    }
    for block in extra.layers {
        h = block(h)
        maps.append(h)
    }
    return maps
}
