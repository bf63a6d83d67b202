import KestrelGeometry
import KestrelImage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What erased pixels become.
public enum EraseFill: Sendable, Equatable {
    /// Fixed values (one, or one per channel).
    case constant(PixelFill)
    /// Uniform random values per sample (from the transform's random stream; alpha unchanged).
    case random
}

/// Paints `rects` with `fill`, erases them from the mask (`maskFill`), and reduces box visibility by the part
/// of each box they hide.
func eraseSample(_ sample: inout Sample, _ rects: [PixelRect], fill: EraseFill, key: UInt64, maskFill: UInt8) {
    guard !rects.isEmpty else { return }
    for (k, rect) in rects.enumerated() {
        switch fill {
        case .constant(let values): FilterKernels.fill(&sample.image, rect, values)
        case .random: FilterKernels.fillRandom(&sample.image, rect, key: AugmentRandom.mix(key &+ UInt64(k)))
        }
        if sample.mask != nil { FilterKernels.fill(&sample.mask!, rect, PixelFill(maskFill)) }
    }
    let holes = rects.map {
        BoxXYXY(x1: Double($0.x), y1: Double($0.y), x2: Double($0.x + $0.width), y2: Double($0.y + $0.height))
    }
    for i in sample.boxes.indices { sample.boxes[i].hide(under: holes) }
}

/// Coarse dropout (cutout): `holes` rectangles (count drawn uniformly), each `⌊H·u⌋ × ⌊W·v⌋` pixels with u, v
/// drawn from `size` (fractions of the image side), at uniformly random positions inside the image; filled with
/// `fill`, mask erased to `maskFill`. Boxes lose the hidden fraction of their area (see ``BoxPolicy``).
/// albumentations' CoarseDropout defaults.
public struct Cutout: Transform {
    public let holes: ClosedRange<Int>
    public let size: ClosedRange<Double>
    public let fill: EraseFill
    public let maskFill: UInt8

    public struct Parameters: Sendable, Equatable {
        /// The holes, in pixels (clipped to the image when applied).
        public var rects: [PixelRect]
        /// The key of the random fill's stream (unused for constant fills).
        public var key: UInt64
        public init(rects: [PixelRect], key: UInt64 = 0) { (self.rects, self.key) = (rects, key) }
    }

    public init(
        holes: ClosedRange<Int> = 1...2, size: ClosedRange<Double> = 0.1...0.2, fill: EraseFill = .constant(.black),
        maskFill: UInt8 = 255
    ) throws(AugmentError) {
        guard holes.lowerBound >= 0, holes.upperBound <= 1000 else {
            throw .parameter("cutout holes must be within 0...1000, got \(holes)")
        }
        try checkRange("cutout size", size, within: 0...1)
        (self.holes, self.size, self.fill, self.maskFill) = (holes, size, fill, maskFill)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Parameters {
        let w = sample.width
        let h = sample.height
        var rects: [PixelRect] = []
        for _ in 0..<context.random.integer(in: holes) {
            let hh = max(1, Int(Double(h) * context.random.uniform(size)))
            let ww = max(1, Int(Double(w) * context.random.uniform(size)))
            let y = context.random.integer(in: 0...max(0, h - hh))
            let x = context.random.integer(in: 0...max(0, w - ww))
            rects.append(PixelRect(x: x, y: y, width: ww, height: hh))
        }
        return Parameters(rects: rects, key: context.random.next())
    }

    public func apply(_ p: Parameters, to sample: inout Sample) {
        eraseSample(&sample, p.rects, fill: fill, key: p.key, maskFill: maskFill)
    }
}

/// torchvision's RandomErasing: one rectangle covering a fraction `scale` of the image area with aspect ratio
/// (height/width) log-uniform in `ratio`; up to 10 attempts, otherwise nothing is erased.
public struct RandomErasing: Transform {
    public let scale: ClosedRange<Double>
    public let ratio: ClosedRange<Double>
    public let fill: EraseFill
    public let maskFill: UInt8

