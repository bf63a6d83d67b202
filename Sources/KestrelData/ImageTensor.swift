import KestrelImage
import KestrelTensor

/// How images become model input: channels, size and per-channel normalisation.
///
/// A pixel value v (0…255) of channel c becomes `(v / 255 − mean[c]) / std[c]`, laid out `[C, H, W]` in a
/// batch `[N, C, H, W]`. ImageNet statistics are torchvision's (`mean (0.485, 0.456, 0.406)`,
/// `std (0.229, 0.224, 0.225)`).
public struct ImageNormalization: Sendable, Equatable, Codable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var mean: [Float]
    public var std: [Float]

    public init(channels: Int, height: Int, width: Int, mean: [Float], std: [Float]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.mean = mean
        self.std = std
    }

    public static func imagenet(size: Int) -> ImageNormalization {
        ImageNormalization(channels: 3, height: size, width: size, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    }

    /// Mean 0.5, std 0.5 per channel (values in [−1, 1]).
    public static func centered(channels: Int, size: Int) -> ImageNormalization {
        ImageNormalization(channels: channels, height: size, width: size, mean: [Float](repeating: 0.5, count: channels),
                           std: [Float](repeating: 0.5, count: channels))
    }

    public func validate() throws(DataError) {
        guard channels == 1 || channels == 3 else { throw DataError("model input channels must be 1 or 3, got \(channels)") }
        guard height > 0, width > 0 else { throw DataError("input size must be positive") }
        guard mean.count == channels, std.count == channels, std.allSatisfy({ $0 > 0 }) else {
            throw DataError("normalisation needs \(channels) means and \(channels) positive standard deviations")
        }
    }

    /// Writes one image into `out` (`channels·height·width` floats, CHW). The image must already have this
    /// size and channel count.
    public func write(_ image: Image, into out: UnsafeMutablePointer<Float>) throws(DataError) {
        guard image.width == width, image.height == height, image.channels == channels else {
            throw DataError("image is \(image.width)x\(image.height)x\(image.channels), the model takes \(width)x\(height)x\(channels)")
        }
        let plane = width * height
        image.pixels.withUnsafeBufferPointer { px in
            for c in 0..<channels {
                let scale = 1 / (255 * std[c]), shift = -mean[c] / std[c]
                let dst = out + c * plane
                for i in 0..<plane { dst[i] = Float(px[i * channels + c]) * scale + shift }
            }
        }
    }

    /// A batch `[N, C, H, W]` from images of the right size.
    public func batch(_ images: [Image]) throws(DataError) -> Tensor {
        var t = Tensor.zeros([images.count, channels, height, width])
        let per = channels * height * width
        var failure: DataError? = nil
        t.withUnsafeMutableBufferPointer { buffer in
            for (i, image) in images.enumerated() where failure == nil {
                do throws(DataError) { try write(image, into: buffer.baseAddress! + i * per) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return t
    }
}
