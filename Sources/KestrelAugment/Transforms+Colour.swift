import KestrelImage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// Photometric transforms change only the image's colour channels; boxes, mask and alpha are untouched.
//
// Definitions (8-bit samples v, results clamped to 0...255, "round" = half up):
//   luma       L = 0.299 R + 0.587 G + 0.114 B, with the exact weights 19595, 38470, 7471 / 65536
//   brightness v' = round(f·v)                               (torchvision: blend with black)
//   contrast   v' = round(μ + c·(v − μ)), μ = mean luma of the image (torchvision: blend with the mean of the
//              grayscale image). This is Kestrel's one definition of contrast; albumentations' code instead
//              scales around 0 (v' = c·v), which is a brightness change.
//   saturation v' = rint(L + s·(v − L)) per pixel, in Float32  (torchvision: blend with the grayscale image)
//   hue        rotate the HSV hue by δ degrees, keeping value (max) and chroma (max − min), in Float32
//              (exact operation order in Kernels+Colour.swift; rint = round half to even)
//   gamma      v' = round(255·(v/255)^γ)
// Linear maps are computed in fixed point as `⌊(v·A + B) / 2¹⁶⌋` with `A = ⌊α·2¹⁶ + ½⌋` and
// `B = ⌊β·2¹⁶ + ½⌋ + 2¹⁵` for v' = α·v + β (the golden generator does the same).

/// The fixed-point form of `v' = α·v + β` rounded half up (see the file header).
func fixedLinear(_ alpha: Double, _ beta: Double) -> (Int32, Int32) {
    let a = (alpha * 65536 + 0.5).rounded(.down)
    let b = (beta * 65536 + 0.5).rounded(.down) + 32768
    return (Int32(max(-1e9, min(1e9, a))), Int32(max(-2e9, min(2e9, b))))
}

func checkFactor(_ name: String, _ r: ClosedRange<Double>) throws(AugmentError) {
    try checkRange(name, r, within: 0...100)
}

/// Multiplies every colour sample by a factor drawn from `factor`: `v' = round(f·v)`.
public struct Brightness: Transform {
    public let factor: ClosedRange<Double>

    /// `factor` defaults to 0.8...1.2.
    public init(factor: ClosedRange<Double> = 0.8...1.2) throws(AugmentError) {
        try checkFactor("brightness", factor)
        self.factor = factor
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Double {
        context.random.uniform(factor)
    }

    public func apply(_ f: Double, to sample: inout Sample) { Self.adjust(&sample.image, f) }

    static func adjust(_ image: inout Image, _ f: Double) {
        let (a, b) = fixedLinear(f, 0)
        ColourKernels.linear(&image, scale: a, offset: b)
    }
}

/// Blends with the mean luma μ of the image by a factor drawn from `factor`: `v' = round(μ + c·(v − μ))`.
/// 0 gives a flat gray image, 1 the original.
public struct Contrast: Transform {
    public let factor: ClosedRange<Double>

    public init(factor: ClosedRange<Double> = 0.8...1.2) throws(AugmentError) {
        try checkFactor("contrast", factor)
        self.factor = factor
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Double {
        context.random.uniform(factor)
    }

    public func apply(_ c: Double, to sample: inout Sample) { Self.adjust(&sample.image, c) }

    static func adjust(_ image: inout Image, _ c: Double) {
        let mean = ColourKernels.meanLuma(image)
        let (a, b) = fixedLinear(c, (1 - c) * mean)
        ColourKernels.linear(&image, scale: a, offset: b)
    }
}

/// Brightness then contrast in one pass: `v' = round(c·(f·v − f·μ) + f·μ)` with μ the mean luma of the input,
/// so f·μ is the mean of the brightened image (exactly, unless brightening clips). One rounding, so it can
/// differ by 1 from ``Brightness`` followed by ``Contrast``.
public struct BrightnessContrast: Transform {
    public let brightness: ClosedRange<Double>
    public let contrast: ClosedRange<Double>

    public init(brightness: ClosedRange<Double> = 0.8...1.2, contrast: ClosedRange<Double> = 0.8...1.2)
        throws(AugmentError)
    {
        try checkFactor("brightness", brightness)
        try checkFactor("contrast", contrast)
        (self.brightness, self.contrast) = (brightness, contrast)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> (
        brightness: Double, contrast: Double
    ) {
        (context.random.uniform(brightness), context.random.uniform(contrast))
    }

    public func apply(_ p: (brightness: Double, contrast: Double), to sample: inout Sample) {
        let f = p.brightness
        let c = p.contrast
        let mean = c == 1 ? 0 : ColourKernels.meanLuma(sample.image)
        let (a, b) = fixedLinear(c * f, (1 - c) * f * mean)
        ColourKernels.linear(&sample.image, scale: a, offset: b)
    }
}

/// Blends each pixel with its own luma by a factor drawn from `factor`: `v' = round(L + s·(v − L))`; 0 gives
/// gray, 1 the original. Gray images are unchanged.
public struct Saturation: Transform {
    public let factor: ClosedRange<Double>

