import ArgumentParser
import Foundation
import KestrelData
import KestrelDetection
import KestrelImage
import KestrelModels
import KestrelTraining

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an image classifier, an SSD detector (--task detect) or a segmentation model (--task segment).",
        discussion: """
            DATA is a folder with one sub-folder per class (or train/ and val/ folders that each have them), or
            a .csv manifest of path,label lines. Without a val/ folder, --val-split holds out that fraction of
            each class (seeded). RUN_DIR receives config.json, metrics.jsonl (one line per epoch),
            last.safetensors and best.safetensors (torchvision-style state dicts), confusion.json and
            resume.safetensors. Ctrl-C saves a checkpoint and stops; --resume RUN_DIR continues exactly where it
            stopped (weights, optimizer state, epoch, batch, data order, dropout masks).
            --task segment trains on --images DIR with --masks DIR (label-map PNGs, 255 = ignore) or --coco FILE,
            validating mIoU each epoch (see the segmentation options below).
            """)

    @Option(help: "What to train: classify (an image classifier), detect (an SSD), segment (an FCN or SegNet).")
    var task = "classify"

    @Option(help: "Training data: an ImageFolder or .csv manifest (classify); an annotation file or folder (detect).")
    var data: String?

    @Option(help: "detect: the folder the annotations' image file names are relative to; segment: the training images.")
    var images: String?

    @Option(help: "detect: annotation format: coco, voc, yolo.")
    var format = "coco"

    @Option(name: .customLong("val-data"), help: "detect: validation annotations (default: --val-split of --data).")
    var valData: String?

    @Option(name: .customLong("val-images"), help: "detect: the validation images' folder (default: --images); segment: validation images (with --val-masks or --val-coco).")
    var valImages: String?

    @Option(help: "detect: width multiplier of ssd_mobilenet.")
    var width: Double = 1

    @Option(name: .customLong("bad-annotations"), help: "detect: stop or skip on an annotation that cannot be trained on.")
    var badAnnotations = "stop"

    @Option(help: "detect: augmentation preset as torchvision's: ssd (photometric, zoom-out, IoU crop, flip), ssdlite (IoU crop, flip) or none. Default: ssd for ssd300_vgg16, ssdlite for the others.")
    var augment: String?

    @Option(help: "Model name (see `kestrel models`).")
    var model = "resnet20"

    @Option(help: "The run folder to create.")
    var out: String?

    @Option(help: "Continue the run in this folder.")
    var resume: String?

    @Option(help: "Epochs.") var epochs = 10
    @Option(name: .customLong("batch-size"), help: "Images per batch.") var batchSize = 64
    @Option(help: "Learning rate.") var lr: Float = 0.01
    @Option(help: "sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad.") var optimizer = "momentum"
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (decoupled for adamw).") var weightDecay: Float = 5e-4
    @Option(help: "Learning-rate schedule: constant, step, multistep, cosine.") var schedule = "cosine"
    @Option(help: "Linear warm-up epochs.") var warmup = 0
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing ε.") var labelSmoothing: Float = 0
    @Option(help: "Seed for initialisation, split, order and augmentation.") var seed: UInt64 = 0
    @Option(help: "Compute threads.") var threads: Int?
    @Option(help: "Image-loading threads.") var workers = 1
    @Option(name: .customLong("val-split"), help: "Fraction of each class held out for validation.") var valSplit = 0.2
    @Option(name: .customLong("input-size"), help: "Square input side (default: the model's).") var inputSize: Int?
    @Option(help: "Input channels, 1 or 3 (default: 1 if the first image is gray, else 3).") var channels: Int?
    @Flag(help: "Random horizontal flips while training.") var hflip = false
    @Flag(name: .customLong("skip-unreadable"), help: "Report and skip unreadable images instead of stopping.") var skipUnreadable = false
    @OptionGroup(title: "Semantic segmentation (--task segment)") var segmentation: SegmentTrainOptions
    @OptionGroup var output: OutputOptions

    /// --task segment, or --resume of a run whose config says "segment".
    var isSegmentation: Bool { task == "segment" || resume.map(SegmentTraining.isSegmentationRun) == true }

    func validate() throws {
        guard ["classify", "detect", "segment"].contains(task) else { throw ValidationError("--task must be classify, detect or segment") }
        if isSegmentation { return try SegmentTraining.validate(self) }
        if task == "detect" {
            guard resume != nil || (data != nil && images != nil && out != nil) else {
                throw ValidationError("--task detect needs --data ANNOTATIONS --images DIR --out RUN_DIR (or --resume RUN_DIR)")
            }
            guard ["coco", "voc", "yolo"].contains(format) else { throw ValidationError("--format must be coco, voc or yolo") }
            guard BadAnnotationPolicy(rawValue: badAnnotations) != nil else { throw ValidationError("--bad-annotations must be stop or skip") }
            if let augment, DetectionAugmentation(rawValue: augment) == nil {
                throw ValidationError("--augment must be ssd, ssdlite or none")
            }
            guard width > 0, width <= 4 else { throw ValidationError("--width must be in (0, 4]") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
            guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
            return
        }
        if resume == nil {
            guard data != nil else { throw ValidationError("give --data (or --resume RUN_DIR)") }
            guard out != nil else { throw ValidationError("give --out RUN_DIR for the run's files") }
            guard ModelZoo.names.contains(model) else {
                throw ValidationError("unknown model '\(model)'; known: \(ModelZoo.names.joined(separator: ", "))")
            }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        if let channels, channels != 1 && channels != 3 { throw ValidationError("--channels must be 1 or 3") }
    }

    func run() throws {
        if isSegmentation { return try SegmentTraining(train: self).run() }
        if let threads { Compute.threads = threads }
        installInterruptHandler()
        let resumedTask = resume.flatMap { RunInfo.read($0)?.task }
        if task == "detect" || resumedTask == "detect" {
            try runDetection()
            return
        }
        let trainer: ClassifierTrainer
        do throws(TrainingError) {
            trainer = try resume != nil ? resumeTrainer() : newTrainer()
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        let cfg = trainer.config
        Console.error("training \(cfg.model) (\(trainer.model.parameterCount) parameters) on \(trainer.train.count) images of \(cfg.classes.count) classes, validating on \(trainer.validation.count); \(cfg.normalization.channels)x\(cfg.normalization.height)x\(cfg.normalization.width) input")
        let validating = trainer.validation.count > 0
        try driveTraining(
            trainer, trainImages: trainer.train.count, json: output.json,
            batchText: { " acc \(fixed(100 * ($0["accuracy"] ?? 0), 1))%" },
            epochText: { m in
                var line = " acc \(fixed(100 * (m["train_accuracy"] ?? 0), 2))%"
                if let vl = m["val_loss"], let va = m["val_accuracy"] { line += " · val loss \(fixed(vl, 4)) acc \(fixed(100 * va, 2))%" }
                return line
            },
            summary: { state, total, _ in
                let best = state.bestScore
                let text = validating
                    ? "best validation accuracy \(fixed(100 * best, 2))% at epoch \(state.bestEpoch); \(fixed(total, 1)) s of training; run in \(trainer.runDirectory)"
                    : "final training accuracy \(fixed(100 * (state.history.last?["train_accuracy"] ?? 0), 2))% (no validation split); \(fixed(total, 1)) s of training; run in \(trainer.runDirectory)"
                return (text, [("bestAccuracy", validating ? .double(best) : .null),
                               ("finalValidationAccuracy", state.history.last?["val_accuracy"].map { .double($0) } ?? .null)])
            })
    }

    func newTrainer() throws(TrainingError) -> ClassifierTrainer {
        let path = data!
        let (trainSet, valSet) = try loadSplit(path)
        let firstChannels: Int
        do {
            firstChannels = try ImageCodec.info(contentsOfFile: trainSet.samples[0].path).channels
        } catch { throw TrainingError(error.message, path: error.path) }
        let c = channels ?? (firstChannels <= 2 ? 1 : 3)
        let size: Int
        if let inputSize {
            size = inputSize
        } else {
            do throws(ModelError) { size = try ModelZoo.entry(model).defaultInputSize } catch { throw TrainingError(error.message) }
        }
        let config = TrainingConfig(
            model: model, classes: trainSet.classes, normalization: .centered(channels: c, size: size), epochs: epochs,
            batchSize: batchSize, learningRate: lr, optimizer: optimizer, weightDecay: weightDecay, schedule: schedule,
            warmupEpochs: warmup, labelSmoothing: labelSmoothing, seed: seed, validationFraction: valSplit,
            horizontalFlip: hflip)
        let (prepTrain, prepEval) = preparations(config)
        let trainer = try ClassifierTrainer(config: config, train: trainSet, validation: valSet, runDirectory: out!,
                                            workers: workers, skipUnreadable: skipUnreadable, prepareTrain: prepTrain,
                                            prepareEval: prepEval)
        try trainer.start()
        try? RunInfo(data: path).write(out!)
        return trainer
    }

    func resumeTrainer() throws(TrainingError) -> ClassifierTrainer {
        let dir = resume!
        let configPath = dir + "/config.json"
        let config: TrainingConfig
        do { config = try JSONDecoder().decode(TrainingConfig.self, from: Data(contentsOf: URL(fileURLWithPath: configPath))) } catch {
            throw TrainingError("cannot read the run's config.json: \(error.localizedDescription)", path: configPath)
        }
        guard let dataPath = data ?? RunInfo.read(dir)?.data else {
            throw TrainingError("give --data: the run does not record where its data is", path: dir)
        }
        var (trainSet, valSet) = try loadSplit(dataPath, validationFraction: config.validationFraction, seed: config.seed)
        guard trainSet.classes == config.classes else {
            throw TrainingError("the data's classes \(trainSet.classes) differ from the run's \(config.classes)", path: dataPath)
        }
        if valSet.count == 0 && config.validationFraction > 0 { (trainSet, valSet) = trainSet.split(validationFraction: config.validationFraction, seed: config.seed) }
        let (prepTrain, prepEval) = preparations(config)
        let trainer = try ClassifierTrainer(config: config, train: trainSet, validation: valSet, runDirectory: dir,
                                            workers: workers, skipUnreadable: skipUnreadable, prepareTrain: prepTrain,
                                            prepareEval: prepEval)
        try trainer.restore()
        return trainer
    }

    /// Training and validation sets: DATA/train + DATA/val when both exist, else a seeded split of DATA.
    func loadSplit(_ path: String, validationFraction: Double? = nil, seed: UInt64? = nil) throws(TrainingError)
        -> (ClassificationDataset, ClassificationDataset)
    {
        do throws(DataError) {
            let fm = FileManager.default
            for valName in ["val", "validation"] where fm.fileExists(atPath: path + "/train") && fm.fileExists(atPath: path + "/" + valName) {
                let t = try ClassificationDataset.imageFolder(path + "/train")
                let v = try ClassificationDataset.imageFolder(path + "/" + valName)
                guard t.classes == v.classes else {
                    throw DataError("train/ and \(valName)/ have different class folders", path: path)
                }
                return (t, v)
            }
            let all = try ClassificationDataset.load(path)
            return all.split(validationFraction: validationFraction ?? valSplit, seed: seed ?? self.seed)
        } catch { throw TrainingError(error.message, path: error.path) }
    }

    /// Images must have the model's input size (resizing arrives with the augmentation module); training
    /// flips horizontally with probability 1/2 per (seed, epoch, image) when --hflip is on.
    func preparations(_ config: TrainingConfig) -> (ImagePreparation, ImagePreparation) {
        let n = config.normalization
        let flip = config.horizontalFlip
        let check: ImagePreparation = { image, _, _ in
            guard image.width == n.width, image.height == n.height else {
                throw DataError("image is \(image.width)x\(image.height); this build trains on images of the input size \(n.width)x\(n.height) only (use --input-size)")
            }
            return image
        }
        let train: ImagePreparation = { image, seed, index in
            let checked = try check(image, seed, index)
            var rng = RandomSource(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            return flip && rng.next() & 1 == 1 ? checked.oriented(2) : checked
        }
        return (train, check)
    }
}

/// `RUN_DIR/data.json`: where the run's data came from, so --resume can find it.
struct RunInfo: Codable {
    var data: String
    var task: String? = nil
    var images: String? = nil
    var format: String? = nil
    var valData: String? = nil
    var valImages: String? = nil
    /// Detection: the augmentation preset (kept so --resume continues alike).
    var augment: String? = nil

    static func read(_ dir: String) -> RunInfo? {
        guard let d = try? Data(contentsOf: URL(fileURLWithPath: dir + "/data.json")) else { return nil }
        return try? JSONDecoder().decode(RunInfo.self, from: d)
    }

    func write(_ dir: String) throws {
        guard !dir.isEmpty, FileManager.default.fileExists(atPath: dir) else { return }
        func absolute(_ p: String?) -> String? {
            p.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        }
        let info = RunInfo(data: absolute(data)!, task: task, images: absolute(images), format: format,
                           valData: absolute(valData), valImages: absolute(valImages), augment: augment)
        try Files.writeAtomically(Array(try JSONEncoder().encode(info)), to: dir + "/data.json")
    }
}

import KestrelFiles
