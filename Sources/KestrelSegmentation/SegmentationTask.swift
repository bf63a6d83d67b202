import Foundation
import KestrelAugment
import KestrelData
import KestrelFiles
import KestrelImage
import KestrelMetrics
import KestrelModels
import KestrelTraining

extension SegmentationLoader: EpochBatches {
    public func next() throws(TrainingError) -> SegmentationBatch? {
        do { return try nextBatch() } catch { throw TrainingError(error.message, path: error.path) }
    }
}

/// Semantic segmentation for the generic ``Trainer``: per-pixel cross-entropy over logits `[N, classes, H, W]`
/// (pixels labelled 255 ignored, optional class weights); validation from one confusion matrix over the whole
/// validation set (the FCN paper's pixel accuracy, mean class accuracy, mean IoU and frequency-weighted IoU),
/// the best epoch chosen by mean IoU, whose per-class report goes to `segmentation.json`.
///
/// Training images are prepared by ``SegmentationPreparations`` (augmentation, then resizing to the input
/// size); validation images are resized to the input size, and their scores bilinearly resized back to the
/// mask's own size, so the metrics are measured on the original label maps.
public final class SegmentationTask: TrainingTask {
    public let config: TrainingConfig
    public let segmenter: any Segmenter
    public let train: SegmentationDataset
    public let validation: SegmentationDataset
    let prepareTrain: SegmentationPreparation
    let prepareEval: SegmentationPreparation
    let workers: Int
    let skipUnreadable: Bool
    private var lastConfusion: SegmentationConfusion?

    public init(config: TrainingConfig, train: SegmentationDataset, validation: SegmentationDataset, workers: Int = 1,
                skipUnreadable: Bool = false) throws(TrainingError) {
        guard let settings = config.segmentation else { throw TrainingError("the run's config has no segmentation settings") }
        if let w = settings.classWeights {
            guard w.count == config.classes.count, w.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw TrainingError("need \(config.classes.count) non-negative class weights, got \(w.count)")
            }
        }
        self.config = config
        self.train = train
        self.validation = validation
        self.workers = workers
        self.skipUnreadable = skipUnreadable
        (prepareTrain, prepareEval) = try SegmentationPreparations.make(config)
        do {
            segmenter = try SegmentationZoo.make(config.model, classes: config.classes.count, inputChannels: config.normalization.channels,
                                                 seed: config.seed)
        } catch { throw TrainingError(error.message) }
    }

    public var model: Module { segmenter }
    public var trainCount: Int { train.count }

    public func batches(epoch: Int, startBatch: Int) -> any EpochBatches<SegmentationBatch> {
        SegmentationLoader(dataset: train, batchSize: config.batchSize, normalization: config.normalization, shuffle: true,
                           seed: config.seed, epoch: epoch, startBatch: startBatch, workers: workers,
                           skipUnreadable: skipUnreadable, prepare: prepareTrain)
    }

    var lossOptions: CrossEntropyOptions {
        CrossEntropyOptions(classWeights: config.segmentation?.classWeights, ignoreIndex: Int(SegmentationDataset.ignoreLabel))
    }

    /// Loss and pixel accuracy over the labelled pixels; the accuracy is reported per image (`samples` are
    /// images), so the epoch's `train_pixel_accuracy` is the mean of the batches' accuracies weighted by images.
    public func step(_ batch: SegmentationBatch) throws(TrainingError) -> StepResult {
        guard !batch.masks.isEmpty else { return StepResult(loss: Variable(Tensor(0)), samples: 0, skipped: batch.skipped) }
        let targets = batch.targets
        let logits = segmenter(Variable(batch.images))
        let loss = crossEntropyLoss(logits, targets: targets, options: lossOptions)
        var correct = 0, labelled = 0
        for (n, mask) in batch.masks.enumerated() {
            let predicted = LabelMaps.argmax(logits.value, sample: n)
            for (t, p) in zip(mask.pixels, predicted.pixels) where t != SegmentationDataset.ignoreLabel {
                labelled += 1
                if t == p { correct += 1 }
            }
        }
        let accuracy = labelled > 0 ? Double(correct) / Double(labelled) : 0
        return StepResult(loss: loss, samples: batch.masks.count, sums: ["pixel_accuracy": accuracy * Double(batch.masks.count)],
                          skipped: batch.skipped)
    }

    public func validate() throws(TrainingError) -> Validation? {
        guard validation.count > 0 else { return nil }
        let (loss, m) = try SegmentationTask.evaluate(model: segmenter, data: validation, normalization: config.normalization,
                                                      batchSize: config.batchSize, lossOptions: lossOptions, workers: workers,
                                                      skipUnreadable: skipUnreadable, prepare: prepareEval)
        lastConfusion = m
        return Validation(score: m.meanIoU, metrics: ["loss": loss, "pixel_accuracy": m.pixelAccuracy,
                                                      "mean_class_accuracy": m.meanClassAccuracy, "miou": m.meanIoU,
                                                      "fwiou": m.frequencyWeightedIoU])
    }

    public func writeBestArtifacts(epoch: Int, to directory: String) throws(TrainingError) {
        guard let m = lastConfusion else { return }
        try writeSegmentationReport(SegmentationReport(classes: config.classes, matrix: m, epoch: epoch), to: directory + "/segmentation.json")
    }

    /// Mean loss and the confusion matrix of a segmenter (put in evaluation mode) over a dataset. The loss is
    /// measured at the model's input size (masks resized by nearest neighbour); the confusion matrix on each
    /// mask's own size (scores bilinearly resized, then argmax).
    public static func evaluate(model: any Segmenter, data: SegmentationDataset, normalization: ImageNormalization,
                                batchSize: Int, lossOptions: CrossEntropyOptions = CrossEntropyOptions(ignoreIndex: 255),
                                workers: Int = 1, skipUnreadable: Bool = false,
                                prepare: @escaping SegmentationPreparation) throws(TrainingError) -> (loss: Double, confusion: SegmentationConfusion) {
        model.eval()
        let loader = SegmentationLoader(dataset: data, batchSize: batchSize, normalization: normalization, shuffle: false,
                                        seed: 0, epoch: 0, workers: workers, skipUnreadable: skipUnreadable, prepare: prepare)
        var matrix = SegmentationConfusion(classes: model.classes)
        var lossSum = 0.0, lossImages = 0
        while let batch = try loader.next() {
            guard !batch.masks.isEmpty else { continue }
            let logits = GradMode.withoutGradients { model(Variable(batch.images)) }
            var targets: [Int] = []
            for (n, mask) in batch.masks.enumerated() {
                let predicted = LabelMaps.resizedArgmax(logits.value, sample: n, height: mask.height, width: mask.width)
                matrix.add(truth: mask.pixels, prediction: predicted.pixels)
                targets += LabelMaps.resizedNearest(mask, width: normalization.width, height: normalization.height).pixels.map { Int($0) }
            }
            lossSum += Double(crossEntropyLoss(logits, targets: targets, options: lossOptions).value.item) * Double(batch.masks.count)
            lossImages += batch.masks.count
        }
        return (lossImages > 0 ? lossSum / Double(lossImages) : 0, matrix)
    }
}

