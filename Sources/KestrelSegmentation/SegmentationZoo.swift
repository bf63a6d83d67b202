import KestrelModels

/// Every segmentation model Kestrel builds by name, so the three up-sampling ideas can be compared on one task:
/// learnt/bilinear transposed convolutions with skip fusion (FCN), max-unpooling with the encoder's pooling
/// indices (SegNet), and dilated convolutions that never go below stride 8.
public enum SegmentationZoo {
    /// What the zoo knows about one architecture.
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
    }

    public static let entries: [Entry] = [
        Entry(name: "fcn32s_vgg", summary: "FCN-32s over VGG-16 as the reference (pad 100, crop 19), frozen bilinear x32"),
        Entry(name: "fcn16s_vgg", summary: "FCN-16s over VGG-16: + pool4 skip (crop 5), frozen bilinear x2, x16 (crop 27)"),
        Entry(name: "fcn8s_vgg", summary: "FCN-8s over VGG-16: + pool3 skip (crop 9), frozen bilinear x2, x2, x8 (crop 31)"),
        Entry(name: "fcn8s_resnet18", summary: "FCN-8s head on ResNet-18 (strides 8/16/32), learnable bilinear-initialised upsampling"),
        Entry(name: "fcn2s_small", summary: "FCN head fusing strides 32 to 2 on a small VGG-style backbone (32-256 channels): fine masks at CPU speed"),
        Entry(name: "fcn8s_mobilenet", summary: "FCN-8s head on MobileNet V2 (features 6/13/18), learnable bilinear-initialised upsampling"),
        Entry(name: "dilated_resnet18", summary: "ResNet-18 with dilations 2 and 4 (stride 8 throughout), scores summed, one x8 upsampling"),
        Entry(name: "segnet_vgg16", summary: "SegNet: VGG-16 encoder with batch norm, decoder max-unpools with the pooling indices"),
        Entry(name: "segnet_small", summary: "SegNet with a 4-block encoder of widths 32/64/128/256 (2 convolutions each)"),
    ]

    public static var names: [String] { entries.map(\.name) }

    public static func contains(_ name: String) -> Bool { names.contains(name) }

    public static func entry(_ name: String) throws(ModelError) -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw ModelError("unknown segmentation model '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return e
    }

    /// A freshly initialised model with `classes` output maps (class 0 included); initialisation draws from
    /// `seed`. Input `[N, inputChannels, H, W]` → logits `[N, classes, H, W]`.
    public static func make(_ name: String, classes: Int, inputChannels: Int = 3, seed: UInt64 = 0) throws(ModelError) -> any Segmenter {
        _ = try entry(name)
        guard classes >= 2 else { throw ModelError("a segmentation model needs at least 2 classes, got \(classes)") }
        guard inputChannels >= 1 else { throw ModelError("input channels must be positive") }
        var rng = RandomSource(seed: seed)
        switch name {
        case "fcn32s_vgg": return FCNVGG(.fcn32s, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "fcn16s_vgg": return FCNVGG(.fcn16s, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "fcn8s_vgg": return FCNVGG(.fcn8s, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "fcn8s_resnet18":
            return FCNHeadModel(backbone: ResNetSegmentationBackbone(dilated: false, inputChannels: inputChannels, rng: &rng),
                                classes: classes, rng: &rng)
        case "fcn2s_small":
            return FCNHeadModel(backbone: SmallSegmentationBackbone(inputChannels: inputChannels, rng: &rng), classes: classes, rng: &rng)
        case "fcn8s_mobilenet":
            return FCNHeadModel(backbone: MobileNetSegmentationBackbone(inputChannels: inputChannels, rng: &rng), classes: classes, rng: &rng)
        case "dilated_resnet18":
            return FCNHeadModel(backbone: ResNetSegmentationBackbone(dilated: true, inputChannels: inputChannels, rng: &rng),
                                classes: classes, dilated: true, rng: &rng)
        case "segnet_vgg16": return SegNet(blocks: SegNet.vgg16Blocks, classes: classes, inputChannels: inputChannels, rng: &rng)
        default: return SegNet(blocks: [[32, 32], [64, 64], [128, 128], [256, 256]], classes: classes, inputChannels: inputChannels, rng: &rng)
        }
    }
}
