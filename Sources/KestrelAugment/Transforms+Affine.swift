import KestrelGeometry
import KestrelImage

/// How new pixel values are computed from the source. Masks always use nearest.
public enum Interpolation: String, Sendable, CaseIterable {
    /// The source pixel whose centre is nearest (ties to the right/below).
    case nearest
    /// Bilinear between the four nearest pixel centres (OpenCV INTER_LINEAR, no antialiasing).
    case bilinear
    /// Resize only: area averaging when shrinking (OpenCV INTER_AREA), OpenCV's area-weighted linear otherwise.
    case area
}

/// Warps image and mask through the forward map `m` onto a `width × height` canvas and maps the boxes.
func warpSample(
    _ sample: inout Sample, _ m: AffineMatrix, width: Int, height: Int, interpolation: Interpolation,
    border: BorderMode, fill: PixelFill, maskFill: UInt8
) {
    guard let inverse = m.indexSpaceInverse else { return }  // singular maps are rejected at sampling
    sample.image = GeometryKernels.warpAffine(
        sample.image, inverse: inverse, width: width, height: height, bilinear: interpolation != .nearest,
        border: border, fill: fill)
    if let mask = sample.mask {
        sample.mask = GeometryKernels.warpAffine(
            mask, inverse: inverse, width: width, height: height, bilinear: false, border: border,
            fill: PixelFill(maskFill))
    }
    for i in sample.boxes.indices { sample.boxes[i].map(m, width: width, height: height) }
}

func checkRange(_ name: String, _ r: ClosedRange<Double>, within limits: ClosedRange<Double>) throws(AugmentError) {
    guard r.lowerBound.isFinite, r.upperBound.isFinite, limits.contains(r.lowerBound), limits.contains(r.upperBound)
    else {
        throw .parameter(
            "\(name) must lie within [\(limits.lowerBound), \(limits.upperBound)], got [\(r.lowerBound), \(r.upperBound)]"
        )
    }
}

/// Rotates by an angle drawn uniformly from `degrees`, about the image centre; positive angles turn the
/// picture counter-clockwise (OpenCV `getRotationMatrix2D`, torchvision `rotate`).
///
/// The canvas keeps its size unless `expand`, which grows it to hold the whole rotated image (new size: the
/// rotated image's bounding box, rounded up). Boxes become the tight box around their rotated corners,
/// clipped to the canvas. New pixels come from `border`.
public struct Rotate: Transform {
    public let degrees: ClosedRange<Double>
    public let interpolation: Interpolation
    public let border: BorderMode
    public let fill: PixelFill
    public let maskFill: UInt8
    public let expand: Bool

    public init(
        degrees: ClosedRange<Double> = -30...30, interpolation: Interpolation = .bilinear,
        border: BorderMode = .constant, fill: PixelFill = .black, maskFill: UInt8 = 255, expand: Bool = false
    ) throws(AugmentError) {
        try checkRange("rotate degrees", degrees, within: -3600...3600)
        guard interpolation != .area else { throw .parameter("rotate interpolation must be nearest or bilinear") }
        self.degrees = degrees
        self.interpolation = interpolation
        self.border = border
        self.fill = fill
        self.maskFill = maskFill
        self.expand = expand
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Double {
        context.random.uniform(degrees)
    }

    /// The forward map for `angle` on a `width × height` image, and the canvas size.
    public func geometry(angle: Double, width: Int, height: Int) -> (AffineMatrix, Int, Int) {
        let cx = Double(width) / 2
        let cy = Double(height) / 2
        let turn = AffineMatrix.rotation(degrees: angle).concatenating(.translation(-cx, -cy))
        var ow = width
        var oh = height
        if expand {
            let corners = [(0.0, 0.0), (Double(width), 0), (0, Double(height)), (Double(width), Double(height))]
                .map { turn.apply($0.0, $0.1) }
            let bounds = BoxXYXY.enclosing(corners)!
            ow = min(maxAugmentSide, max(1, Int((bounds.width - 1e-6).rounded(.up))))
            oh = min(maxAugmentSide, max(1, Int((bounds.height - 1e-6).rounded(.up))))
        }
        return (AffineMatrix.translation(Double(ow) / 2, Double(oh) / 2).concatenating(turn), ow, oh)
    }

    public func apply(_ angle: Double, to sample: inout Sample) {
        let (m, ow, oh) = geometry(angle: angle, width: sample.width, height: sample.height)
        warpSample(
            &sample, m, width: ow, height: oh, interpolation: interpolation, border: border, fill: fill,
            maskFill: maskFill)
    }
}

/// A random affine map about the image centre: `translate ∘ rotate ∘ shear ∘ scale`, each drawn uniformly.
///
/// Forward map: `x' = T(c + t) · R(θ) · Sh(φx, φy) · S(s) · T(−c) · x` with `c` the image centre, `t` a
/// translation in pixels drawn from `±translate · (W, H)`, `θ` from `degrees` (counter-clockwise), `s` from
/// `scale` (same for both axes), `Sh` the shear `x' = x + tan φx · y, y' = y + tan φy · x` with angles in
/// degrees from `shearX` and `shearY`. The canvas keeps its size.
public struct Affine: Transform {
    public let degrees: ClosedRange<Double>
    public let translate: (x: Double, y: Double)
    public let scale: ClosedRange<Double>
    public let shearX: ClosedRange<Double>
    public let shearY: ClosedRange<Double>
    public let interpolation: Interpolation
    public let border: BorderMode
    public let fill: PixelFill
    public let maskFill: UInt8

