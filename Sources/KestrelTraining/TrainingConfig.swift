import KestrelData
import KestrelNN

/// Everything that defines a classifier training run; written to `RUN_DIR/config.json` and read back by
/// `--resume`, `kestrel classify` and `kestrel test`.
public struct TrainingConfig: Sendable, Codable, Equatable {
    public var model: String
    public var classes: [String]
    public var normalization: ImageNormalization
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    /// sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad.
    public var optimizer: String
    public var momentum: Float
    /// L2 weight decay (for adamw: decoupled).
    public var weightDecay: Float
    /// constant, step, multistep, cosine (see ``schedule()``).
    public var schedule: String
    public var warmupEpochs: Int
    public var labelSmoothing: Float
    public var seed: UInt64
    public var validationFraction: Double
    /// Training-time augmentation: random horizontal flips.
    public var horizontalFlip: Bool
    /// Training-time augmentation: random crops after zero padding by this many pixels (0: none).
    public var cropPadding: Int
    /// "classify" (nil), "detect" or "segment".
    public var task: String?
    /// Detection runs: the dataset's category id for each class (class i is `categoryIDs[i]`), and the width
    /// multiplier of MobileNet-based detectors.
    public var categoryIDs: [Int]?
    public var widthMultiplier: Double?
    /// Set for semantic segmentation runs (`kestrel train --task segment`); nil for classification.
    public var segmentation: SegmentationSettings?

    public init(model: String, classes: [String], normalization: ImageNormalization, epochs: Int = 10,
                batchSize: Int = 64, learningRate: Float = 0.01, optimizer: String = "momentum", momentum: Float = 0.9,
                weightDecay: Float = 5e-4, schedule: String = "cosine", warmupEpochs: Int = 0, labelSmoothing: Float = 0,
                seed: UInt64 = 0, validationFraction: Double = 0.2, horizontalFlip: Bool = false, cropPadding: Int = 0,
                segmentation: SegmentationSettings? = nil) {
        self.model = model
        self.classes = classes
        self.normalization = normalization
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.optimizer = optimizer
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.warmupEpochs = warmupEpochs
        self.labelSmoothing = labelSmoothing
        self.seed = seed
        self.validationFraction = validationFraction
        self.horizontalFlip = horizontalFlip
        self.cropPadding = cropPadding
        self.segmentation = segmentation
    }

    public static let optimizers = ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"]
    public static let schedules = ["constant", "step", "multistep", "cosine"]

    /// Rejects impossible settings with a message naming the setting.
    public func validate() throws(TrainingError) {
        guard epochs >= 1 else { throw TrainingError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw TrainingError("--batch-size must be at least 1") }
        guard learningRate > 0, learningRate.isFinite else { throw TrainingError("--lr must be positive") }
        guard TrainingConfig.optimizers.contains(optimizer) else {
            throw TrainingError("unknown optimizer '\(optimizer)'; use \(TrainingConfig.optimizers.joined(separator: ", "))")
        }
        guard TrainingConfig.schedules.contains(schedule) else {
            throw TrainingError("unknown schedule '\(schedule)'; use \(TrainingConfig.schedules.joined(separator: ", "))")
        }
        guard weightDecay >= 0 else { throw TrainingError("--weight-decay must not be negative") }
        guard (0..<1).contains(validationFraction) else { throw TrainingError("--val-split must be in [0, 1)") }
        guard (0..<1).contains(labelSmoothing) else { throw TrainingError("--label-smoothing must be in [0, 1)") }
        guard warmupEpochs >= 0, warmupEpochs < epochs else { throw TrainingError("--warmup must be smaller than --epochs") }
        guard cropPadding >= 0 else { throw TrainingError("--crop-padding must not be negative") }
        do { try normalization.validate() } catch { throw TrainingError(error.message) }
    }

    /// The learning-rate schedule over epochs: `step` divides by 10 at 50% and 75% of training (as the classic
    /// ResNet recipe), `multistep` the same at 30/60/90% style milestones scaled to the run, `cosine` anneals
    /// to 0 over the epochs after warm-up.
    public func learningRateSchedule() -> LearningRateSchedule {
        let span = epochs - warmupEpochs
        let main: LearningRateSchedule =
            switch schedule {
            case "step": .multiStep(milestones: [span / 2, span * 3 / 4].filter { $0 > 0 }, gamma: 0.1)
            case "multistep": .multiStep(milestones: [span * 3 / 10, span * 6 / 10, span * 9 / 10].filter { $0 > 0 }, gamma: 0.1)
            case "cosine": .cosine(period: max(1, span), minimum: 0)
            default: .constant
            }
        return warmupEpochs > 0 ? .warmup(steps: warmupEpochs, startFactor: 0.1, then: main) : main
    }

    /// The optimizer for `parameters`, weight decay as PyTorch applies it for that optimizer.
    public func makeOptimizer(_ parameters: [(name: String, parameter: Parameter)]) throws(TrainingError) -> any TrainingOptimizer {
        let l2: [GradientTransform] = weightDecay > 0 && optimizer != "adamw" ? [.weightDecay(weightDecay)] : []
        do {
            switch optimizer {
            case "sgd": return try Optimizer(parameters, rule: SGD(), learningRate: learningRate, transforms: l2)
            case "momentum": return try Optimizer(parameters, rule: Momentum(momentum: momentum), learningRate: learningRate, transforms: l2)
            case "nesterov": return try Optimizer(parameters, rule: Momentum(momentum: momentum, nesterov: true), learningRate: learningRate, transforms: l2)
            case "adam": return try Optimizer(parameters, rule: Adam(), learningRate: learningRate, transforms: l2)
            case "adamw": return try Optimizer(parameters, rule: Adam.adamW(weightDecay: weightDecay), learningRate: learningRate)
            case "rmsprop": return try Optimizer(parameters, rule: RMSProp(), learningRate: learningRate, transforms: l2)
            default: return try Optimizer(parameters, rule: AdaGrad(), learningRate: learningRate, transforms: l2)
            }
        } catch { throw TrainingError(error.message) }
    }
}

/// A training run that cannot start or continue.
public struct TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String?
    public let message: String
    public init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }
    public var description: String { path.map { "\($0): \(message)" } ?? message }
}
