import KestrelModels

/// A segmentation model: images `[N, C, H, W]` → per-pixel class scores `[N, classes, H, W]` (logits, the input's
/// own size).
public protocol Segmenter: Module {
    var classes: Int { get }
}

/// FCN over VGG-16 exactly as the reference (Long, Shelhamer & Darrell; fcn.berkeleyvision.org `voc-fcn*s`):
/// conv1_1 pads the input by 100 so any size survives the five ceil-mode poolings and the 7×7 fc6; fc6/fc7 are
/// convolutions with 4096 channels and dropout; `score_fr` scores classes at stride 32. FCN-32s upsamples by 32
/// (kernel 64) and crops at offset 19; FCN-16s fuses pool4 (score_pool4 cropped at 5) after a ×2 upsampling,
/// then ×16 (kernel 32) and crops at 27; FCN-8s also fuses pool3 (cropped at 9), then ×8 (kernel 16) and crops
/// at 31. The offsets are derived at construction with Caffe's coordinate-map rule (``CoordinateMap``) and equal
/// the reference's. Upsampling weights start bilinear and are frozen, as in the released nets
/// (`learnableUpsampling` trains them). Keys are the reference's layer names (`conv1_1`, `fc6`, `score_pool4`, …).
public final class FCNVGG: Module, Segmenter {
    public enum Variant: Int, Sendable { case fcn32s = 32, fcn16s = 16, fcn8s = 8 }
    public let classes: Int
    public let variant: Variant
    var convs: [(String, Conv2D)] = []
    let fc6: Conv2D, fc7: Conv2D, scoreFr: Conv2D
    let scorePool4: Conv2D?, scorePool3: Conv2D?
    let upscore2: BilinearUpsample?, upscorePool4: BilinearUpsample?, upscoreFinal: BilinearUpsample
    let drop6: Dropout, drop7: Dropout
    /// Crop offsets, derived from the coordinate maps: (score_pool4, score_pool3, final).
    public let offsets: (pool4: Int?, pool3: Int?, final: Int)

