import Foundation
import KestrelAugment
import KestrelData
import KestrelFiles
import KestrelImage
import KestrelTraining

/// A detector from a `kestrel train --task detect` run folder: its config, the SSD with the best (else the last)
/// weights, in evaluation mode.
public final class TrainedDetector {
    public let config: TrainingConfig
    public let ssd: SSD
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
        guard config.task == "detect" else {
            throw TrainingError("this run trained a \(config.task ?? "classify") model, not a detector", path: configPath)
        }
        do {
            ssd = try DetectorZoo.make(config.model, classes: config.classes.count, inputSize: config.normalization.width,
                                       width: config.widthMultiplier ?? 1, seed: config.seed)
        } catch { throw TrainingError(error.message, path: configPath) }
        let best = runDirectory + "/best.safetensors", last = runDirectory + "/last.safetensors"
        checkpoint = Files.exists(best) ? best : last
        do { try ssd.loadCheckpoint(from: checkpoint) } catch { throw TrainingError(error.message, path: checkpoint) }
        ssd.eval()
    }

    /// The objects in one image (any size; it is resized to the input as in training), boxes in its pixels.
    public func detect(_ image: Image, options: PostprocessOptions = PostprocessOptions()) throws(DataError) -> [DetectedObject] {
        let n = config.normalization
        let resized: Image
        do {
            // The same resize as the training loader's.
            let rgb = try image.flattened(onto: 255).converted(toChannels: 3)
            resized = try Resize(width: n.width, height: n.height)(try Sample(image: rgb, boxes: [])).image
        } catch let e as ImageError { throw DataError(e.message) } catch { throw DataError("\(error)") }
        let batch = try n.batch([resized])
        return ssd.detect(batch, sizes: [(image.width, image.height)], options: options)[0]
    }

    /// The class name of a detector label (1…K).
    public func className(_ label: Int) -> String { config.classes[label - 1] }
}
