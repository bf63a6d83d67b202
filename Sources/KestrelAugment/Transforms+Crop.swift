import KestrelGeometry
import KestrelImage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The largest side a transform may produce; keeps every size the module computes valid.
public let maxAugmentSide = 1 << 15

/// A rectangle of pixels: top-left pixel `(x, y)`, size `width × height`. May extend past the image.
public struct PixelRect: Sendable, Equatable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        (self.x, self.y, self.width, self.height) = (x, y, width, height)
    }
}

/// Cuts `rect` out of image and mask (parts outside the image filled) and moves the boxes by `−(x, y)`,
/// clipping them to the new canvas.
func cropSample(_ sample: inout Sample, _ rect: PixelRect, border: BorderMode, fill: PixelFill, maskFill: UInt8) {
    guard rect.width > 0, rect.height > 0 else { return }
    if rect == PixelRect(x: 0, y: 0, width: sample.width, height: sample.height) { return }
    sample.image = GeometryKernels.extract(
        sample.image, x0: rect.x, y0: rect.y, width: rect.width, height: rect.height, border: border, fill: fill)
    if let mask = sample.mask {
        sample.mask = GeometryKernels.extract(
            mask, x0: rect.x, y0: rect.y, width: rect.width, height: rect.height, border: border,
            fill: PixelFill(maskFill))
    }
    let dx = Double(rect.x)
    let dy = Double(rect.y)
    for i in sample.boxes.indices {
        let b = sample.boxes[i].box
        sample.boxes[i].place(
            BoxXYXY(x1: b.x1 - dx, y1: b.y1 - dy, x2: b.x2 - dx, y2: b.y2 - dy), width: rect.width,
            height: rect.height)
    }
}

/// Resizes image (with `interpolation`) and mask (nearest) to `width × height`, scaling the boxes.
func resizeSample(_ sample: inout Sample, width: Int, height: Int, interpolation: Interpolation) {
    guard width != sample.width || height != sample.height else { return }
    let sx = Double(width) / Double(sample.width)
    let sy = Double(height) / Double(sample.height)
    sample.image = ResizeKernels.resize(sample.image, width: width, height: height, interpolation: interpolation)
    if let mask = sample.mask { sample.mask = ResizeKernels.nearest(mask, width, height) }
    for i in sample.boxes.indices {
        let b = sample.boxes[i].box
        sample.boxes[i].box = BoxXYXY(x1: b.x1 * sx, y1: b.y1 * sy, x2: b.x2 * sx, y2: b.y2 * sy)
    }
}

func checkSide(_ name: String, _ value: Int?) throws(AugmentError) {
    if let value, !(1...maxAugmentSide).contains(value) {
        throw .parameter("\(name) must be 1...\(maxAugmentSide) pixels, got \(value)")
    }
}

/// Cuts a fixed rectangle: `width × height` pixels with top-left pixel `(x, y)`. Unset sizes default to 80% of
/// the image's (rounded); an unset `x` or `y` centres the window. Parts of the window outside the image are
/// filled with `fill` (mask: `maskFill`), so the output is always `width × height`.
public struct Crop: Transform {
    public let x: Int?, y: Int?, width: Int?, height: Int?
    public let fill: PixelFill
    public let maskFill: UInt8

    public init(
        x: Int? = nil, y: Int? = nil, width: Int? = nil, height: Int? = nil, fill: PixelFill = .black,
        maskFill: UInt8 = 255
    ) throws(AugmentError) {
        try checkSide("crop width", width)
        try checkSide("crop height", height)
        (self.x, self.y, self.width, self.height, self.fill, self.maskFill) = (x, y, width, height, fill, maskFill)
    }

    /// The rectangle this crop cuts from a `w × h` image.
    public func rect(width w: Int, height h: Int) -> PixelRect {
        let cw = width ?? max(1, Int((Double(w) * 0.8).rounded()))
        let ch = height ?? max(1, Int((Double(h) * 0.8).rounded()))
        return PixelRect(x: x ?? (w - cw) / 2, y: y ?? (h - ch) / 2, width: cw, height: ch)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> PixelRect {
        rect(width: sample.width, height: sample.height)
    }

    public func apply(_ rect: PixelRect, to sample: inout Sample) {
        cropSample(&sample, rect, border: .constant, fill: fill, maskFill: maskFill)
    }
}

/// Cuts a `width × height` window at a uniformly random position (unset sizes: 80% of the image's). When the
/// window is larger than the image, the image lands at a random position inside it and the rest is filled.
public struct RandomCrop: Transform {
    public let width: Int?, height: Int?
    public let fill: PixelFill
    public let maskFill: UInt8

    public init(width: Int? = nil, height: Int? = nil, fill: PixelFill = .black, maskFill: UInt8 = 255)
        throws(AugmentError)
    {
        try checkSide("random_crop width", width)
        try checkSide("random_crop height", height)
        (self.width, self.height, self.fill, self.maskFill) = (width, height, fill, maskFill)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> PixelRect {
        let w = sample.width
        let h = sample.height
        let cw = width ?? max(1, Int((Double(w) * 0.8).rounded()))
        let ch = height ?? max(1, Int((Double(h) * 0.8).rounded()))
        let x = context.random.integer(in: min(0, w - cw)...max(0, w - cw))
        let y = context.random.integer(in: min(0, h - ch)...max(0, h - ch))
        return PixelRect(x: x, y: y, width: cw, height: ch)
    }

    public func apply(_ rect: PixelRect, to sample: inout Sample) {
        cropSample(&sample, rect, border: .constant, fill: fill, maskFill: maskFill)
    }
}

/// torchvision's RandomResizedCrop: a crop covering a random fraction `scale` of the image area with a random
/// aspect ratio (log-uniform in `ratio`), resized to `width × height`.
///
/// Sampling, as `torchvision.transforms.RandomResizedCrop.get_params`: up to 10 attempts of area
/// `A·U(scale)` and ratio `exp(U(log ratio))`, `w = round(√(area·ratio))`, `h = round(√(area/ratio))`, accepted
/// when it fits; otherwise the centred crop of the whole image with its ratio clamped into `ratio`.
public struct RandomResizedCrop: Transform {
    public let width: Int, height: Int
    public let scale: ClosedRange<Double>
    public let ratio: ClosedRange<Double>
    public let interpolation: Interpolation

