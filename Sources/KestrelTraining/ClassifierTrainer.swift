import Foundation
import KestrelData
import KestrelFiles
import KestrelModels
import KestrelNN

/// Where a run stands; saved inside `resume.safetensors` so a run continues exactly where it stopped.
public struct RunState: Sendable, Codable, Equatable {
    /// The epoch being trained (0-based); equals `config.epochs` when the run is complete.
    public var epoch = 0
    /// The next batch of `epoch` to train.
    public var batch = 0
    /// Sums over the batches of `epoch` trained so far.
    public var lossSum = 0.0
    public var correct = 0
    public var seen = 0
    public var seconds = 0.0
    public var bestAccuracy = -1.0
    public var bestEpoch = -1
    public var history: [EpochMetrics] = []

    public var finished: Bool { history.count > 0 && epoch >= (history.last?.epochs ?? Int.max) }
}

/// One line of `metrics.jsonl`.
public struct EpochMetrics: Sendable, Codable, Equatable {
    public var epoch: Int
    public var epochs: Int
    public var learningRate: Float
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// What the trainer reports while it works.
public enum TrainingEvent: Sendable {
    /// After each batch: running averages over the epoch so far.
    case batch(epoch: Int, batch: Int, batches: Int, loss: Double, accuracy: Double, imagesPerSecond: Double)
    case epoch(EpochMetrics)
    /// A file skipped because it could not be read.
    case skipped(DataError)
    /// Training stopped on request; a checkpoint was saved first.
    case interrupted(epoch: Int, batch: Int)
}

/// Trains an image classifier on a dataset and keeps the run folder up to date:
/// `config.json`, `metrics.jsonl`, `last.safetensors`, `best.safetensors` (torchvision-style state dicts),
/// `confusion.json` (validation confusion matrix of the best epoch) and `resume.safetensors` (weights,
/// optimizer state and run state in one file, so a crash never leaves them out of step).
public final class ClassifierTrainer {
    public let config: TrainingConfig
    public let runDirectory: String
    public let model: any ImageClassifier
    public let train: ClassificationDataset
    public let validation: ClassificationDataset
    public private(set) var state = RunState()
    let optimizer: any TrainingOptimizer
    let prepareTrain: ImagePreparation
    let prepareEval: ImagePreparation
    let workers: Int
    let skipUnreadable: Bool

    /// A new run. `runDirectory` is created (it must not hold another run's files).
    public init(config: TrainingConfig, train: ClassificationDataset, validation: ClassificationDataset,
                runDirectory: String, workers: Int = 1, skipUnreadable: Bool = false,
                prepareTrain: @escaping ImagePreparation, prepareEval: @escaping ImagePreparation) throws(TrainingError) {
        try config.validate()
        self.config = config
        self.runDirectory = runDirectory
        self.train = train
        self.validation = validation
        self.workers = workers
        self.skipUnreadable = skipUnreadable
        self.prepareTrain = prepareTrain
        self.prepareEval = prepareEval
        do {
            model = try ModelZoo.make(config.model, classes: config.classes.count, inputChannels: config.normalization.channels,
                                      inputSize: config.normalization.height, seed: config.seed)
        } catch { throw TrainingError(error.message) }
        optimizer = try config.makeOptimizer(model.namedParameters())
    }

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
        let dropouts = collectDropouts()
        while state.epoch < config.epochs {
            let epoch = state.epoch
            optimizer.learningRate = schedule.rate(at: epoch, base: config.learningRate)
            model.train()
            let loader = BatchLoader(
                dataset: train, batchSize: config.batchSize, normalization: config.normalization, shuffle: true,
                seed: config.seed, epoch: epoch, startBatch: state.batch, workers: workers,
                skipUnreadable: skipUnreadable, prepare: prepareTrain)
            let epochStart = Date()
            let secondsBefore = state.seconds
            while true {
                let batch: Batch?
                do { batch = try loader.next() } catch { throw TrainingError(error.message, path: error.path) }
                guard let batch else { break }
                for s in batch.skipped { events(.skipped(s)) }
                guard !batch.labels.isEmpty else {
                    state.batch += 1
                    continue
                }
                for (i, d) in dropouts.enumerated() {
                    d.reseed(config.seed ^ UInt64(epoch) << 32 ^ UInt64(state.batch) << 8 ^ UInt64(i))
                }
                optimizer.zeroGrad()
                let logits = model(Variable(batch.images))
                let loss = crossEntropyLoss(logits, targets: batch.labels,
                                            options: CrossEntropyOptions(labelSmoothing: config.labelSmoothing))
                loss.backward()
                optimizer.step()
                let predictions = logits.value.argmax(alongAxis: 1)
                state.lossSum += Double(loss.value.item) * Double(batch.labels.count)
                state.correct += zip(predictions, batch.labels).filter { $0 == $1 }.count
                state.seen += batch.labels.count
                state.batch += 1
                state.seconds = secondsBefore + Date().timeIntervalSince(epochStart)
                events(.batch(epoch: epoch, batch: state.batch, batches: loader.batchCount,
                              loss: state.lossSum / Double(max(state.seen, 1)),
                              accuracy: Double(state.correct) / Double(max(state.seen, 1)),
                              imagesPerSecond: Double(state.seen) / max(state.seconds, 1e-9)))
                if shouldStop() && state.batch < loader.batchCount {
                    loader.cancel()
                    try saveResume()
                    events(.interrupted(epoch: epoch, batch: state.batch))
                    return state
                }
            }
            // End of epoch: validate, record, checkpoint.
            var metrics = EpochMetrics(
                epoch: epoch + 1, epochs: config.epochs, learningRate: optimizer.learningRate,
                trainLoss: state.lossSum / Double(max(state.seen, 1)),
                trainAccuracy: Double(state.correct) / Double(max(state.seen, 1)), validationLoss: nil,
                validationAccuracy: nil, seconds: state.seconds, imagesPerSecond: Double(state.seen) / max(state.seconds, 1e-9))
            var confusion: ConfusionMatrix? = nil
            if validation.count > 0 {
                let (loss, matrix) = try evaluate(validation)
                metrics.validationLoss = loss
                metrics.validationAccuracy = matrix.accuracy
                confusion = matrix
            }
            state.history.append(metrics)
            state.epoch += 1
            state.batch = 0
            state.lossSum = 0
            state.correct = 0
            state.seen = 0
            state.seconds = 0
            let score = metrics.validationAccuracy ?? metrics.trainAccuracy
            let improved = score > state.bestAccuracy
            if improved {
                state.bestAccuracy = score
                state.bestEpoch = epoch + 1
            }
            try saveResume()
            try writeMetrics()
            try saveWeights(to: runDirectory + "/last.safetensors", epoch: epoch + 1)
            if improved {
                try saveWeights(to: runDirectory + "/best.safetensors", epoch: epoch + 1)
                if let confusion { try writeConfusion(confusion) }
            }
            events(.epoch(metrics))
        }
        return state
    }

