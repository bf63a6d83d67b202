import Foundation
import KestrelData
import KestrelMetrics
import KestrelFiles
import KestrelNN

/// The batches of one training epoch, in order.
public protocol EpochBatches<Batch> {
    associatedtype Batch
    var batchCount: Int { get }
    /// The next batch, or nil after the last.
    func next() throws(TrainingError) -> Batch?
    /// Stops background work early.
    func cancel()
}

/// What one training step produced.
public struct StepResult {
    public var loss: Variable
    /// Samples in the batch (the loss is their mean).
    public var samples: Int
    /// Sums over the batch that the trainer accumulates and reports as averages per sample, e.g. "correct"
    /// for accuracy.
    public var sums: [String: Double]
    /// Files the batch had to skip.
    public var skipped: [DataError]

    public init(loss: Variable, samples: Int, sums: [String: Double] = [:], skipped: [DataError] = []) {
        self.loss = loss
        self.samples = samples
        self.sums = sums
        self.skipped = skipped
    }
}

/// The result of validating after an epoch.
public struct Validation {
    /// Higher is better: the best epoch's weights go to `best.safetensors`.
    public var score: Double
    /// Reported in `metrics.jsonl` with a `val_` prefix.
    public var metrics: [String: Double]

    public init(score: Double, metrics: [String: Double]) {
        self.score = score
        self.metrics = metrics
    }
}

/// One kind of training (classification, detection, segmentation): how batches are made, what the loss is, how
/// validation scores. The ``Trainer`` does the rest: epochs, schedule, optimizer, checkpoints, resumption.
public protocol TrainingTask: AnyObject {
    associatedtype Batch
    var model: Module { get }
    /// Training samples per epoch.
    var trainCount: Int { get }
    /// The training batches of `epoch` from `startBatch`; they must depend only on (seed, epoch) so a resumed
    /// epoch sees the same batches.
    func batches(epoch: Int, startBatch: Int) -> any EpochBatches<Batch>
    /// Forward pass and loss for one batch (the model is in training mode).
    func step(_ batch: Batch) throws(TrainingError) -> StepResult
    /// Validation with the model in evaluation mode; nil when there is no validation data.
    func validate() throws(TrainingError) -> Validation?
    /// Writes task-specific files for a new best epoch (e.g. the confusion matrix).
    func writeBestArtifacts(epoch: Int, to directory: String) throws(TrainingError)
}

extension TrainingTask {
    public func writeBestArtifacts(epoch: Int, to directory: String) throws(TrainingError) {}
}

/// Where a run stands; saved inside `resume.safetensors` so a run continues exactly where it stopped.
public struct RunState: Sendable, Codable, Equatable {
    /// The epoch being trained (0-based); equals the number of epochs when the run is complete.
    public var epoch = 0
    /// The next batch of `epoch` to train.
    public var batch = 0
    /// Sums over the batches of `epoch` trained so far.
    public var lossSum = 0.0
    public var seen = 0
    public var sums: [String: Double] = [:]
    public var seconds = 0.0
    public var bestScore = -Double.infinity
    public var bestEpoch = -1
    public var history: [EpochMetrics] = []

    public init() {}
}

/// One line of `metrics.jsonl`: `{"epoch", "epochs", "lr", "train_loss", "seconds", "images_per_s", …}` with the
/// task's values (`train_accuracy`, `val_loss`, `val_accuracy`, `val_miou`, `val_map`, …) flattened in.
public struct EpochMetrics: Sendable, Equatable, Codable {
    public var epoch: Int
    public var epochs: Int
    /// The schedule's rate at the start of the epoch (it moves every batch within the epoch).
    public var learningRate: Float
    public var trainLoss: Double
    public var seconds: Double
    public var imagesPerSecond: Double
    public var values: [String: Double]

