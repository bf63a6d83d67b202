import Foundation
import KestrelAnnotations
import KestrelAugment
import KestrelData
import KestrelGeometry
import KestrelImage
import KestrelMetrics
import KestrelTraining

/// A batch for SSD: inputs `[N, 3, S, S]`, the multibox targets, and which items it holds.
public struct DetectionBatch: Sendable {
    public let images: Tensor
    public let targets: MultiBoxTargets
    public let items: [Int]
}

/// Training-time augmentation for SSD, as torchvision's detection reference presets
/// (`references/detection/presets.py`). Boxes move with the pixels; boxes smaller than 2 pixels² after a crop
/// are dropped.
public enum DetectionAugmentation: String, Sendable, CaseIterable, Codable {
    /// The SSD paper's (§2.2): photometric distortion (brightness, contrast, saturation, hue, each with
    /// probability ½), zoom-out (expand up to 4×, probability ½), the minimum-IoU random crop, horizontal flip.
    /// torchvision trains `ssd300_vgg16` with it.
    case ssd
    /// torchvision's `ssdlite` preset: the minimum-IoU random crop and horizontal flip only. Zoom-out makes
    /// objects up to 4× smaller, which small inputs (128 px) cannot resolve.
    case ssdlite
    /// No augmentation.
    case none

    /// The preset torchvision uses for a detector: `ssd` for ssd300_vgg16, `ssdlite` for the light ones.
    public static func preset(for model: String) -> DetectionAugmentation { model == "ssd300_vgg16" ? .ssd : .ssdlite }

    /// The pipeline (nil for `none`).
    public func pipeline() throws(AugmentError) -> Pipeline? {
        let crop: [any Augmentation] = [try IoURandomCrop(), try RandomApply(HorizontalFlip(), p: 0.5)]
        let policy = BoxPolicy(minVisibility: 0, minArea: 2)
        switch self {
        case .none:
            return nil
        case .ssdlite:
            return Pipeline(crop, boxPolicy: policy)
        case .ssd:
            return Pipeline([
                try RandomApply(try Brightness(factor: 0.875...1.125), p: 0.5),
                try RandomApply(try Contrast(factor: 0.5...1.5), p: 0.5),
                try RandomApply(try Saturation(factor: 0.5...1.5), p: 0.5),
                try RandomApply(try Hue(degrees: -18...18), p: 0.5),
                try RandomApply(try ZoomOut(ratio: 1...4), p: 0.5),
            ] + crop, boxPolicy: policy)
        }
    }
}

/// Builds SSD batches on background threads: decode, augment (training), resize to the input, normalise,
/// match to the default boxes and encode. Batch k depends only on (seed, epoch, k).
public final class DetectionLoader: EpochBatches, @unchecked Sendable {
    public let batchCount: Int
    private let prefetcher: Prefetcher<DetectionBatch>

    public init(data: DetectionData, ssd: SSD, normalization: ImageNormalization, batchSize: Int, shuffle: Bool, seed: UInt64,
                epoch: Int, startBatch: Int = 0, workers: Int = 1, augmentation: Pipeline?, matcher: Matcher = Matcher(),
                coder: BoxCoder = BoxCoder()) {
        var order = Array(0..<data.count)
        if shuffle {
            var rng = SplitMix(seed: seed &+ UInt64(epoch) &* 0xA24B_AED4_963E_E407)
            order.shuffle(using: &rng)
        }
        let fixedOrder = order
        batchCount = (data.count + batchSize - 1) / batchSize
        let epochSeed = seed ^ (UInt64(epoch) &* 0x9FB2_1C65_1E98_DF25)
        let defaults = ssd.defaultBoxes
        let defaultsXYXY = defaults.map(\.xyxy)
        let size = normalization.width
        prefetcher = Prefetcher(count: batchCount, start: startBatch, workers: workers) { k in
            let members = Array(fixedOrder[(k * batchSize)..<min((k + 1) * batchSize, fixedOrder.count)])
            var images: [Image] = []
            var labels: [Int] = [], offsets: [Float] = []
            for index in members {
                let item = data.items[index]
                do {
                    let image = try Image(contentsOfFile: item.path, options: DecodeOptions(channels: 3))
                    var sample = try Sample(image: image, boxes: zip(item.boxes, item.labels).map { LabeledBox($0, label: $1) })
                    if let augmentation { sample = try augmentation.augment(sample, seed: epochSeed, index: index) }
                    sample = try Resize(width: size, height: size)(sample)
                    images.append(sample.image)
                    let gt = sample.boxes.map { $0.box.normalized(width: Double(size), height: Double(size)) }
                    let matches = matcher.match(groundTruth: gt, defaults: defaultsXYXY)
                    for (j, m) in matches.enumerated() {
                        guard let m else {
                            labels.append(0)
                            offsets += [0, 0, 0, 0]
                            continue
                        }
                        labels.append(sample.boxes[m].label)
                        let t = coder.encode(BoxCXCYWH(gt[m]), relativeTo: defaults[j])
                        offsets += [Float(t.0), Float(t.1), Float(t.2), Float(t.3)]
                    }
                } catch let e as ImageError {
                    return .failure(DataError(e.message, path: item.path))
                } catch {
                    return .failure(DataError("\(error)", path: item.path))
                }
            }
            do throws(DataError) {
                let tensor = try normalization.batch(images)
                return .success(DetectionBatch(
                    images: tensor, targets: MultiBoxTargets(labels: labels, offsets: offsets, images: members.count, defaults: defaults.count),
                    items: members))
            } catch {
                return .failure(error)
            }
        }
    }

