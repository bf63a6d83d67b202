import ArgumentParser
import Foundation
import KestrelData
import KestrelFiles
import KestrelImage
import KestrelMetrics
import KestrelSegmentation
import KestrelTraining

/// `kestrel train --task segment` options (the shared ones — images, val-images, model, out, resume, epochs,
/// optimizer, seed… — are `Train`'s).
struct SegmentTrainOptions: ParsableArguments {
    @Option(help: "Segmentation: folder of label-map PNGs (palette indices or gray values are class ids; 255 = ignore).")
    var masks: String?

    @Option(help: "Segmentation: a COCO file whose polygon/RLE annotations give the label maps (instead of --masks).")
    var coco: String?

    @Option(name: .customLong("val-masks"), help: "Segmentation: validation label maps.")
    var valMasks: String?

    @Option(name: .customLong("val-coco"), help: "Segmentation: validation COCO file (with --val-images).")
    var valCoco: String?

    @Option(name: .customLong("class-names"),
            help: "Segmentation: class names, comma-separated, label 0 first (default: MASKS/classes.txt, one per line, else 0, 1, 2, …).")
    var classNames: String?

    @Option(name: .customLong("class-weights"),
            help: "Segmentation: loss weight per class, comma-separated, or 'median-frequency' (SegNet's balancing).")
    var classWeights: String?

    @Option(help: "Segmentation: a KestrelAugment pipeline file for training images and masks (see docs/augment.md).")
    var augment: String?
}

/// `RUN_DIR/segmentation-data.json`: where a segmentation run's data is, so --resume can find it.
struct SegmentationDataInfo: Codable {
    var images: String
    var masks: String?
    var coco: String?
    var valImages: String?
    var valMasks: String?
    var valCoco: String?

    static func read(_ dir: String) -> SegmentationDataInfo? {
        guard let d = try? Data(contentsOf: URL(fileURLWithPath: dir + "/segmentation-data.json")) else { return nil }
        return try? JSONDecoder().decode(SegmentationDataInfo.self, from: d)
    }

    func write(_ dir: String) throws {
        func absolute(_ p: String?) -> String? {
            p.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        }
        let info = SegmentationDataInfo(images: absolute(images)!, masks: absolute(masks), coco: absolute(coco),
                                        valImages: absolute(valImages), valMasks: absolute(valMasks), valCoco: absolute(valCoco))
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Files.writeAtomically(Array(try e.encode(info)) + [10], to: dir + "/segmentation-data.json")
    }
}

/// `kestrel train --task segment`, and `--resume` of a segmentation run.
struct SegmentTraining {
    let train: Train
    var options: SegmentTrainOptions { train.segmentation }

    /// True when `dir` holds a segmentation run (its config.json has segmentation settings).
    static func isSegmentationRun(_ dir: String) -> Bool {
        guard let d = try? Data(contentsOf: URL(fileURLWithPath: dir + "/config.json")),
            let c = try? JSONDecoder().decode(TrainingConfig.self, from: d)
        else { return false }
        return c.task == "segment" || c.segmentation != nil
    }

    static func validate(_ t: Train) throws {
        let o = t.segmentation
        if let threads = t.threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard t.workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        if t.resume != nil { return }
        guard t.images != nil else { throw ValidationError("give --images DIR (and --masks DIR or --coco FILE)") }
        guard (o.masks == nil) != (o.coco == nil) else { throw ValidationError("give exactly one of --masks DIR and --coco FILE") }
        if o.valMasks != nil || o.valCoco != nil {
            guard t.valImages != nil else { throw ValidationError("--val-masks/--val-coco need --val-images") }
        }
        if t.valImages != nil {
            guard (o.valMasks == nil) != (o.valCoco == nil) else {
                throw ValidationError("give exactly one of --val-masks DIR and --val-coco FILE with --val-images")
            }
        }
        guard t.out != nil else { throw ValidationError("give --out RUN_DIR for the run's files") }
        guard t.model != "resnet20" else {
            throw ValidationError("give --model, one of: \(SegmentationZoo.names.joined(separator: ", "))")
        }
        guard SegmentationZoo.contains(t.model) else {
            throw ValidationError("unknown segmentation model '\(t.model)'; known: \(SegmentationZoo.names.joined(separator: ", "))")
        }
        if let s = t.inputSize, s < 1 { throw ValidationError("--input-size must be positive") }
        if let c = t.channels, c != 1 && c != 3 { throw ValidationError("--channels must be 1 or 3") }
    }