/// How images and label maps become model input for a segmentation run.
public enum SegmentationPreparations {
    /// (training, evaluation) preparations for `config`. Training: a random horizontal flip when the config
    /// asks for one, then the config's augmentation pipeline, then a resize to the input size if the result has
    /// another size (image bilinear, mask nearest). Evaluation: the image resized to the input size, the mask
    /// kept as it is.
    public static func make(_ config: TrainingConfig) throws(TrainingError) -> (train: SegmentationPreparation, eval: SegmentationPreparation) {
        let n = config.normalization
        var steps: [any Augmentation] = []
        do {
            if config.horizontalFlip { steps.append(try RandomApply(HorizontalFlip(), p: 0.5)) }
            if let text = config.segmentation?.augmentation {
                let p = try Pipeline(json: text, file: "augmentation pipeline")
                steps.append(p.root)
            }
        } catch { throw TrainingError("\(error)") }
        let pipeline = Pipeline(steps)
        let augments = !steps.isEmpty
        let resize: Resize
        do { resize = try Resize(width: n.width, height: n.height, interpolation: .bilinear) } catch { throw TrainingError("\(error)") }
        let train: SegmentationPreparation = { image, mask, seed, index in
            var s = try Sample(image: image, mask: mask)
            if augments { s = try pipeline.augment(s, seed: seed, index: index) }
            if s.image.width != n.width || s.image.height != n.height { s = try resize(s) }
            return (s.image, s.mask!)
        }
        let eval: SegmentationPreparation = { image, mask, _, _ in
            guard image.width != n.width || image.height != n.height else { return (image, mask) }
            return (try resize(try Sample(image: image)).image, mask)
        }
        return (train, eval)
    }
}

/// `segmentation.json`: the validation report of the best epoch.
public struct SegmentationReport: Codable, Sendable {
    public struct ClassRow: Codable, Sendable {
        public var name: String
        /// Nil when the class has an empty union (never in the ground truth, never predicted).
        public var iou: Double?
        /// Nil when the class never occurs in the ground truth.
        public var accuracy: Double?
        /// Ground-truth pixels.
        public var pixels: Int
    }

    public var epoch: Int
    public var pixelAccuracy: Double
    public var meanClassAccuracy: Double
    public var meanIoU: Double
    public var frequencyWeightedIoU: Double
    public var perClass: [ClassRow]
    /// `confusion[truth][prediction]` in pixels.
    public var confusion: [[Int]]

    public init(classes: [String], matrix m: SegmentationConfusion, epoch: Int) {
        self.epoch = epoch
        pixelAccuracy = m.pixelAccuracy
        meanClassAccuracy = m.meanClassAccuracy
        meanIoU = m.meanIoU
        frequencyWeightedIoU = m.frequencyWeightedIoU
        let iou = m.iou, acc = m.classAccuracy
        perClass = classes.indices.map { ClassRow(name: classes[$0], iou: iou[$0], accuracy: acc[$0], pixels: m.counts[$0].reduce(0, +)) }
        confusion = m.counts
    }
}

func writeSegmentationReport(_ report: SegmentationReport, to path: String) throws(TrainingError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        let data = try encoder.encode(report)
        try Files.writeAtomically(Array(data) + [10], to: path)
    } catch let e as FileError {
        throw TrainingError(e.message, path: path)
    } catch {
        throw TrainingError("cannot encode: \(error)", path: path)
    }
}

extension Trainer where Task == SegmentationTask {
    /// A segmentation run (the config must have ``TrainingConfig/segmentation`` set).
    public convenience init(config: TrainingConfig, train: SegmentationDataset, validation: SegmentationDataset,
                            runDirectory: String, workers: Int = 1, skipUnreadable: Bool = false) throws(TrainingError) {
        try config.validate()
        let task = try SegmentationTask(config: config, train: train, validation: validation, workers: workers,
                                        skipUnreadable: skipUnreadable)
        try self.init(task: task, config: config, runDirectory: runDirectory)
    }
}

/// Trains a semantic segmentation model (see ``Trainer`` and ``SegmentationTask``).
public typealias SegmentationTrainer = Trainer<SegmentationTask>