    public init(epoch: Int, epochs: Int, learningRate: Float, trainLoss: Double, seconds: Double, imagesPerSecond: Double,
                values: [String: Double]) {
        self.epoch = epoch
        self.epochs = epochs
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.values = values
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    static let fixed = ["epoch", "epochs", "lr", "train_loss", "seconds", "images_per_s"]

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(epoch, forKey: Key("epoch"))
        try c.encode(epochs, forKey: Key("epochs"))
        try c.encode(learningRate, forKey: Key("lr"))
        try c.encode(trainLoss, forKey: Key("train_loss"))
        try c.encode(seconds, forKey: Key("seconds"))
        try c.encode(imagesPerSecond, forKey: Key("images_per_s"))
        for (k, v) in values { try c.encode(v, forKey: Key(k)) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        epoch = try c.decode(Int.self, forKey: Key("epoch"))
        epochs = try c.decode(Int.self, forKey: Key("epochs"))
        learningRate = try c.decode(Float.self, forKey: Key("lr"))
        trainLoss = try c.decode(Double.self, forKey: Key("train_loss"))
        seconds = try c.decode(Double.self, forKey: Key("seconds"))
        imagesPerSecond = try c.decode(Double.self, forKey: Key("images_per_s"))
        values = [:]
        for k in c.allKeys where !EpochMetrics.fixed.contains(k.stringValue) {
            values[k.stringValue] = try c.decode(Double.self, forKey: k)
        }
    }

    public subscript(key: String) -> Double? { values[key] }
}

/// What the trainer reports while it works.
public enum TrainingEvent: Sendable {
    /// After each batch: the running mean loss and the per-sample means of the task's sums over the epoch so far.
    case batch(epoch: Int, batch: Int, batches: Int, loss: Double, means: [String: Double], imagesPerSecond: Double)
    case epoch(EpochMetrics)
    /// A file skipped because it could not be read.
    case skipped(DataError)
    /// Training stopped on request; a checkpoint was saved first.
    case interrupted(epoch: Int, batch: Int)
}

/// Runs a ``TrainingTask`` and keeps the run folder up to date: `config.json` (written by the caller),
/// `metrics.jsonl`, `curves.png` (loss and metrics against epochs), `last.safetensors` and `best.safetensors` (torchvision-style state dicts), the task's
/// artefacts, and `resume.safetensors` — weights, optimizer state and run state in one file, so a crash never
/// leaves them out of step. Data order, augmentation and dropout masks derive from (seed, epoch, batch), so a
/// resumed run equals an uninterrupted one bit for bit.
public final class Trainer<Task: TrainingTask> {
    public let task: Task
    public let config: TrainingConfig
    public let runDirectory: String
    public private(set) var state = RunState()
    let optimizer: any TrainingOptimizer

    public init(task: Task, config: TrainingConfig, runDirectory: String) throws(TrainingError) {
        try config.validate()
        self.task = task
        self.config = config
        self.runDirectory = runDirectory
        optimizer = try config.makeOptimizer(task.model.namedParameters())
    }

    public var model: Module { task.model }

    /// Starts a new run: creates the folder and writes `config.json`. Refuses a folder that already holds a run.
    public func start() throws(TrainingError) {
        if Files.exists(runDirectory + "/resume.safetensors") || Files.exists(runDirectory + "/config.json") {
            throw TrainingError("already holds a training run; use --resume to continue it or choose another --out", path: runDirectory)
        }
        do { try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true) } catch {
            throw TrainingError("cannot create the folder: \(error.localizedDescription)", path: runDirectory)
        }
        try writeJSON(config, to: runDirectory + "/config.json")
    }

    /// Loads `resume.safetensors`: weights, optimizer state and position.
    public func restore() throws(TrainingError) {
        let path = runDirectory + "/resume.safetensors"
        let contents: Safetensors.Contents
        do { contents = try Safetensors.read(path) } catch { throw TrainingError(error.message, path: path) }
        let modelEntries = contents.tensors.filter { !$0.name.hasPrefix("optimizer.") }
        let optimizerEntries = contents.tensors.filter { $0.name.hasPrefix("optimizer.") }
            .map { (name: String($0.name.dropFirst("optimizer.".count)), tensor: $0.tensor) }
        guard let stateText = contents.metadata["run_state"],
            let restored = try? JSONDecoder().decode(RunState.self, from: Data(stateText.utf8)),
            let steps = Int(contents.metadata["optimizer_steps"] ?? "")
        else { throw TrainingError("has no readable run state", path: path) }
        do {
            try model.load(stateDict: modelEntries)
            try optimizer.restore(optimizerEntries, stepCount: steps)
        } catch { throw TrainingError(error.message, path: path) }
        state = restored
    }