    public struct Parameters: Sendable, Equatable {
        /// The erased rectangle; nil when no attempt fitted (nothing is erased).
        public var rect: PixelRect?
        public var key: UInt64
        public init(rect: PixelRect?, key: UInt64 = 0) { (self.rect, self.key) = (rect, key) }
    }

    public init(
        scale: ClosedRange<Double> = 0.02...0.33, ratio: ClosedRange<Double> = 0.3...3.3,
        fill: EraseFill = .constant(.black), maskFill: UInt8 = 255
    ) throws(AugmentError) {
        try checkRange("random_erasing scale", scale, within: 0...1)
        try checkRange("random_erasing ratio", ratio, within: 1e-3...1e3)
        (self.scale, self.ratio, self.fill, self.maskFill) = (scale, ratio, fill, maskFill)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Parameters {
        let w = sample.width
        let h = sample.height
        let area = Double(w * h)
        let logRatio = log(ratio.lowerBound)...log(ratio.upperBound)
        var rect: PixelRect? = nil
        for _ in 0..<10 {
            let target = area * context.random.uniform(scale)
            let aspect = exp(context.random.uniform(logRatio))
            let eh = Int((target * aspect).squareRoot().rounded())
            let ew = Int((target / aspect).squareRoot().rounded())
            guard eh < h && ew < w && eh > 0 && ew > 0 else { continue }
            let y = context.random.integer(in: 0...(h - eh))
            let x = context.random.integer(in: 0...(w - ew))
            rect = PixelRect(x: x, y: y, width: ew, height: eh)
            break
        }
        return Parameters(rect: rect, key: context.random.next())
    }

    public func apply(_ p: Parameters, to sample: inout Sample) {
        guard let rect = p.rect else { return }
        eraseSample(&sample, [rect], fill: fill, key: p.key, maskFill: maskFill)
    }
}

/// Adds Gaussian noise with standard deviation (in grey levels) drawn from `std`: `v' = round(v + σ·z)`,
/// z standard normal, independent per channel unless `perChannel` is false. The noise field is a pure function
/// of a 64-bit key drawn from the stream (see `FilterKernels.addNoise`).
public struct GaussianNoise: Transform {
    public let std: ClosedRange<Double>
    public let perChannel: Bool

    public init(std: ClosedRange<Double> = 5...25, perChannel: Bool = true) throws(AugmentError) {
        try checkRange("noise std", std, within: 0...255)
        (self.std, self.perChannel) = (std, perChannel)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> (sigma: Double, key: UInt64) {
        (context.random.uniform(std), context.random.next())
    }

    public func apply(_ p: (sigma: Double, key: UInt64), to sample: inout Sample) {
        FilterKernels.addNoise(&sample.image, sigma: Float(p.sigma), key: p.key, perChannel: perChannel)
    }
}

/// Gaussian blur with σ drawn from `sigma` and a `kernel × kernel` window (odd); `kernel` 0 derives the size
/// from σ as OpenCV does for 8-bit images: `round(6σ + 1) | 1`. Borders are mirrored (BORDER_REFLECT_101).
/// The mask is not blurred.
public struct GaussianBlur: Transform {
    public let kernel: Int
    public let sigma: ClosedRange<Double>

    public init(kernel: Int = 0, sigma: ClosedRange<Double> = 0.1...2.0) throws(AugmentError) {
        guard kernel == 0 || (kernel % 2 == 1 && (1...255).contains(kernel)) else {
            throw .parameter("blur kernel must be 0 (from sigma) or an odd size 1...255, got \(kernel)")
        }
        try checkRange("blur sigma", sigma, within: 0.01...100)
        (self.kernel, self.sigma) = (kernel, sigma)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Double {
        context.random.uniform(sigma)
    }

    /// The kernel size used for `sigma`.
    public func kernelSize(sigma s: Double) -> Int {
        kernel > 0 ? kernel : min(255, Int((s * 6 + 1).rounded()) | 1)
    }

    public func apply(_ s: Double, to sample: inout Sample) {
        let k = kernelSize(sigma: s)
        guard k > 1 else { return }
        sample.image = FilterKernels.blur(sample.image, kernel: FilterKernels.gaussianKernel(size: k, sigma: s))
    }
}