    static let blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]

    /// The reference's crop offsets, derived with Caffe's coordinate maps through the network's layers:
    /// (score_pool4, score_pool3, final); nil where the variant has no such skip.
    public static func referenceOffsets(_ variant: Variant) -> (pool4: Int?, pool3: Int?, final: Int) {
        var map = CoordinateMap.identity
        var poolMaps: [CoordinateMap] = []
        for (b, widths) in blocks.enumerated() {
            for i in widths.indices { map = map.conv(kernel: 3, stride: 1, padding: b == 0 && i == 0 ? 100 : 1) }
            map = map.conv(kernel: 2, stride: 2, padding: 0)
            poolMaps.append(map)
        }
        var score = poolMaps[4].conv(kernel: 7, stride: 1, padding: 0)  // fc6; fc7 and score_fr are 1×1
        switch variant {
        case .fcn32s:
            return (nil, nil, score.deconv(kernel: 64, stride: 32, padding: 0).cropOffset(to: .identity)!)
        case .fcn16s:
            score = score.deconv(kernel: 4, stride: 2, padding: 0)
            let p4 = poolMaps[3].cropOffset(to: score)
            return (p4, nil, score.deconv(kernel: 32, stride: 16, padding: 0).cropOffset(to: .identity)!)
        case .fcn8s:
            score = score.deconv(kernel: 4, stride: 2, padding: 0)
            let p4 = poolMaps[3].cropOffset(to: score)
            score = score.deconv(kernel: 4, stride: 2, padding: 0)
            let p3 = poolMaps[2].cropOffset(to: score)
            return (p4, p3, score.deconv(kernel: 16, stride: 8, padding: 0).cropOffset(to: .identity)!)
        }
    }

    public init(_ variant: Variant, classes: Int, inputChannels: Int = 3, learnableUpsampling: Bool = false, rng: inout RandomSource) {
        self.classes = classes
        self.variant = variant
        var c = inputChannels
        for (b, widths) in FCNVGG.blocks.enumerated() {
            for (i, v) in widths.enumerated() {
                let pad = b == 0 && i == 0 ? 100 : 1
                convs.append(("conv\(b + 1)_\(i + 1)", Conv2D(c, v, kernel: 3, padding: pad, initializer: .kaimingNormal(fanOut: true), rng: &rng)))
                c = v
            }
        }
        fc6 = Conv2D(512, 4096, kernel: 7, initializer: .kaimingNormal(fanOut: true), rng: &rng)
        fc7 = Conv2D(4096, 4096, kernel: 1, initializer: .kaimingNormal(fanOut: true), rng: &rng)
        drop6 = Dropout(0.5, seed: 6)
        drop7 = Dropout(0.5, seed: 7)
        scoreFr = Conv2D(4096, classes, kernel: 1, initializer: .zeros, rng: &rng)
        switch variant {
        case .fcn32s:
            scorePool4 = nil
            scorePool3 = nil
            upscore2 = nil
            upscorePool4 = nil
            upscoreFinal = BilinearUpsample(channels: classes, factor: 32, alignment: .reference, learnable: learnableUpsampling)
        case .fcn16s, .fcn8s:
            scorePool4 = Conv2D(512, classes, kernel: 1, initializer: .zeros, rng: &rng)
            upscore2 = BilinearUpsample(channels: classes, factor: 2, alignment: .reference, learnable: learnableUpsampling)
            if variant == .fcn8s {
                scorePool3 = Conv2D(256, classes, kernel: 1, initializer: .zeros, rng: &rng)
                upscorePool4 = BilinearUpsample(channels: classes, factor: 2, alignment: .reference, learnable: learnableUpsampling)
                upscoreFinal = BilinearUpsample(channels: classes, factor: 8, alignment: .reference, learnable: learnableUpsampling)
            } else {
                scorePool3 = nil
                upscorePool4 = nil
                upscoreFinal = BilinearUpsample(channels: classes, factor: 16, alignment: .reference, learnable: learnableUpsampling)
            }
        }
        offsets = FCNVGG.referenceOffsets(variant)
        super.init()
        for (name, conv) in convs { register(name, conv) }
        register("fc6", fc6)
        register("fc7", fc7)
        register("score_fr", scoreFr)
        if let upscore2 { register("upscore2", upscore2) }
        if let scorePool4 { register("score_pool4", scorePool4) }
        if let upscorePool4 { register("upscore_pool4", upscorePool4) }
        if let scorePool3 { register("score_pool3", scorePool3) }
        register(variant == .fcn32s ? "upscore" : variant == .fcn16s ? "upscore16" : "upscore8", upscoreFinal)
        register("drop6", drop6)
        register("drop7", drop7)
    }

    public override func forward(_ x: Variable) -> Variable {
        let (h, w) = (x.shape[2], x.shape[3])
        var t = x
        var pools: [Variable] = []
        var k = 0
        for widths in FCNVGG.blocks {
            for _ in widths {
                t = convs[k].1(t).relu()
                k += 1
            }
            t = maxPool2d(t, geometry: ConvGeometry(kernel: 2, stride: 2), ceilMode: true).output
            pools.append(t)
        }
        t = drop7(fc7(drop6(fc6(t).relu())).relu())
        var score = scoreFr(t)
        if let upscore2, let scorePool4 {
            score = upscore2(score)
            score = score + crop(scorePool4(pools[3]), offsets.pool4!, score.shape[2], score.shape[3])
            if let upscorePool4, let scorePool3 {
                score = upscorePool4(score)
                score = score + crop(scorePool3(pools[2]), offsets.pool3!, score.shape[2], score.shape[3])
            }
        }
        return crop(upscoreFinal(score), offsets.final, h, w)
    }
}

/// The feature maps a same-padded backbone gives an FCN head: strides 8, 16 and 32 (all 8 for dilated ones).
public protocol SegmentationBackbone: Module {
    /// Channels of the maps ``taps(_:)`` returns, finest first.
    var tapChannels: [Int] { get }
    /// Their strides, finest first, each twice the one before; for a dilated backbone, the strides the maps would
    /// have without dilation (they name the head's layers: `score8`, `up16`, …).
    var tapStrides: [Int] { get }
    /// The feature maps, finest first.
    func taps(_ x: Variable) -> [Variable]
}