    func run() throws {
        if let threads = train.threads { Compute.threads = threads }
        installInterruptHandler()
        let trainer: SegmentationTrainer
        do throws(TrainingError) {
            trainer = try train.resume != nil ? resumeTrainer() : newTrainer()
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        let cfg = trainer.config
        let task = trainer.task
        Console.error("training \(cfg.model) (\(trainer.model.parameterCount) parameters) on \(task.train.count) images of \(cfg.classes.count) classes (\(cfg.classes.joined(separator: ", "))), validating on \(task.validation.count); \(cfg.normalization.width)x\(cfg.normalization.height) input")
        let validating = task.validation.count > 0
        try driveTraining(
            trainer, trainImages: task.train.count, json: train.output.json,
            batchText: { " pixel acc \(fixed(100 * ($0["pixel_accuracy"] ?? 0), 1))%" },
            epochText: { m in
                var line = " pixel acc \(fixed(100 * (m["train_pixel_accuracy"] ?? 0), 2))%"
                if let miou = m["val_miou"] {
                    line += " · val loss \(fixed(m["val_loss"] ?? 0, 4)) pixel acc \(fixed(100 * (m["val_pixel_accuracy"] ?? 0), 2))% mIoU \(fixed(miou, 4))"
                }
                return line
            },
            summary: { state, total, _ in
                var pairs: [(String, JSON)] = [
                    ("bestMeanIoU", validating ? .double(state.bestScore) : .null),
                    ("finalValidationMeanIoU", state.history.last?["val_miou"].map { .double($0) } ?? .null),
                ]
                guard validating, let report = readReport(trainer.runDirectory) else {
                    let text = "final training pixel accuracy \(fixed(100 * (state.history.last?["train_pixel_accuracy"] ?? 0), 2))% (no validation set); \(fixed(total, 1)) s of training; run in \(trainer.runDirectory)"
                    return (text, pairs)
                }
                pairs.append(("best", .object([
                    ("pixelAccuracy", .double(report.pixelAccuracy)), ("meanClassAccuracy", .double(report.meanClassAccuracy)),
                    ("meanIoU", .double(report.meanIoU)), ("frequencyWeightedIoU", .double(report.frequencyWeightedIoU)),
                    ("perClass", .array(report.perClass.map { c in
                        .object([("class", .string(c.name)), ("iou", c.iou.map { .double($0) } ?? .null),
                                 ("accuracy", c.accuracy.map { .double($0) } ?? .null), ("pixels", .int(c.pixels))])
                    })),
                ])))
                let lines = ["best validation mIoU \(fixed(report.meanIoU, 4)) at epoch \(state.bestEpoch) (pixel acc \(fixed(100 * report.pixelAccuracy, 2))%, mean class acc \(fixed(100 * report.meanClassAccuracy, 2))%, fwIoU \(fixed(report.frequencyWeightedIoU, 4))); \(fixed(total, 1)) s of training; run in \(trainer.runDirectory)"]
                    + SegmentationTable.lines(report.perClass.map { ($0.name, $0.iou, $0.accuracy, $0.pixels) })
                return (lines.joined(separator: "\n"), pairs)
            })
    }

    func readReport(_ dir: String) -> SegmentationReport? {
        guard let d = try? Data(contentsOf: URL(fileURLWithPath: dir + "/segmentation.json")) else { return nil }
        return try? JSONDecoder().decode(SegmentationReport.self, from: d)
    }

    func newTrainer() throws(TrainingError) -> SegmentationTrainer {
        let o = options
        let info = SegmentationDataInfo(images: train.images!, masks: o.masks, coco: o.coco, valImages: train.valImages, valMasks: o.valMasks,
                                        valCoco: o.valCoco)
        var names: [String]? = nil
        if let list = o.classNames {
            names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard names!.count >= 2, names!.allSatisfy({ !$0.isEmpty }) else {
                throw TrainingError("--class-names needs at least 2 non-empty names, label 0 first")
            }
            guard names!.count <= 255 else { throw TrainingError("--class-names: at most 255 classes (label 255 means ignore)") }
        } else if let masks = o.masks, let text = try? String(contentsOfFile: masks + "/classes.txt", encoding: .utf8) {
            names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var (trainSet, valSet) = try loadSplit(info, classNames: names, validationFraction: train.valSplit, seed: train.seed)
        // Read every label map once: sizes against images, labels against the classes, pixel counts.
        let survey: SegmentationDataset.LabelSurvey
        do throws(DataError) {
            survey = try trainSet.survey(workers: max(2, train.workers))
            if trainSet.classes.isEmpty {
                guard let top = survey.maxLabel, top >= 1 else {
                    throw DataError("the training masks hold fewer than 2 labels; give --class-names", path: info.masks ?? info.coco)
                }
                trainSet.classes = (0...top).map { String($0) }
                valSet.classes = trainSet.classes
            }
            _ = try valSet.survey(workers: max(2, train.workers))
        } catch { throw TrainingError(error.message, path: error.path) }
        let classes = trainSet.classes
        var weights: [Float]? = nil
        if let w = o.classWeights {
            if w == "median-frequency" {
                weights = survey.medianFrequencyWeights(classes: classes.count)
            } else {
                let values = w.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
                guard values.count == classes.count, values.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }) else {
                    throw TrainingError("--class-weights needs \(classes.count) non-negative numbers (one per class) or 'median-frequency'")
                }
                weights = values.map { $0! }
            }
        }
        var pipelineText: String? = nil
        if let path = o.augment {
            do { pipelineText = String(decoding: try Files.read(path, maxBytes: 1 << 20), as: UTF8.self) } catch {
                throw TrainingError(error.message, path: path)
            }
        }
        // Input size: --input-size (square), else the first training image's own size.
        let (width, height): (Int, Int)
        let firstChannels: Int
        do {
            let first = try ImageCodec.info(contentsOfFile: trainSet.samples[0].image, options: DecodeOptions(applyOrientation: false))
            firstChannels = first.channels
            (width, height) = train.inputSize.map { ($0, $0) } ?? (first.width, first.height)
        } catch { throw TrainingError(error.message, path: error.path) }
        let c = train.channels ?? (firstChannels <= 2 ? 1 : 3)
        let normalization = c == 3
            ? ImageNormalization(channels: 3, height: height, width: width, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
            : ImageNormalization(channels: 1, height: height, width: width, mean: [0.5], std: [0.25])
        var config = TrainingConfig(
            model: train.model, classes: classes, normalization: normalization, epochs: train.epochs, batchSize: train.batchSize,
            learningRate: train.lr, optimizer: train.optimizer, weightDecay: train.weightDecay, schedule: train.schedule,
            warmupEpochs: train.warmup, seed: train.seed, validationFraction: train.valImages == nil ? train.valSplit : 0,
            horizontalFlip: train.hflip, segmentation: SegmentationSettings(classWeights: weights, augmentation: pipelineText))
        config.task = "segment"
        let trainer = try SegmentationTrainer(config: config, train: trainSet, validation: valSet, runDirectory: train.out!,
                                              workers: train.workers, skipUnreadable: train.skipUnreadable)
        try trainer.start()
        do { try info.write(train.out!) } catch { throw TrainingError("cannot record the data folders: \(error)", path: train.out!) }
        return trainer
    }

    func resumeTrainer() throws(TrainingError) -> SegmentationTrainer {
        let dir = train.resume!
        let configPath = dir + "/config.json"
        let config: TrainingConfig
        do { config = try JSONDecoder().decode(TrainingConfig.self, from: Data(contentsOf: URL(fileURLWithPath: configPath))) } catch {
            throw TrainingError("cannot read the run's config.json: \(error.localizedDescription)", path: configPath)
        }
        guard let info = SegmentationDataInfo.read(dir) else {
            throw TrainingError("the run does not record its data folders (segmentation-data.json)", path: dir)
        }
        let (trainSet, valSet) = try loadSplit(info, classNames: config.classes, validationFraction: config.validationFraction, seed: config.seed)
        let trainer = try SegmentationTrainer(config: config, train: trainSet, validation: valSet, runDirectory: dir,
                                              workers: train.workers, skipUnreadable: train.skipUnreadable)
        try trainer.restore()
        return trainer
    }

    /// Training and validation sets: the given validation folders, else a seeded split of the training set.
    func loadSplit(_ info: SegmentationDataInfo, classNames: [String]?, validationFraction: Double, seed: UInt64) throws(TrainingError)
        -> (SegmentationDataset, SegmentationDataset)
    {
        do throws(DataError) {
            func load(images: String, masks: String?, coco: String?) throws(DataError) -> SegmentationDataset {
                var d: SegmentationDataset
                if let coco {
                    d = try SegmentationDataset.coco(annotations: coco, images: images)
                    if let classNames, classNames.count != d.classes.count {
                        throw DataError("the COCO file gives \(d.classes.count) classes (background + categories), not \(classNames.count)", path: coco)
                    }
                } else {
                    d = try SegmentationDataset.folders(images: images, masks: masks!).dataset
                }
                if let classNames { d.classes = classNames }
                return d
            }
            let all = try load(images: info.images, masks: info.masks, coco: info.coco)
            if let vi = info.valImages {
                let v = try load(images: vi, masks: info.valMasks, coco: info.valCoco)
                guard classNames != nil || info.coco == nil || v.classes == all.classes else {
                    throw DataError("the validation COCO file's categories differ from the training file's", path: info.valCoco)
                }
                var val = v
                val.classes = all.classes
                return (all, val)
            }
            return all.split(validationFraction: validationFraction, seed: seed)
        } catch { throw TrainingError(error.message, path: error.path) }
    }
}

/// The per-class table `kestrel train --task segment` and `kestrel eval --task segment` print.
enum SegmentationTable {
    static func lines(_ rows: [(name: String, iou: Double?, accuracy: Double?, pixels: Int)]) -> [String] {
        let width = max(8, rows.map(\.name.count).max() ?? 0)
        var out = ["  " + "class".padding(toLength: width, withPad: " ", startingAt: 0) + "     IoU   accuracy      pixels"]
        for r in rows {
            out.append("  " + r.name.padding(toLength: width, withPad: " ", startingAt: 0)
                + (r.iou.map { fixed($0, 4) } ?? "-").leftPad(8) + (r.accuracy.map { fixed(100 * $0, 2) + "%" } ?? "-").leftPad(11)
                + String(r.pixels).leftPad(12))
        }
        return out
    }
}
