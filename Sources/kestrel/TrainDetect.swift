import ArgumentParser
import Foundation
import KestrelAnnotations
import KestrelData
import KestrelDetection
import KestrelFiles
import KestrelTraining

extension Train {
    /// `kestrel train --task detect`: an SSD on COCO / VOC / YOLO annotations.
    func runDetection() throws {
        let trainer: DetectorTrainer
        do throws(TrainingError) {
            trainer = try resume != nil ? resumeDetector() : newDetector()
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        let cfg = trainer.config
        Console.error("training \(cfg.model) (\(trainer.model.parameterCount) parameters, \(trainer.task.ssd.defaultBoxes.count) default boxes) on \(trainer.task.train.count) images of \(cfg.classes.count) classes, validating on \(trainer.task.validation.count); \(cfg.normalization.width)x\(cfg.normalization.height) input")
        let validating = trainer.task.validation.count > 0
        try driveTraining(
            trainer, trainImages: trainer.task.train.count, json: output.json,
            batchText: { " (loc \(fixed($0["loc_loss"] ?? 0, 3)), conf \(fixed($0["conf_loss"] ?? 0, 3)))" },
            epochText: { m in
                guard let map = m["val_map"], let map50 = m["val_map50"] else { return "" }
                return " · val mAP \(fixed(map, 3)) mAP@0.5 \(fixed(map50, 3))"
            },
            summary: { state, total, _ in
                let last = state.history.last
                let text = validating
                    ? "best validation mAP@0.5 \(fixed(state.bestScore, 3)) at epoch \(state.bestEpoch) (mAP@[.5:.95] \(fixed(last?["val_map"] ?? 0, 3)) at the last epoch); \(fixed(total, 1)) s of training; run in \(trainer.runDirectory)"
                    : "trained \(cfg.epochs) epochs without validation; \(fixed(total, 1)) s; run in \(trainer.runDirectory)"
                return (text, [("bestMAP50", validating ? .double(state.bestScore) : .null),
                               ("finalMAP", last?["val_map"].map { .double($0) } ?? .null),
                               ("finalMAP50", last?["val_map50"].map { .double($0) } ?? .null)])
            })
    }

    func detectionSplit(config: TrainingConfig?, info: RunInfo?) throws(TrainingError) -> (DetectionData, DetectionData) {
        let data = info?.data ?? self.data!, images = info?.images ?? self.images!, format = info?.format ?? self.format
        let all = try loadDetectionData(data, images: images, format: format, policy: badAnnotations)
        if let valData = info?.valData ?? self.valData {
            let validation = try loadDetectionData(valData, images: info?.valImages ?? valImages ?? images, format: format, policy: badAnnotations)
            guard validation.classes == all.classes else {
                throw TrainingError("the validation annotations' categories differ from the training ones", path: valData)
            }
            return (all, validation)
        }
        return all.split(validationFraction: config?.validationFraction ?? valSplit, seed: config?.seed ?? seed)
    }

    func newDetector() throws(TrainingError) -> DetectorTrainer {
        let (trainSet, valSet) = try detectionSplit(config: nil, info: nil)
        let size = inputSize ?? DetectorZoo.defaultInputSize(model)
        var config = TrainingConfig(
            model: model, classes: trainSet.classes, normalization: .centered(channels: 3, size: size), epochs: epochs,
            batchSize: batchSize, learningRate: lr, optimizer: optimizer, weightDecay: weightDecay, schedule: schedule,
            warmupEpochs: warmup, seed: seed, validationFraction: valSplit)
        config.task = "detect"
        config.categoryIDs = trainSet.categoryIDs
        config.widthMultiplier = width
        let preset = augment.flatMap(DetectionAugmentation.init(rawValue:)) ?? .preset(for: model)
        let task = try DetectionTask(config: config, train: trainSet, validation: valSet, augmentation: preset, workers: workers)
        let trainer = try DetectorTrainer(task: task, config: config, runDirectory: out!)
        try trainer.start()
        try? RunInfo(data: data!, task: "detect", images: images, format: format, valData: valData, valImages: valImages,
                     augment: preset.rawValue).write(out!)
        return trainer
    }

    func resumeDetector() throws(TrainingError) -> DetectorTrainer {
        let dir = resume!
        let configPath = dir + "/config.json"
        let config: TrainingConfig
        do { config = try JSONDecoder().decode(TrainingConfig.self, from: Data(contentsOf: URL(fileURLWithPath: configPath))) } catch {
            throw TrainingError("cannot read the run's config.json: \(error.localizedDescription)", path: configPath)
        }
        guard let info = RunInfo.read(dir) else { throw TrainingError("the run does not record where its data is", path: dir) }
        let (trainSet, valSet) = try detectionSplit(config: config, info: info)
        guard trainSet.classes == config.classes else {
            throw TrainingError("the data's classes \(trainSet.classes) differ from the run's \(config.classes)", path: info.data)
        }
        let task = try DetectionTask(config: config, train: trainSet, validation: valSet, augmentation: info.augment.flatMap(DetectionAugmentation.init(rawValue:)),
                                     workers: workers)
        let trainer = try DetectorTrainer(task: task, config: config, runDirectory: dir)
        try trainer.restore()
        return trainer
    }
}

/// Reads an annotated detection set and resolves its images (warnings go to stderr).
func loadDetectionData(_ annotations: String, images: String, format: String, policy: String) throws(TrainingError) -> DetectionData {
    guard let f = AnnotationFormat(rawValue: format) else { throw TrainingError("unknown format \(format)") }
    let loaded: Loaded<DetectionDataset>
    do { loaded = try f.readDataset(annotations) } catch { throw TrainingError(error.description) }
    for w in loaded.warnings { Console.error("warning: \(w)") }
    do throws(DataError) {
        let (data, warnings) = try DetectionData.load(loaded.value, imagesRoot: images, policy: BadAnnotationPolicy(rawValue: policy) ?? .stop)
        for w in warnings { Console.error("warning: \(w)") }
        guard data.count > 0 else { throw DataError("no usable images", path: annotations) }
        return data
    } catch { throw TrainingError(error.message, path: error.path) }
}