    public func next() throws(TrainingError) -> DetectionBatch? {
        do { return try prefetcher.next() } catch { throw TrainingError(error.message, path: error.path) }
    }

    public func cancel() { prefetcher.cancel() }
}

/// SSD training: multibox loss on augmented batches; validation runs the detector on the validation images and
/// scores it with COCO evaluation (equal to pycocotools): mAP@[.5:.95] and mAP@0.5, the latter choosing the
/// best epoch.
public final class DetectionTask: TrainingTask {
    public let config: TrainingConfig
    public let ssd: SSD
    public let train: DetectionData
    public let validation: DetectionData
    let augmentation: Pipeline?
    let workers: Int
    public private(set) var lastEvaluation: COCOEvalResult?

    /// `augmentation` nil: the model's torchvision preset (``DetectionAugmentation/preset(for:)``).
    public init(config: TrainingConfig, train: DetectionData, validation: DetectionData,
                augmentation: DetectionAugmentation? = nil, workers: Int = 1) throws(TrainingError) {
        self.config = config
        self.train = train
        self.validation = validation
        self.workers = workers
        do {
            ssd = try DetectorZoo.make(config.model, classes: config.classes.count, inputSize: config.normalization.width,
                                       width: config.widthMultiplier ?? 1, seed: config.seed)
            self.augmentation = try (augmentation ?? .preset(for: config.model)).pipeline()
        } catch let e as ModelError {
            throw TrainingError(e.message)
        } catch {
            throw TrainingError("\(error)")
        }
    }

    public var model: Module { ssd }
    public var trainCount: Int { train.count }

    public func batches(epoch: Int, startBatch: Int) -> any EpochBatches<DetectionBatch> {
        DetectionLoader(data: train, ssd: ssd, normalization: config.normalization, batchSize: config.batchSize, shuffle: true,
                        seed: config.seed, epoch: epoch, startBatch: startBatch, workers: workers, augmentation: augmentation)
    }

    public func step(_ batch: DetectionBatch) throws(TrainingError) -> StepResult {
        let (scores, offsets) = ssd.predict(Variable(batch.images))
        let r = multiBoxLoss(confidences: scores, offsets: offsets, targets: batch.targets)
        let n = Double(batch.items.count)
        return StepResult(loss: r.total, samples: batch.items.count,
                          sums: ["loc_loss": Double(r.localization) * n, "conf_loss": Double(r.classification) * n])
    }

    public func validate() throws(TrainingError) -> Validation? {
        guard validation.count > 0 else { return nil }
        let result = try DetectionTask.evaluate(ssd, on: validation, normalization: config.normalization,
                                                batchSize: config.batchSize, workers: workers)
        lastEvaluation = result
        return Validation(score: result.stats[1], metrics: ["map": result.stats[0], "map50": result.stats[1], "map75": result.stats[2]])
    }

    public func writeBestArtifacts(epoch: Int, to directory: String) throws(TrainingError) {
        guard let r = lastEvaluation else { return }
        let report = EvaluationReport(epoch: epoch, stats: r.stats, lines: r.summaryLines)
        let path = directory + "/evaluation.json"
        do {
            let data = try JSONEncoder().encode(report)
            try Files.writeAtomically(Array(data) + [10], to: path)
        } catch { throw TrainingError("cannot write: \(error)", path: path) }
    }

    /// Runs the detector over `data` (no augmentation) and evaluates with COCO's rules against its ground truth.
    public static func evaluate(_ ssd: SSD, on data: DetectionData, normalization: ImageNormalization, batchSize: Int,
                                workers: Int = 1) throws(TrainingError) -> COCOEvalResult {
        let detections = try detectAll(ssd, on: data, normalization: normalization, batchSize: batchSize, workers: workers)
        do {
            return try COCOEvaluator.evaluate(groundTruth: data.groundTruth, detections: detections)
        } catch { throw TrainingError("evaluation failed: \(error)") }
    }

    /// COCO results (`[x, y, w, h]` in the original pixels, dataset category ids) for every image of `data`.
    public static func detectAll(_ ssd: SSD, on data: DetectionData, normalization: ImageNormalization, batchSize: Int,
                                 workers: Int = 1) throws(TrainingError) -> [Detection] {
        ssd.eval()
        defer { ssd.train() }
        let loader = DetectionLoader(data: data, ssd: ssd, normalization: normalization, batchSize: batchSize, shuffle: false,
                                     seed: 0, epoch: 0, workers: workers, augmentation: nil)
        var out: [Detection] = []
        while let batch = try loader.next() {
            let sizes = batch.items.map { (width: data.items[$0].width, height: data.items[$0].height) }
            let found = ssd.detect(batch.images, sizes: sizes)
            for (i, objects) in zip(batch.items, found) {
                for o in objects {
                    out.append(Detection(imageID: data.items[i].imageID, categoryID: data.categoryIDs[o.label - 1],
                                         bbox: o.box.xywh, score: o.score))
                }
            }
        }
        return out
    }
}

/// `evaluation.json`: COCO's 12 numbers of the best epoch, and the lines pycocotools prints.
public struct EvaluationReport: Codable, Sendable {
    public var epoch: Int
    public var stats: [Double]
    public var lines: [String]
}

/// Trains an SSD (see ``Trainer`` and ``DetectionTask``).
public typealias DetectorTrainer = Trainer<DetectionTask>

import KestrelFiles
