/// The part of a ``TrainingConfig`` only semantic segmentation runs have. The model's input size is the
/// config's normalisation size; class names are the config's `classes` (label value i is class i, 255 ignored).
public struct SegmentationSettings: Sendable, Codable, Equatable {
    /// Per-class weights of the pixel cross-entropy `[classes]` (nil: all 1). The loss is the weighted mean over
    /// the pixels not labelled 255 (PyTorch's `weight` and `ignore_index=255`).
    public var classWeights: [Float]?
    /// Training augmentation: the JSON of a KestrelAugment pipeline file, kept verbatim so a resumed or
    /// reproduced run augments identically (nil: none). Masks move with the pixels (nearest, fill 255).
    public var augmentation: String?

    public init(classWeights: [Float]? = nil, augmentation: String? = nil) {
        self.classWeights = classWeights
        self.augmentation = augmentation
    }
}