/// ResNet-18 (torchvision layout under `backbone`) as a segmentation backbone: layer2, layer3, layer4.
public final class ResNetSegmentationBackbone: Module, SegmentationBackbone {
    let resnet: ResNet
    public let tapChannels = [128, 256, 512]
    public let tapStrides = [8, 16, 32]
    public let dilated: Bool

    public init(dilated: Bool, inputChannels: Int = 3, rng: inout RandomSource) {
        resnet = ResNet(.resnet18, classes: 1, inputChannels: inputChannels, dilated: dilated, rng: &rng)
        self.dilated = dilated
        super.init()
        register("conv1", resnet.conv1)
        register("bn1", resnet.bn1)
        for (i, l) in resnet.layers.enumerated() { register("layer\(i + 1)", l) }
    }

    public func taps(_ x: Variable) -> [Variable] {
        var h = resnet.bn1(resnet.conv1(x)).relu()
        h = maxPool2d(h, geometry: ConvGeometry(kernel: 3, stride: 2, padding: 1)).output
        var out: [Variable] = []
        for (i, l) in resnet.layers.enumerated() {
            h = l(h)
            if i >= 1 { out.append(h) }
        }
        return out
    }
}

/// MobileNet V2 (torchvision layout under `backbone.features`) as a segmentation backbone: the outputs of
/// features.6, features.13 and features.18.
public final class MobileNetSegmentationBackbone: Module, SegmentationBackbone {
    let features: Sequential
    public let tapChannels: [Int]
    public let tapStrides = [8, 16, 32]

    public init(width: Double = 1, inputChannels: Int = 3, rng: inout RandomSource) {
        features = MobileNetV2(classes: 1, width: width, inputChannels: inputChannels, rng: &rng).features
        func divisible(_ v: Double) -> Int {
            var n = max(8, Int(v + 4) / 8 * 8)
            if Double(n) < 0.9 * v { n += 8 }
            return n
        }
        tapChannels = [divisible(32 * width), divisible(96 * width), divisible(1280 * max(1, width))]
        super.init()
        register("features", features)
    }

    public func taps(_ x: Variable) -> [Variable] {
        var h = x
        var out: [Variable] = []
        for (i, layer) in features.layers.enumerated() {
            h = layer(h)
            if i == 6 || i == 13 || i == 18 { out.append(h) }
        }
        return out
    }
}

/// A small VGG-style backbone for fine masks at CPU speed: five stages of two 3×3 convolution–batch norm–ReLU
/// layers, the first of each with stride 2 (no pooling), 32/64/128/256/256 channels × `width`, tapped after
/// every stage (strides 2, 4, 8, 16, 32). Every convolution is odd-sized and same-padded, so a stride-s cell i
/// is centred on input pixel s·i, the alignment the head's `.lattice` upsampling assumes.
/// Keys: `stage1.0.0.weight` (conv), `stage1.0.1.*` (batch norm), … `stage5.1.*`.
public final class SmallSegmentationBackbone: Module, SegmentationBackbone {
    let stages: [Sequential]
    public let tapChannels: [Int]
    public let tapStrides = [2, 4, 8, 16, 32]

    public init(width: Double = 1, inputChannels: Int = 3, rng: inout RandomSource) {
        func ch(_ c: Int) -> Int { max(8, Int((Double(c) * width).rounded())) }
        func convBNReLU(_ cin: Int, _ cout: Int, stride: Int, rng: inout RandomSource) -> Sequential {
            Sequential(Conv2D(cin, cout, kernel: 3, stride: stride, padding: 1, bias: false,
                              initializer: .kaimingNormal(fanOut: true), rng: &rng), BatchNorm2D(cout), ReLU())
        }
        let widths = [32, 64, 128, 256, 256].map(ch)
        var stages: [Sequential] = []
        var cin = inputChannels
        for (i, c) in widths.enumerated() {
            // The first stage reaches its width in two steps (half, then full): a full-width stride-2 convolution
            // on 3 channels would be mostly wasted work.
            let first = i == 0 ? max(8, c / 2) : c
            stages.append(Sequential(convBNReLU(cin, first, stride: 2, rng: &rng), convBNReLU(first, c, stride: 1, rng: &rng)))
            cin = c
        }
        self.stages = stages
        tapChannels = widths
        super.init()
        for (i, stage) in stages.enumerated() { register("stage\(i + 1)", stage) }
    }

