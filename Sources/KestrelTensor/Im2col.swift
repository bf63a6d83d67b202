#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The geometry of a 2-D convolution or pooling window.
///
/// Output size (PyTorch's formula): `out = (in + 2·padding − dilation·(kernel − 1) − 1) / stride + 1`,
/// rounded down. Padding is symmetric (the same on both sides of each axis) and pads with zeros.
public struct ConvGeometry: Hashable, Sendable {
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int

    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        precondition(kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0 && padding.0 >= 0
                     && padding.1 >= 0 && dilation.0 > 0 && dilation.1 > 0 && groups > 0,
                     "invalid convolution geometry")
        (kernelH, kernelW) = kernel
        (strideH, strideW) = stride
        (padH, padW) = padding
        (dilationH, dilationW) = dilation
        self.groups = groups
    }

    /// Square kernel, stride, padding and dilation.
    public init(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        self.init(kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding),
                  dilation: (dilation, dilation), groups: groups)
    }

    /// Output height and width for an input of `h × w` (non-positive when the window does not fit).
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        // Integer division truncates towards zero: a window overhanging by less than a stride would count 1.
        func size(_ n: Int, _ pad: Int, _ dilation: Int, _ kernel: Int, _ stride: Int) -> Int {
            let reach = n + 2 * pad - dilation * (kernel - 1) - 1
            return reach < 0 ? 0 : reach / stride + 1
        }
        return (size(h, padH, dilationH, kernelH, strideH), size(w, padW, dilationW, kernelW, strideW))
    }

    /// True for the 1×1, stride-1, unpadded case where the image already is its own column matrix.
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0
    }
}

/// im2col and col2im for one image, the data movement around convolution's single GEMM.
///
/// Column layout: for an image `[C, H, W]` and output `OH × OW`, `cols` is a `[C·kh·kw, OH·OW]` matrix whose
/// row `(c·kh + i)·kw + j` holds input channel c shifted by kernel tap (i, j): element `oh·OW + ow` is
/// `x[c, oh·strideH − padH + i·dilationH, ow·strideW − padW + j·dilationW]`, or 0 outside the image.
/// Several images can share one column matrix side by side: `ld` is its row length and `columnOffset` where
/// this image's `OH·OW` columns start.
public enum Im2col {
    /// Fills the columns of one image. Rows are filled concurrently.
    public static func im2col(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, geometry g: ConvGeometry,
        into cols: UnsafeMutablePointer<Float>, ld: Int, columnOffset: Int = 0
    ) {
        let (oh, ow) = g.outputSize(h: height, w: width)
        let rows = channels * g.kernelH * g.kernelW
        let src = SendablePointer(x), dst = SendablePointer(cols)
        Compute.parallelFor(rows, grain: max(1, 16384 / max(oh * ow, 1))) { range in
            for r in range {
                let c = r / (g.kernelH * g.kernelW)
                let ki = (r / g.kernelW) % g.kernelH
                let kj = r % g.kernelW
                let plane = src.base + c * height * width
                let rowOut = dst.base + r * ld + columnOffset
                // Output columns whose input column lies inside the image: iw = ow·s − p + kj·d ∈ [0, W).
                let shiftW = kj * g.dilationW - g.padW
                let owLo = shiftW >= 0 ? 0 : min(ow, (-shiftW + g.strideW - 1) / g.strideW)
                let owHi = max(owLo, min(ow, (width - 1 - shiftW) >= 0 ? (width - 1 - shiftW) / g.strideW + 1 : 0))
                for y in 0..<oh {
                    let out = rowOut + y * ow
                    let ih = y * g.strideH - g.padH + ki * g.dilationH
                    if ih < 0 || ih >= height {
                        out.update(repeating: 0, count: ow)
                        continue
                    }
                    if owLo > 0 { out.update(repeating: 0, count: owLo) }
                    let line = plane + ih * width + shiftW
                    if g.strideW == 1 {
                        (out + owLo).update(from: line + owLo, count: owHi - owLo)
                    } else {
                        for xo in owLo..<owHi { out[xo] = line[xo * g.strideW] }
                    }
                    if owHi < ow { (out + owHi).update(repeating: 0, count: ow - owHi) }
                }
            }
        }
    }

    /// Adds the columns back into `images` images: `x[c, ih, iw] += cols[r, col]` for every tap that read it (the
    /// adjoint of ``im2col``), image i's columns at `i·OH·OW` and its `[C, H, W]` at `x + i·C·H·W`. `x` is
    /// accumulated into, not overwritten. Images and channels are processed concurrently.
    public static func col2im(
        _ cols: UnsafePointer<Float>, ld: Int, images: Int = 1, channels: Int, height: Int, width: Int,
        geometry g: ConvGeometry, into x: UnsafeMutablePointer<Float>
    ) {
        let (oh, ow) = g.outputSize(h: height, w: width)
        let src = SendablePointer(cols), dst = SendablePointer(x)
        let taps = g.kernelH * g.kernelW
        Compute.parallelFor(images * channels, grain: max(1, 16384 / max(taps * oh * ow, 1))) { range in
            for index in range {
                let (img, c) = index.quotientAndRemainder(dividingBy: channels)
                let plane = dst.base + index * height * width
                for t in 0..<taps {
                    let ki = t / g.kernelW, kj = t % g.kernelW
                    let rowIn = src.base + (c * taps + t) * ld + img * oh * ow
                    let shiftW = kj * g.dilationW - g.padW
                    let owLo = shiftW >= 0 ? 0 : min(ow, (-shiftW + g.strideW - 1) / g.strideW)
                    let owHi = max(owLo, min(ow, (width - 1 - shiftW) >= 0 ? (width - 1 - shiftW) / g.strideW + 1 : 0))
                    for y in 0..<oh {
                        let ih = y * g.strideH - g.padH + ki * g.dilationH
                        if ih < 0 || ih >= height { continue }
                        let line = plane + ih * width + shiftW
                        let inp = rowIn + y * ow
                        if g.strideW == 1 {
                            for xo in owLo..<owHi { line[xo] += inp[xo] }
                        } else {
                            for xo in owLo..<owHi { line[xo * g.strideW] += inp[xo] }
                        }
                    }
                }
            }
        }
    }
}
