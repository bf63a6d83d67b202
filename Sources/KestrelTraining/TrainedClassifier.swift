import Foundation
import KestrelData
import KestrelFiles
import KestrelModels
import KestrelNN

/// A trained classifier loaded from a run folder, for `kestrel classify` and `kestrel test`.
public final class TrainedClassifier {
    public let config: TrainingConfig
    public let model: any ImageClassifier
    /// The checkpoint the weights came from (`best.safetensors`, else `last.safetensors`).
    public let checkpoint: String

    public init(runDirectory: String) throws(TrainingError) {
        let configPath = runDirectory + "/config.json"
        let bytes: [UInt8]
        do { bytes = try Files.read(configPath, maxBytes: 1 << 24) } catch {
            throw TrainingError("not a training run folder (\(error.message))", path: configPath)
        }
        do { config = try JSONDecoder().decode(TrainingConfig.self, from: Data(bytes)) } catch {
            throw TrainingError("config.json is not a Kestrel training config: \(error)", path: configPath)
        }
        if let task = config.task, task != "classify" {
            throw TrainingError("this run trained a \(task) model, not a classifier (use kestrel \(task == "detect" ? "detect" : "segment"))",
                                path: configPath)
        }
        do {
            model = try ModelZoo.make(config.model, classes: config.classes.count, inputChannels: config.normalization.channels,
                                      inputSize: config.normalization.height)
        } catch { throw TrainingError(error.message, path: configPath) }
        let best = runDirectory + "/best.safetensors", last = runDirectory + "/last.safetensors"
        checkpoint = Files.exists(best) ? best : last
        do { try model.loadCheckpoint(from: checkpoint) } catch { throw TrainingError(error.message, path: checkpoint) }
        model.eval()
    }

    /// Class probabilities `[N, classes]` (softmax of the logits) for a prepared batch `[N, C, H, W]`.
    public func probabilities(_ batch: Tensor) -> Tensor {
        GradMode.withoutGradients { model(Variable(batch)).softmax(alongAxis: 1).value }
    }
}
