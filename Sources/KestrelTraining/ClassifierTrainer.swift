import Foundation
import KestrelData
import KestrelModels
import KestrelNN

extension BatchLoader: EpochBatches {
    public func next() throws(TrainingError) -> Batch? {
        do { return try nextBatch() } catch { throw TrainingError(error.message, path: error.path) }
    }
}

/// Image classification: cross-entropy on labelled images; validation reports loss and accuracy and keeps the
/// best epoch's confusion matrix in `confusion.json`.
public final class ClassificationTask: TrainingTask {
    public let config: TrainingConfig
    public let classifier: any ImageClassifier
    public let train: ClassificationDataset
    public let validation: ClassificationDataset
    let prepareTrain: ImagePreparation
    let prepareEval: ImagePreparation
    let workers: Int
    let skipUnreadable: Bool
    private var lastConfusion: ConfusionMatrix?

    public init(config: TrainingConfig, train: ClassificationDataset, validation: ClassificationDataset, workers: Int = 1,
                skipUnreadable: Bool = false, prepareTrain: @escaping ImagePreparation,
                prepareEval: @escaping ImagePreparation) throws(TrainingError) {
        self.config = config
        self.train = train
        self.validation = validation
        self.workers = workers
        self.skipUnreadable = skipUnreadable
        self.prepareTrain = prepareTrain
        self.prepareEval = prepareEval
        do {
            classifier = try ModelZoo.make(config.model, classes: config.classes.count, inputChannels: config.normalization.channels,
                                           inputSize: config.normalization.height, seed: config.seed)
        } catch { throw TrainingError(error.message) }
    }

    public var model: Module { classifier }
    public var trainCount: Int { train.count }

    public func batches(epoch: Int, startBatch: Int) -> any EpochBatches<Batch> {
        BatchLoader(dataset: train, batchSize: config.batchSize, normalization: config.normalization, shuffle: true,
                    seed: config.seed, epoch: epoch, startBatch: startBatch, workers: workers,
                    skipUnreadable: skipUnreadable, prepare: prepareTrain)
    }

    public func step(_ batch: Batch) throws(TrainingError) -> StepResult {
        guard !batch.labels.isEmpty else { return StepResult(loss: Variable(Tensor(0)), samples: 0, skipped: batch.skipped) }
        let logits = classifier(Variable(batch.images))
        let loss = crossEntropyLoss(logits, targets: batch.labels,
                                    options: CrossEntropyOptions(labelSmoothing: config.labelSmoothing))
        let correct = zip(logits.value.argmax(alongAxis: 1), batch.labels).filter { $0 == $1 }.count
        return StepResult(loss: loss, samples: batch.labels.count, sums: ["accuracy": Double(correct)], skipped: batch.skipped)
    }

    public func validate() throws(TrainingError) -> Validation? {
        guard validation.count > 0 else { return nil }
        let (loss, m) = try ClassificationTask.evaluate(model: classifier, data: validation, normalization: config.normalization,
                                                        batchSize: config.batchSize, workers: workers,
                                                        skipUnreadable: skipUnreadable, prepare: prepareEval)
        lastConfusion = m
        return Validation(score: m.accuracy, metrics: ["loss": loss, "accuracy": m.accuracy])
    }

    public func writeBestArtifacts(epoch: Int, to directory: String) throws(TrainingError) {
        guard let m = lastConfusion else { return }
        try writeJSON(ConfusionReport(classes: config.classes, matrix: m, epoch: epoch), to: directory + "/confusion.json")
    }

    /// Mean loss and confusion matrix of a classifier (in evaluation mode) over a dataset.
    public static func evaluate(model: any ImageClassifier, data: ClassificationDataset, normalization: ImageNormalization,
                                batchSize: Int, workers: Int = 1, skipUnreadable: Bool = false,
                                prepare: @escaping ImagePreparation) throws(TrainingError) -> (loss: Double, confusion: ConfusionMatrix) {
        model.eval()
        let loader = BatchLoader(dataset: data, batchSize: batchSize, normalization: normalization, shuffle: false,
                                 seed: 0, epoch: 0, workers: workers, skipUnreadable: skipUnreadable, prepare: prepare)
        var matrix = ConfusionMatrix(classes: model.classes)
        var lossSum = 0.0
        while let batch = try loader.next() {
            guard !batch.labels.isEmpty else { continue }
            let logits = GradMode.withoutGradients { model(Variable(batch.images)) }
            lossSum += Double(crossEntropyLoss(logits, targets: batch.labels).value.item) * Double(batch.labels.count)
            matrix.add(truths: batch.labels, predictions: logits.value.argmax(alongAxis: 1))
        }
        return (matrix.total > 0 ? lossSum / Double(matrix.total) : 0, matrix)
    }
}

/// Trains an image classifier (see ``Trainer`` and ``ClassificationTask``).
public typealias ClassifierTrainer = Trainer<ClassificationTask>

extension Trainer where Task == ClassificationTask {
    /// A classification run.
    public convenience init(config: TrainingConfig, train: ClassificationDataset, validation: ClassificationDataset,
                            runDirectory: String, workers: Int = 1, skipUnreadable: Bool = false,
                            prepareTrain: @escaping ImagePreparation, prepareEval: @escaping ImagePreparation) throws(TrainingError) {
        try config.validate()
        let task = try ClassificationTask(config: config, train: train, validation: validation, workers: workers,
                                          skipUnreadable: skipUnreadable, prepareTrain: prepareTrain, prepareEval: prepareEval)
        try self.init(task: task, config: config, runDirectory: runDirectory)
    }

    public var classifier: any ImageClassifier { task.classifier }
    public var train: ClassificationDataset { task.train }
    public var validation: ClassificationDataset { task.validation }
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