    /// Trains until the configured number of epochs, or until `shouldStop` returns true (checked after every
    /// batch; a checkpoint is saved before returning). Returns the final state.
    @discardableResult
    public func run(events: (TrainingEvent) -> Void, shouldStop: () -> Bool = { false }) throws(TrainingError) -> RunState {
        let schedule = config.learningRateSchedule()
        var dropouts: [Dropout] = []
        model.visit { _, m in if let d = m as? Dropout { dropouts.append(d) } }
        while state.epoch < config.epochs {
            let epoch = state.epoch
            optimizer.learningRate = schedule.rate(at: epoch, base: config.learningRate)
            model.train()
            let batches = task.batches(epoch: epoch, startBatch: state.batch)
            let epochStart = Date()
            let secondsBefore = state.seconds
            while let batch = try batches.next() {
                // The schedule moves every batch (warm-up ramps and cosine decays smoothly within an epoch, as
                // torchvision's detection and segmentation references step per iteration); a function of
                // (epoch, batch) alone, so a resumed run continues on the same curve.
                optimizer.learningRate = schedule.rate(atFraction: Double(epoch) + Double(state.batch) / Double(max(1, batches.batchCount)),
                                                       base: config.learningRate)
                for (i, d) in dropouts.enumerated() {
                    d.reseed(config.seed ^ UInt64(epoch) << 32 ^ UInt64(state.batch) << 8 ^ UInt64(i))
                }
                optimizer.zeroGrad()
                let r = try task.step(batch)
                for s in r.skipped { events(.skipped(s)) }
                if r.samples > 0 {
                    r.loss.backward()
                    optimizer.step()
                    state.lossSum += Double(r.loss.value.item) * Double(r.samples)
                    state.seen += r.samples
                    for (k, v) in r.sums { state.sums[k, default: 0] += v }
                }
                state.batch += 1
                state.seconds = secondsBefore + Date().timeIntervalSince(epochStart)
                let seen = Double(max(state.seen, 1))
                events(.batch(epoch: epoch, batch: state.batch, batches: batches.batchCount, loss: state.lossSum / seen,
                              means: state.sums.mapValues { $0 / seen }, imagesPerSecond: Double(state.seen) / max(state.seconds, 1e-9)))
                if shouldStop() && state.batch < batches.batchCount {
                    batches.cancel()
                    try saveResume()
                    events(.interrupted(epoch: epoch, batch: state.batch))
                    return state
                }
            }
            let seen = Double(max(state.seen, 1))
            var values = state.sums.mapValues { $0 / seen }.reduce(into: [String: Double]()) { $0["train_" + $1.key] = $1.value }
            let validation = try task.validate()
            model.train()
            if let v = validation { for (k, x) in v.metrics { values["val_" + k] = x } }
            let metrics = EpochMetrics(epoch: epoch + 1, epochs: config.epochs,
                                       learningRate: schedule.rate(at: epoch, base: config.learningRate),
                                       trainLoss: state.lossSum / seen, seconds: state.seconds,
                                       imagesPerSecond: Double(state.seen) / max(state.seconds, 1e-9), values: values)
            state.history.append(metrics)
            state.epoch += 1
            state.batch = 0
            state.lossSum = 0
            state.seen = 0
            state.sums = [:]
            state.seconds = 0
            // Without validation the latest epoch counts as the best.
            let score = validation?.score ?? Double(epoch)
            let improved = score > state.bestScore
            if improved {
                state.bestScore = score
                state.bestEpoch = epoch + 1
            }
            try saveResume()
            try writeMetrics()
            try TrainingCurves.write(state.history, to: runDirectory + "/curves.png")
            try saveWeights(to: runDirectory + "/last.safetensors", epoch: epoch + 1)
            if improved {
                try saveWeights(to: runDirectory + "/best.safetensors", epoch: epoch + 1)
                try task.writeBestArtifacts(epoch: epoch + 1, to: runDirectory)
            }
            events(.epoch(metrics))
        }
        return state
    }

    // MARK: - Files

    private func saveResume() throws(TrainingError) {
        let path = runDirectory + "/resume.safetensors"
        let stateJSON: String
        do { stateJSON = String(decoding: try JSONEncoder().encode(state), as: UTF8.self) } catch {
            throw TrainingError("cannot encode the run state: \(error)")
        }
        let entries = model.stateDict()
            + optimizer.stateEntries().map { Safetensors.Entry("optimizer." + $0.name, $0.tensor, isInteger: $0.isInteger) }
        do {
            try Safetensors.write(entries, metadata: ["run_state": stateJSON, "optimizer_steps": String(optimizer.stepCount),
                                                      "model": config.model], to: path)
        } catch { throw TrainingError(error.message, path: path) }
    }

    private func saveWeights(to path: String, epoch: Int) throws(TrainingError) {
        do { try model.saveCheckpoint(to: path, metadata: ["model": config.model, "epoch": String(epoch)]) } catch {
            throw TrainingError(error.message, path: path)
        }
    }

    private func writeMetrics() throws(TrainingError) {
        var lines = ""
        for m in state.history {
            do { lines += String(decoding: try JSONEncoder.sorted.encode(m), as: UTF8.self) + "\n" } catch {
                throw TrainingError("cannot encode metrics: \(error)")
            }
        }
        let path = runDirectory + "/metrics.jsonl"
        do { try Files.writeAtomically(text: lines, to: path) } catch { throw TrainingError(error.message, path: path) }
    }
}

func writeJSON<T: Encodable>(_ value: T, to path: String) throws(TrainingError) {
    do {
        let data = try JSONEncoder.pretty.encode(value)
        try Files.writeAtomically(Array(data) + [10], to: path)
    } catch let e as FileError {
        throw TrainingError(e.message, path: path)
    } catch {
        throw TrainingError("cannot encode: \(error)", path: path)
    }
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
