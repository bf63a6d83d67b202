@_exported import KestrelModels

/// The FCN reference's bilinear interpolation kernel (`upsample_filt` in fcn.berkeleyvision.org's
/// `surgery.py`): for a kernel of side k, factor f = ⌈k/2⌉, centre c = f − 1 (k odd) or f − 0.5 (k even), and
/// weight (1 − |y − c|/f)·(1 − |x − c|/f). As a transposed-convolution weight `[C, C, k, k]` it is placed on the
/// diagonal (channel i to channel i) and zero elsewhere, so every class map is upsampled on its own.
public func bilinearKernel(size k: Int) -> [Float] {
    let factor = (k + 1) / 2
    let centre = k % 2 == 1 ? Double(factor - 1) : Double(factor) - 0.5
    var out = [Float](repeating: 0, count: k * k)
    for y in 0..<k {
        for x in 0..<k {
            let wy = 1 - abs(Double(y) - centre) / Double(factor), wx = 1 - abs(Double(x) - centre) / Double(factor)
            out[y * k + x] = Float(wy * wx)
        }
    }
    return out
}

/// A transposed-convolution weight `[channels, channels, k, k]` doing per-channel bilinear upsampling.
public func bilinearUpsamplingWeight(channels: Int, size k: Int) -> Tensor {
    let kernel = bilinearKernel(size: k)
    var w = [Float](repeating: 0, count: channels * channels * k * k)
    for c in 0..<channels {
        for i in 0..<(k * k) { w[((c * channels + c) * k * k) + i] = kernel[i] }
    }
    return Tensor(shape: [channels, channels, k, k], scalars: w)
}

/// Per-channel upsampling by an integer `factor` with a bilinear-initialised transposed convolution (no bias).
///
/// Two alignments:
/// - `.reference`: the FCN reference's layer, kernel 2f, stride f, no padding; the caller crops the output with
///   the offsets the reference derives (see ``CoordinateMap``).
/// - `.lattice`: for backbones whose stride-s cell i is centred on input pixel s·i (ResNet, MobileNet: odd
///   kernels with padding (k − 1)/2), kernel 2f − 1, stride f, padding f − 1, output padding f − 1: output pixel
///   f·i equals input cell i exactly and the pixels between are linear interpolations, so the output lines up
///   with the finer grid with no offset (a top-left crop only trims the overhang).
public final class BilinearUpsample: Module {
    public enum Alignment: Sendable { case reference, lattice }
    public let weight: Parameter
    public let factor: Int
    public let alignment: Alignment
    let geometry: ConvGeometry
    let outputPadding: Int

    public init(channels: Int, factor f: Int, alignment: Alignment, learnable: Bool) {
        factor = f
        self.alignment = alignment
        switch alignment {
        case .reference:
            geometry = ConvGeometry(kernel: 2 * f, stride: f)
            outputPadding = 0
        case .lattice:
            geometry = ConvGeometry(kernel: 2 * f - 1, stride: f, padding: f - 1)
            outputPadding = f - 1
        }
        weight = Parameter(bilinearUpsamplingWeight(channels: channels, size: geometry.kernelH))
        weight.isFrozen = !learnable
        super.init()
        registerExisting("weight", weight)
    }

    public override func forward(_ x: Variable) -> Variable {
        convTranspose2d(x, weight: weight.variable, bias: nil, geometry: geometry, outputPadding: (outputPadding, outputPadding))
    }
}

/// Caffe's `coord_map` arithmetic, as the FCN reference uses it to derive its crop offsets: a blob's coordinate
/// x relates to the input image's coordinate u by x = a·u + b. Convolution and pooling with kernel k, stride s,
/// padding p map x ↦ x/s + (p − (k − 1)/2)/s; a transposed convolution maps x ↦ s·x + (k − 1)/2 − p. Cropping
/// blob A to blob B (same scale a) aligns them at offset b_A − b_B.
public struct CoordinateMap: Sendable, Equatable {
    public var a: Double
    public var b: Double

    public static let identity = CoordinateMap(a: 1, b: 0)

    public init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    /// After a convolution or pooling layer.
    public func conv(kernel k: Int, stride s: Int, padding p: Int) -> CoordinateMap {
        CoordinateMap(a: a / Double(s), b: b / Double(s) + (Double(p) - Double(k - 1) / 2) / Double(s))
    }

    /// After a transposed convolution.
    public func deconv(kernel k: Int, stride s: Int, padding p: Int) -> CoordinateMap {
        CoordinateMap(a: a * Double(s), b: b * Double(s) + Double(k - 1) / 2 - Double(p))
    }

    /// The offset at which `self`'s blob is cropped to line up with `other`'s (they must share the scale).
    public func cropOffset(to other: CoordinateMap) -> Int? {
        guard a == other.a else { return nil }
        let d = b - other.b
        return d >= 0 && d == d.rounded() ? Int(d) : nil
    }
}
