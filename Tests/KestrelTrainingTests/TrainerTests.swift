import Foundation
import KestrelData
import KestrelTraining
import Testing
import _KestrelTestSupport

@Suite struct TrainerTests {
    func digits(_ n: Int) throws -> (ClassificationDataset, ClassificationDataset) {
        let all = try ClassificationDataset.load(Fixtures.dataset("digits"))
        let subset = ClassificationDataset(classes: all.classes, samples: stride(from: 0, to: all.count, by: all.count / n).map { all.samples[$0] })
        return subset.split(validationFraction: 0.25, seed: 1)
    }

    func trainer(_ dir: String, epochs: Int = 2, optimizer: String = "momentum") throws -> ClassifierTrainer {
        let (train, val) = try digits(300)
        let config = TrainingConfig(model: "simple_convnet", classes: train.classes,
                                    normalization: .centered(channels: 1, size: 8), epochs: epochs, batchSize: 32,
                                    learningRate: 0.02, optimizer: optimizer, seed: 3)
        let identity: ImagePreparation = { image, _, _ in image }
        return try ClassifierTrainer(config: config, train: train, validation: val, runDirectory: dir,
                                     prepareTrain: identity, prepareEval: identity)
    }

    @Test(arguments: ["momentum", "adam"])
    func resumingIsExact(optimizer: String) throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let a = try trainer(root.path + "/a", optimizer: optimizer)
        try a.start()
        try a.run(events: { _ in })
        // The same run, stopped after 10 batches (inside epoch 2), then resumed by a fresh trainer.
        let b = try trainer(root.path + "/b", optimizer: optimizer)
        try b.start()
        var batches = 0
        var interrupted = false
        try b.run(events: { e in
            if case .batch = e { batches += 1 }
            if case .interrupted = e { interrupted = true }
        }, shouldStop: { batches == 10 })
        #expect(interrupted)
        #expect(b.state.epoch == 1)
        let c = try trainer(root.path + "/b", optimizer: optimizer)
        try c.restore()
        let perEpoch = (a.train.count + 31) / 32
        #expect(c.state.batch == 10 - perEpoch)
        try c.run(events: { _ in })
        for (x, y) in zip(a.model.stateDict(), c.model.stateDict()) {
            #expect(x.tensor.isIdentical(to: y.tensor), "\(x.name)")
        }
        #expect(a.state.history.map { $0["val_accuracy"] } == c.state.history.map { $0["val_accuracy"] })
        for name in ["config.json", "metrics.jsonl", "last.safetensors", "best.safetensors", "confusion.json", "resume.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: root.path + "/b/" + name), "\(name)")
        }
    }

    @Test func refusesToOverwriteARun() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try trainer(root.path).start()
        #expect(throws: TrainingError.self) { try trainer(root.path).start() }
    }

    @Test func badSettingsAreRejected() throws {
        let (train, val) = try digits(100)
        let identity: ImagePreparation = { image, _, _ in image }
        for change in [{ (c: inout TrainingConfig) in c.epochs = 0 }, { $0.optimizer = "lbfgs" }, { $0.learningRate = -1 },
                       { $0.validationFraction = 1 }, { $0.schedule = "linear" }, { $0.normalization.std = [0] }] {
            var config = TrainingConfig(model: "simple_convnet", classes: train.classes, normalization: .centered(channels: 1, size: 8))
            change(&config)
            #expect(throws: TrainingError.self) {
                try ClassifierTrainer(config: config, train: train, validation: val, runDirectory: "/tmp/unused",
                                      prepareTrain: identity, prepareEval: identity)
            }
        }
    }

    @Test func confusionMatrixByHand() {
        var m = ConfusionMatrix(classes: 3)
        m.add(truths: [0, 0, 1, 1, 1, 2], predictions: [0, 1, 1, 1, 0, 0])
        #expect(m.total == 6 && m.correct == 3)
        #expect(m.accuracy == 0.5)
        #expect(m.precision(0) == 1.0 / 3.0)
        #expect(m.recall(1) == 2.0 / 3.0)
        #expect(m.precision(2) == nil)
        #expect(m.recall(2) == 0)
        #expect(abs(m.meanClassAccuracy - (0.5 + 2.0 / 3.0 + 0) / 3) < 1e-12)
    }

    @Test func schedulesOverEpochs() {
        var c = TrainingConfig(model: "resnet20", classes: ["a", "b"], normalization: .centered(channels: 3, size: 32), epochs: 8,
                               learningRate: 0.1, schedule: "step")
        #expect((0..<8).map { c.learningRateSchedule().rate(at: $0, base: 0.1) }.map { ($0 * 1000).rounded() } == [100, 100, 100, 100, 10, 10, 1, 1])
        c.schedule = "cosine"
        c.warmupEpochs = 2
        let r = (0..<8).map { c.learningRateSchedule().rate(at: $0, base: 0.1) }
        #expect(abs(r[0] - 0.01) < 1e-7 && abs(r[2] - 0.1) < 1e-7 && r[7] < r[3])
    }
}
