import Foundation
import KestrelAugment
import KestrelData
import KestrelFiles
import KestrelImage
import KestrelModels
import KestrelTraining

/// A trained segmentation model loaded from a run folder (`kestrel segment`): its config, and the weights of
/// `best.safetensors` (else `last.safetensors`).
public final class TrainedSegmenter {
    public let config: TrainingConfig
    public let model: any Segmenter
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
        guard config.segmentation != nil else {
            throw TrainingError("this run trained a classifier (\(config.model)), not a segmentation model; use kestrel classify", path: runDirectory)
        }
        do {
            model = try SegmentationZoo.make(config.model, classes: config.classes.count, inputChannels: config.normalization.channels)
        } catch { throw TrainingError(error.message, path: configPath) }
        let best = runDirectory + "/best.safetensors", last = runDirectory + "/last.safetensors"
        checkpoint = Files.exists(best) ? best : last
        do { try model.loadCheckpoint(from: checkpoint) } catch { throw TrainingError(error.message, path: checkpoint) }
        model.eval()
    }

    /// The label map `[H, W, 1]` of an image of any size (class ids `0..<classes.count`): the image is resized
    /// to the model's input size (bilinear), or kept at its own size with `native` (every model here is fully
    /// convolutional); the class scores are bilinearly resized back to the image's size, then the best class
    /// is taken per pixel. The image must have the model's channel count.
    public func segment(_ image: Image, native: Bool = false) throws(DataError) -> Image {
        let n = config.normalization
        guard image.channels == n.channels else {
            throw DataError("image has \(image.channels) channels; the model takes \(n.channels)")
        }
        var input = image
        var norm = n
        if native {
            norm.width = image.width
            norm.height = image.height
        } else if image.width != n.width || image.height != n.height {
            do { input = try Resize(width: n.width, height: n.height, interpolation: .bilinear)(try Sample(image: image)).image } catch {
                throw DataError("\(error)")
            }
        }
        let batch = try norm.batch([input])
        let scores = GradMode.withoutGradients { model(Variable(batch)) }.value
        return LabelMaps.resizedArgmax(scores, sample: 0, height: image.height, width: image.width)
    }
}
