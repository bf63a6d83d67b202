import KestrelImage
import KestrelModels

/// Turning class scores into label maps, resizing label maps, and drawing them.
public enum LabelMaps {
    /// Per-pixel argmax of scores `[N, C, h, w]`, sample `n` as a label map `[h, w, 1]` (ties: the lower class).
    public static func argmax(_ scores: Tensor, sample n: Int) -> Image {
        let (c, h, w) = (scores.shape[1], scores.shape[2], scores.shape[3])
        precondition(c <= 256, "at most 256 classes fit a label map")
        var labels = [UInt8](repeating: 0, count: h * w)
        scores.withUnsafeBufferPointer { s in
            let base = n * c * h * w
            let plane = h * w
            var best = [Float](repeating: -.infinity, count: plane)
            for k in 0..<c {
                let p = base + k * plane
                for i in 0..<plane where s[p + i] > best[i] {
                    best[i] = s[p + i]
                    labels[i] = UInt8(k)
                }
            }
        }
        return try! Image(width: w, height: h, channels: 1, pixels: labels)  // sizes from a valid tensor
    }

    /// The argmax of sample `n`'s scores after bilinear resizing to `height × width` (PyTorch's
    /// `interpolate(mode="bilinear", align_corners=False)`: source `(d + ½)·in/out − ½`, clamped to the
    /// edges), without materialising the resized scores: label maps for large photos from scores at the model's
    /// input size. Ties go to the lower class.
    public static func resizedArgmax(_ scores: Tensor, sample n: Int, height oh: Int, width ow: Int) -> Image {
        let (c, h, w) = (scores.shape[1], scores.shape[2], scores.shape[3])
        if oh == h && ow == w { return argmax(scores, sample: n) }
        precondition(c <= 256, "at most 256 classes fit a label map")
        let ys = taps(input: h, output: oh), xs = taps(input: w, output: ow)
        var labels = [UInt8](repeating: 0, count: oh * ow)
        scores.withUnsafeBufferPointer { s in
            let base = n * c * h * w
            for y in 0..<oh {
                let (y0, y1, fy) = ys[y]
                for x in 0..<ow {
                    let (x0, x1, fx) = xs[x]
                    let w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx
                    var best = -Float.infinity
                    var arg = 0
                    for k in 0..<c {
                        let p = base + k * h * w
                        let v = w00 * s[p + y0 * w + x0] + w01 * s[p + y0 * w + x1] + w10 * s[p + y1 * w + x0] + w11 * s[p + y1 * w + x1]
                        if v > best {
                            best = v
                            arg = k
                        }
                    }
                    labels[y * ow + x] = UInt8(arg)
                }
            }
        }
        return try! Image(width: ow, height: oh, channels: 1, pixels: labels)
    }

    /// Bilinear taps (i0, i1, weight of i1) per output coordinate, align_corners = false.
    static func taps(input: Int, output: Int) -> [(Int, Int, Float)] {
        let scale = Float(input) / Float(output)
        return (0..<output).map { d in
            let src = max(0, (Float(d) + 0.5) * scale - 0.5)
            let i0 = min(Int(src), input - 1)
            let i1 = min(i0 + 1, input - 1)
            return (i0, i1, src - Float(i0))
        }
    }

    /// Nearest-neighbour resize of a label map by pixel centres (source `⌊(d + ½)·in/out⌋`, OpenCV's
    /// INTER_NEAREST_EXACT), so labels are never blended.
    public static func resizedNearest(_ labels: Image, width ow: Int, height oh: Int) -> Image {
        if labels.width == ow && labels.height == oh { return labels }
        let (w, h, ch) = (labels.width, labels.height, labels.channels)
        let xs = (0..<ow).map { min(w - 1, Int((Double($0) + 0.5) * Double(w) / Double(ow))) }
        var out = [UInt8](repeating: 0, count: ow * oh * ch)
        for y in 0..<oh {
            let sy = min(h - 1, Int((Double(y) + 0.5) * Double(h) / Double(oh)))
            for x in 0..<ow {
                for k in 0..<ch { out[(y * ow + x) * ch + k] = labels.pixels[(sy * w + xs[x]) * ch + k] }
            }
        }
        return try! Image(width: ow, height: oh, channels: ch, pixels: out)
    }

    /// Pixels per label value `0...255`.
    public static func histogram(_ labels: Image) -> [Int] {
        var counts = [Int](repeating: 0, count: 256)
        for v in labels.pixels { counts[Int(v)] += 1 }
        return counts
    }

    /// The photo with every pixel whose label is not 0 (background) or 255 (ignore) blended with its class
    /// colour: `round((1 − α)·photo + α·colour)` per channel, RGB out. `image` may be gray or RGB(A); the label
    /// map must have its size.
    public static func overlay(_ image: Image, labels: Image, palette: [Color] = Palette.voc, alpha: Double = 0.5) -> Image {
        precondition(image.width == labels.width && image.height == labels.height, "overlay needs a label map of the image's size")
        let rgb = image.channels == 3 ? image : try! image.converted(toChannels: 3)  // 3 is always a valid target
        var px = rgb.pixels
        for i in 0..<labels.pixels.count {
            let l = labels.pixels[i]
            guard l != 0 && l != 255 else { continue }
            let c = palette[Int(l) % palette.count]
            for (k, v) in [c.r, c.g, c.b].enumerated() {
                px[i * 3 + k] = UInt8(((1 - alpha) * Double(px[i * 3 + k]) + alpha * Double(v)).rounded())
            }
        }
        return try! Image(width: rgb.width, height: rgb.height, channels: 3, pixels: px)
    }
}