    /// Mean loss and confusion matrix of the model (in evaluation mode) over a dataset.
    public func evaluate(_ data: ClassificationDataset) throws(TrainingError) -> (loss: Double, confusion: ConfusionMatrix) {
        try ClassifierTrainer.evaluate(model: model, data: data, normalization: config.normalization,
                                       batchSize: config.batchSize, workers: workers, skipUnreadable: skipUnreadable,
                                       prepare: prepareEval)
    }

    public static func evaluate(model: any ImageClassifier, data: ClassificationDataset, normalization: ImageNormalization,
                                batchSize: Int, workers: Int = 1, skipUnreadable: Bool = false,
                                prepare: @escaping ImagePreparation) throws(TrainingError) -> (loss: Double, confusion: ConfusionMatrix) {
        model.eval()
        defer { model.train() }
        let loader = BatchLoader(dataset: data, batchSize: batchSize, normalization: normalization, shuffle: false,
                                 seed: 0, epoch: 0, workers: workers, skipUnreadable: skipUnreadable, prepare: prepare)
        var matrix = ConfusionMatrix(classes: model.classes)
        var lossSum = 0.0
        while true {
            let batch: Batch?
            do { batch = try loader.next() } catch { throw TrainingError(error.message, path: error.path) }
            guard let batch else { break }
            guard !batch.labels.isEmpty else { continue }
            let logits = GradMode.withoutGradients { model(Variable(batch.images)) }
            lossSum += Double(crossEntropyLoss(logits, targets: batch.labels).value.item) * Double(batch.labels.count)
            matrix.add(truths: batch.labels, predictions: logits.value.argmax(alongAxis: 1))
        }
        return (matrix.total > 0 ? lossSum / Double(matrix.total) : 0, matrix)
    }

    private func collectDropouts() -> [Dropout] {
        var out: [Dropout] = []
        model.visit { _, m in if let d = m as? Dropout { out.append(d) } }
        return out
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

    private func writeConfusion(_ m: ConfusionMatrix) throws(TrainingError) {
        try writeJSON(ConfusionReport(classes: config.classes, matrix: m, epoch: state.bestEpoch), to: runDirectory + "/confusion.json")
    }
}

/// `confusion.json`: the validation confusion matrix of the best epoch with per-class precision and recall.
public struct ConfusionReport: Codable, Sendable {
    public var epoch: Int
    public var classes: [String]
    /// `counts[true][predicted]`.
    public var counts: [[Int]]
    public var accuracy: Double
    public var meanClassAccuracy: Double
    public var precision: [Double?]
    public var recall: [Double?]

    public init(classes: [String], matrix: ConfusionMatrix, epoch: Int) {
        self.epoch = epoch
        self.classes = classes
        counts = matrix.counts
        accuracy = matrix.accuracy
        meanClassAccuracy = matrix.meanClassAccuracy
        precision = (0..<matrix.classes).map(matrix.precision)
        recall = (0..<matrix.classes).map(matrix.recall)
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