    public init(factor: ClosedRange<Double> = 0.7...1.3) throws(AugmentError) {
        try checkFactor("saturation", factor)
        self.factor = factor
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Double {
        context.random.uniform(factor)
    }

    public func apply(_ s: Double, to sample: inout Sample) { Self.adjust(&sample.image, s) }

    static func adjust(_ image: inout Image, _ s: Double) {
        ColourKernels.hueSaturation(&image, shift: 0, saturation: Float(s))
    }
}

/// Rotates the HSV hue by an angle in degrees drawn from `degrees` (positive: red → yellow → green), keeping
/// value and chroma. Gray images are unchanged.
public struct Hue: Transform {
    public let degrees: ClosedRange<Double>

    public init(degrees: ClosedRange<Double> = -20...20) throws(AugmentError) {
        try checkRange("hue degrees", degrees, within: -360...360)
        self.degrees = degrees
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Double {
        context.random.uniform(degrees)
    }

    public func apply(_ shift: Double, to sample: inout Sample) { Self.adjust(&sample.image, shift) }

    static func adjust(_ image: inout Image, _ degrees: Double) {
        ColourKernels.hueSaturation(&image, shift: Float(degrees / 60), saturation: nil)
    }
}

/// ``Hue`` then ``Saturation`` in one pass over the pixels (identical results to the two in sequence).
public struct HueSaturation: Transform {
    public let hue: ClosedRange<Double>
    public let saturation: ClosedRange<Double>

    public init(hue: ClosedRange<Double> = -20...20, saturation: ClosedRange<Double> = 0.7...1.3) throws(AugmentError) {
        try checkRange("hue degrees", hue, within: -360...360)
        try checkFactor("saturation", saturation)
        (self.hue, self.saturation) = (hue, saturation)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> (hue: Double, saturation: Double)
    {
        (context.random.uniform(hue), context.random.uniform(saturation))
    }

    public func apply(_ p: (hue: Double, saturation: Double), to sample: inout Sample) {
        ColourKernels.hueSaturation(&sample.image, shift: Float(p.hue / 60), saturation: Float(p.saturation))
    }
}

/// Gamma correction with γ drawn from `gamma`: `v' = round(255·(v/255)^γ)` (γ < 1 brightens).
public struct Gamma: Transform {
    public let gamma: ClosedRange<Double>

    public init(gamma: ClosedRange<Double> = 0.8...1.25) throws(AugmentError) {
        try checkRange("gamma", gamma, within: 0.01...100)
        self.gamma = gamma
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Double {
        context.random.uniform(gamma)
    }

    public static func table(_ g: Double) -> [UInt8] {
        (0..<256).map { UInt8(min(255, (255 * pow(Double($0) / 255, g) + 0.5).rounded(.down))) }
    }

    public func apply(_ g: Double, to sample: inout Sample) {
        ColourKernels.lookUp(&sample.image, Self.table(g))
    }
}

/// Replaces R, G and B by Kestrel's gray value (Pillow's ITU-R 601-2 luma, rounded); the channel count stays.
public struct Grayscale: Transform {
    public init() {}
    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Void {}
    public func apply(_ parameters: Void, to sample: inout Sample) {
        ColourKernels.grayscale(&sample.image)
    }
}

/// torchvision's ColorJitter with a fixed order: brightness, contrast, saturation, hue (each as the transform
/// of that name; torchvision shuffles the order per image). A nil range skips that step.
public struct ColorJitter: Transform {
    public let brightness: ClosedRange<Double>?
    public let contrast: ClosedRange<Double>?
    public let saturation: ClosedRange<Double>?
    public let hue: ClosedRange<Double>?

    public init(
        brightness: ClosedRange<Double>? = 0.8...1.2, contrast: ClosedRange<Double>? = 0.8...1.2,
        saturation: ClosedRange<Double>? = 0.8...1.2, hue: ClosedRange<Double>? = -18...18
    ) throws(AugmentError) {
        if let brightness { try checkFactor("brightness", brightness) }
        if let contrast { try checkFactor("contrast", contrast) }
        if let saturation { try checkFactor("saturation", saturation) }
        if let hue { try checkRange("hue degrees", hue, within: -360...360) }
        (self.brightness, self.contrast, self.saturation, self.hue) = (brightness, contrast, saturation, hue)
    }

    public struct Parameters: Sendable, Equatable {
        public var brightness: Double?, contrast: Double?, saturation: Double?, hue: Double?
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Parameters {
        // Always four draws, so the stream does not depend on which steps are enabled.
        let b = context.random.uniform(brightness ?? 1...1)
        let c = context.random.uniform(contrast ?? 1...1)
        let s = context.random.uniform(saturation ?? 1...1)
        let h = context.random.uniform(hue ?? 0...0)
        return Parameters(
            brightness: brightness == nil ? nil : b, contrast: contrast == nil ? nil : c,
            saturation: saturation == nil ? nil : s, hue: hue == nil ? nil : h)
    }

    public func apply(_ p: Parameters, to sample: inout Sample) {
        if let f = p.brightness { Brightness.adjust(&sample.image, f) }
        if let c = p.contrast { Contrast.adjust(&sample.image, c) }
        if let s = p.saturation { Saturation.adjust(&sample.image, s) }
        if let h = p.hue { Hue.adjust(&sample.image, h) }
    }
}