    public init(
        width: Int = 224, height: Int = 224, scale: ClosedRange<Double> = 0.08...1,
        ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3), interpolation: Interpolation = .bilinear
    ) throws(AugmentError) {
        try checkSide("random_resized_crop width", width)
        try checkSide("random_resized_crop height", height)
        try checkRange("random_resized_crop scale", scale, within: 1e-6...1)
        try checkRange("random_resized_crop ratio", ratio, within: 1e-3...1e3)
        (self.width, self.height, self.scale, self.ratio, self.interpolation) =
            (width, height, scale, ratio, interpolation)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> PixelRect {
        let w = sample.width
        let h = sample.height
        let area = Double(w * h)
        let logRatio = log(ratio.lowerBound)...log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * context.random.uniform(scale)
            let aspect = exp(context.random.uniform(logRatio))
            let cw = Int((target * aspect).squareRoot().rounded())
            let ch = Int((target / aspect).squareRoot().rounded())
            if cw > 0 && cw <= w && ch > 0 && ch <= h {
                let y = context.random.integer(in: 0...(h - ch))
                let x = context.random.integer(in: 0...(w - cw))
                return PixelRect(x: x, y: y, width: cw, height: ch)
            }
        }
        let inRatio = Double(w) / Double(h)
        var cw = w
        var ch = h
        if inRatio < ratio.lowerBound {
            ch = max(1, min(h, Int((Double(w) / ratio.lowerBound).rounded())))
        } else if inRatio > ratio.upperBound {
            cw = max(1, min(w, Int((Double(h) * ratio.upperBound).rounded())))
        }
        return PixelRect(x: (w - cw) / 2, y: (h - ch) / 2, width: cw, height: ch)
    }

    public func apply(_ rect: PixelRect, to sample: inout Sample) {
        cropSample(&sample, rect, border: .constant, fill: .black, maskFill: 255)
        resizeSample(&sample, width: width, height: height, interpolation: interpolation)
    }
}

/// Resizes to `width × height` with `interpolation` (mask: nearest); boxes are scaled. With only one side
/// given, the other keeps the aspect ratio (rounded, at least 1).
public struct Resize: Transform {
    public let width: Int?, height: Int?
    public let interpolation: Interpolation

    public init(width: Int? = nil, height: Int? = nil, interpolation: Interpolation = .bilinear) throws(AugmentError) {
        guard width != nil || height != nil else { throw .parameter("resize needs a width, a height or both") }
        try checkSide("resize width", width)
        try checkSide("resize height", height)
        (self.width, self.height, self.interpolation) = (width, height, interpolation)
    }

    /// The output size for a `w × h` image.
    public func size(width w: Int, height h: Int) -> (Int, Int) {
        switch (width, height) {
        case let (ow?, oh?): return (ow, oh)
        case let (ow?, nil):
            return (ow, min(maxAugmentSide, max(1, Int((Double(h) * Double(ow) / Double(w)).rounded()))))
        case let (nil, oh?):
            return (min(maxAugmentSide, max(1, Int((Double(w) * Double(oh) / Double(h)).rounded()))), oh)
        default: return (w, h)
        }
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Void {}

    public func apply(_ parameters: Void, to sample: inout Sample) {
        let (ow, oh) = size(width: sample.width, height: sample.height)
        resizeSample(&sample, width: ow, height: oh, interpolation: interpolation)
    }
}

/// Adds `top`, `bottom`, `left`, `right` pixels around the image, made by `border` (constant: `fill`; the mask
/// gets `maskFill` for constant borders and the same border rule otherwise). Boxes move by `(left, top)`.
public struct Pad: Transform {
    public let top: Int, bottom: Int, left: Int, right: Int
    public let border: BorderMode
    public let fill: PixelFill
    public let maskFill: UInt8

    public init(
        top: Int = 8, bottom: Int = 8, left: Int = 8, right: Int = 8, border: BorderMode = .constant,
        fill: PixelFill = .black, maskFill: UInt8 = 255
    ) throws(AugmentError) {
        for (name, v) in [("top", top), ("bottom", bottom), ("left", left), ("right", right)] {
            guard (0...maxAugmentSide).contains(v) else {
                throw .parameter("pad \(name) must be 0...\(maxAugmentSide), got \(v)")
            }
        }
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
        (self.border, self.fill, self.maskFill) = (border, fill, maskFill)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Void {}

    public func apply(_ parameters: Void, to sample: inout Sample) {
        let rect = PixelRect(
            x: -left, y: -top, width: min(maxAugmentSide, sample.width + left + right),
            height: min(maxAugmentSide, sample.height + top + bottom))
        cropSample(&sample, rect, border: border, fill: fill, maskFill: maskFill)
    }
}