    public func taps(_ x: Variable) -> [Variable] {
        var h = x
        return stages.map { stage in
            h = stage(h)
            return h
        }
    }
}

/// The FCN head on a same-padded backbone: a 1×1 class-score layer on each tapped map, fused from the coarsest
/// to the finest by ×2 upsampling and addition, then upsampled to the input by the finest map's stride —
/// FCN-8s on ResNet-18 and MobileNet V2 (strides 8/16/32), FCN-2s on the small backbone (strides 2 … 32).
/// Upsampling uses the `.lattice` alignment (kernel 2f − 1, stride f, padding and output padding f − 1, bilinear
/// start, learnable): with these backbones a stride-s cell i sits on input pixel s·i, so every sum adds aligned
/// cells and the final crop starts at (0, 0). The coarsest score layer starts from He initialisation, the
/// others from zeros (as the reference's skips), so training starts from the coarse prediction. With a dilated
/// backbone (all maps at the finest stride) the skips are plain additions and only the final upsampling remains.
/// Keys: `backbone.*`, `score<stride>` per tap, `up<stride>` per ×2 upsampling (named by the map it starts
/// from), and `up<finest stride>` for the last: `score32`, `score16`, `score8`, `up32`, `up16`, `up8` for FCN-8s.
public final class FCNHeadModel: Module, Segmenter {
    public let classes: Int
    public let backbone: any SegmentationBackbone
    /// Score layers, finest first.
    let scores: [Conv2D]
    /// `ups[i]` upsamples the fused scores of tap i + 1 to tap i's grid (empty when dilated).
    let ups: [BilinearUpsample]
    let final: BilinearUpsample
    let dilated: Bool

    public init(backbone: any SegmentationBackbone, classes: Int, dilated: Bool = false, rng: inout RandomSource) {
        self.classes = classes
        self.backbone = backbone
        self.dilated = dilated
        let (channels, strides) = (backbone.tapChannels, backbone.tapStrides)
        precondition(channels.count == strides.count && !strides.isEmpty, "a backbone needs as many tap strides as channels")
        // Built coarsest first, as the three-tap head always was (so its initialisation is unchanged).
        var scores: [Conv2D] = []
        for i in channels.indices.reversed() {
            scores.insert(Conv2D(channels[i], classes, kernel: 1, initializer: i == channels.count - 1 ? .kaimingNormal() : .zeros,
                                 rng: &rng), at: 0)
        }
        self.scores = scores
        ups = dilated ? [] : strides.indices.dropLast().map { i in
            BilinearUpsample(channels: classes, factor: strides[i + 1] / strides[i], alignment: .lattice, learnable: true)
        }
        final = BilinearUpsample(channels: classes, factor: strides[0], alignment: .lattice, learnable: true)
        super.init()
        register("backbone", backbone)
        for i in scores.indices.reversed() { register("score\(strides[i])", scores[i]) }
        for i in ups.indices.reversed() { register("up\(strides[i + 1])", ups[i]) }
        register("up\(strides[0])", final)
    }

    public override func forward(_ x: Variable) -> Variable {
        let (h, w) = (x.shape[2], x.shape[3])
        let t = backbone.taps(x)
        let last = t.count - 1
        var s = scores[last](t[last])
        for i in stride(from: last - 1, through: 0, by: -1) {
            let skip = scores[i](t[i])
            if dilated {
                s = s + skip
            } else {
                s = ups[i](s)
                s = crop(s, 0, skip.shape[2], skip.shape[3]) + skip
            }
        }
        return crop(final(s), 0, h, w)
    }
}

/// `x[:, :, o ..< o + h, o ..< o + w]`.
func crop(_ x: Variable, _ offset: Int, _ h: Int, _ w: Int) -> Variable {
    precondition(offset + h <= x.shape[2] && offset + w <= x.shape[3],
                 "cannot crop \(h)x\(w) at \(offset) from \(x.shape[2])x\(x.shape[3])")
    if offset == 0 && h == x.shape[2] && w == x.shape[3] { return x }
    return x.slice(alongAxis: 2, offset..<(offset + h)).slice(alongAxis: 3, offset..<(offset + w))
}
