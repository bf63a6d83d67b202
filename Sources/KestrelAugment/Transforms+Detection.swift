import KestrelGeometry
import KestrelImage

/// SSD's "zoom out" (Liu et al. 2016 §3.6; torchvision's `RandomZoomOut`): the image is placed at a random
/// position on a canvas `r` times its size, `r` uniform in `ratio`, the rest filled with `fill` (SSD uses the
/// dataset mean) and the mask with `maskFill`. Makes small objects out of large ones; boxes move with the image.
public struct ZoomOut: Transform {
    public let ratio: ClosedRange<Double>
    public let fill: PixelFill
    public let maskFill: UInt8

    public init(ratio: ClosedRange<Double> = 1...4, fill: PixelFill = PixelFill(124), maskFill: UInt8 = 255) throws(AugmentError) {
        guard ratio.lowerBound >= 1, ratio.upperBound <= 16 else { throw .parameter("zoom_out ratio must lie in [1, 16]") }
        (self.ratio, self.fill, self.maskFill) = (ratio, fill, maskFill)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> PixelRect {
        let r = context.random.uniform(ratio)
        let w = min(maxAugmentSide, Int((Double(sample.width) * r).rounded(.down)))
        let h = min(maxAugmentSide, Int((Double(sample.height) * r).rounded(.down)))
        let left = context.random.integer(in: 0...max(0, w - sample.width))
        let top = context.random.integer(in: 0...max(0, h - sample.height))
        return PixelRect(x: -left, y: -top, width: w, height: h)
    }

    public func apply(_ rect: PixelRect, to sample: inout Sample) {
        cropSample(&sample, rect, border: .constant, fill: fill, maskFill: maskFill)
    }
}

/// SSD's random crop with a minimum IoU (the original's batch sampler; torchvision's `RandomIoUCrop`):
/// choose a threshold t from `thresholds` (1 means "keep the whole image"); then up to `trials` times draw a crop
/// whose sides are `U(minScale, 1)` of the image's with aspect ratio in [½, 2], keep it when some box centre lies
/// strictly inside it and the best IoU of those boxes with the crop is ≥ t. Boxes whose centre falls outside the
/// crop are dropped (the SSD rule, whatever their visible fraction); the others are clipped to it. When no crop
/// is accepted in `rounds` rounds, or the sample has no boxes, the sample is unchanged.
public struct IoURandomCrop: Transform {
    public let thresholds: [Double]
    public let minScale: Double
    public let trials: Int
    public let rounds: Int

    public init(thresholds: [Double] = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1], minScale: Double = 0.3, trials: Int = 40,
                rounds: Int = 10) throws(AugmentError) {
        guard !thresholds.isEmpty, thresholds.allSatisfy({ (0...1).contains($0) }) else {
            throw .parameter("iou_crop thresholds must be numbers in [0, 1]")
        }
        guard minScale > 0, minScale <= 1, trials > 0, rounds > 0 else {
            throw .parameter("iou_crop needs 0 < min_scale <= 1 and positive trials and rounds")
        }
        (self.thresholds, self.minScale, self.trials, self.rounds) = (thresholds, minScale, trials, rounds)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> PixelRect? {
        guard !sample.boxes.isEmpty else { return nil }
        let (w, h) = (Double(sample.width), Double(sample.height))
        for _ in 0..<rounds {
            let t = thresholds[context.random.integer(in: 0...(thresholds.count - 1))]
            if t >= 1 { return nil }
            for _ in 0..<trials {
                let cw = Int(w * context.random.uniform(minScale, 1)), ch = Int(h * context.random.uniform(minScale, 1))
                guard cw > 0, ch > 0 else { continue }
                let aspect = Double(cw) / Double(ch)
                guard aspect >= 0.5, aspect <= 2 else { continue }
                let left = Int((w - Double(cw)) * context.random.unit()), top = Int((h - Double(ch)) * context.random.unit())
                let crop = BoxXYXY(x1: Double(left), y1: Double(top), x2: Double(left + cw), y2: Double(top + ch))
                let inside = sample.boxes.filter { IoURandomCrop.centre($0.box, in: crop) }
                guard !inside.isEmpty, inside.map({ $0.box.iou(crop) }).max()! >= t else { continue }
                return PixelRect(x: left, y: top, width: cw, height: ch)
            }
        }
        return nil
    }

    public func apply(_ rect: PixelRect?, to sample: inout Sample) {
        guard let rect else { return }
        let crop = BoxXYXY(x1: Double(rect.x), y1: Double(rect.y), x2: Double(rect.x + rect.width), y2: Double(rect.y + rect.height))
        sample.boxes.removeAll { !IoURandomCrop.centre($0.box, in: crop) }
        cropSample(&sample, rect, border: .constant, fill: .black, maskFill: 255)
    }

    static func centre(_ b: BoxXYXY, in crop: BoxXYXY) -> Bool {
        let (cx, cy) = ((b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2)
        return crop.x1 < cx && cx < crop.x2 && crop.y1 < cy && cy < crop.y2
    }
}