    public struct Parameters: Sendable, Equatable {
        public var angle: Double, tx: Double, ty: Double, scale: Double, shearX: Double, shearY: Double
        public init(
            angle: Double = 0, tx: Double = 0, ty: Double = 0, scale: Double = 1, shearX: Double = 0, shearY: Double = 0
        ) {
            (self.angle, self.tx, self.ty, self.scale, self.shearX, self.shearY) = (
                angle, tx, ty, scale, shearX, shearY
            )
        }
    }

    public init(
        degrees: ClosedRange<Double> = 0...0, translate: (x: Double, y: Double) = (0, 0),
        scale: ClosedRange<Double> = 1...1, shearX: ClosedRange<Double> = 0...0, shearY: ClosedRange<Double> = 0...0,
        interpolation: Interpolation = .bilinear, border: BorderMode = .constant, fill: PixelFill = .black,
        maskFill: UInt8 = 255
    ) throws(AugmentError) {
        try checkRange("affine degrees", degrees, within: -3600...3600)
        guard (0...1).contains(translate.x), (0...1).contains(translate.y) else {
            throw .parameter("affine translate must be fractions of the size in [0, 1], got \(translate)")
        }
        try checkRange("affine scale", scale, within: 0.001...1000)
        try checkRange("affine shear", shearX, within: -89...89)
        try checkRange("affine shear_y", shearY, within: -89...89)
        guard interpolation != .area else { throw .parameter("affine interpolation must be nearest or bilinear") }
        self.degrees = degrees
        self.translate = translate
        self.scale = scale
        self.shearX = shearX
        self.shearY = shearY
        self.interpolation = interpolation
        self.border = border
        self.fill = fill
        self.maskFill = maskFill
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Parameters {
        var r = context.random
        let dx = translate.x * Double(sample.width)
        let dy = translate.y * Double(sample.height)
        let p = Parameters(
            angle: r.uniform(degrees), tx: r.uniform(-dx, dx), ty: r.uniform(-dy, dy), scale: r.uniform(scale),
            shearX: r.uniform(shearX), shearY: r.uniform(shearY))
        context.random = r
        return p
    }

    /// The forward map for `p` on a `width × height` image.
    public static func matrix(_ p: Parameters, width: Int, height: Int) -> AffineMatrix {
        let cx = Double(width) / 2
        let cy = Double(height) / 2
        return AffineMatrix.translation(cx + p.tx, cy + p.ty)
            .concatenating(.rotation(degrees: p.angle))
            .concatenating(.shear(xDegrees: p.shearX, yDegrees: p.shearY))
            .concatenating(.scaling(p.scale, p.scale))
            .concatenating(.translation(-cx, -cy))
    }

    public func apply(_ p: Parameters, to sample: inout Sample) {
        let m = Self.matrix(p, width: sample.width, height: sample.height)
        warpSample(
            &sample, m, width: sample.width, height: sample.height, interpolation: interpolation,
            border: border, fill: fill, maskFill: maskFill)
    }
}
