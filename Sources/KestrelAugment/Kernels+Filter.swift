import KestrelImage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// Noise, blur, rectangle fills and two-image blends.

enum FilterKernels {
    // MARK: Noise

    /// Φ⁻¹((k + ½) / 65536) for k = 0..<65536: standard normal quantiles, rounded to Float. Noise takes one
    /// 16-bit counter-based random index per sample into this table (a normal distribution truncated at ±4.4σ,
    /// exact to Float precision elsewhere), which keeps noise fast and identical on every platform.
    static let normalQuantiles: [Float] = (0..<65536).map { Float(inverseNormal((Double($0) + 0.5) / 65536)) }

    /// Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9), refined by one
    /// Halley step on erfc.
    static func inverseNormal(_ p: Double) -> Double {
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
            -3.066479806614716e+01, 2.506628277459239e+00,
        ]
        let b = [
            -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
            -1.328068155288572e+01,
        ]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
            4.374664141464968e+00, 2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x =
                (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5
            let r = q * q
            x =
                (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x =
                -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }

    /// `v ← clamp(round(v + σ·z))` for every colour sample, z standard normal from the quantile table, indexed
    /// by the 16-bit quarters of `mix(key + j·γ)` (j = 1, 2, …; see ``AugmentRandom``). With `perChannel` false
    /// one z per pixel serves all its colour channels.
    static func addNoise(_ image: inout Image, sigma: Float, key: UInt64, perChannel: Bool) {
        let n = image.channels
        let colour = ColourKernels.colourChannels(n)
        let pixels = image.pixelCount
        normalQuantiles.withUnsafeBufferPointer { table in
            image.withMutableSamples { p in
                var counter: UInt64 = 0
                var bits: UInt64 = 0
                var left = 0
                @inline(__always) func nextZ() -> Float {
                    if left == 0 {
                        counter &+= 1
                        bits = AugmentRandom.mix(key &+ counter &* AugmentRandom.gamma)
                        left = 4
                    }
                    let z = table[Int(bits & 0xFFFF)]
                    bits >>= 16
                    left -= 1
                    return z
                }
                for i in 0..<pixels {
                    let q = p + i * n
                    var z = nextZ()
                    for c in 0..<colour {
                        if perChannel && c > 0 { z = nextZ() }
                        let v = Float(q[c]) + sigma * z + 0.5
                        q[c] = UInt8(min(255, max(0, v)).rounded(.down))
                    }
                }
            }
        }
    }

    // MARK: Gaussian blur

    /// Normalised Gaussian weights `exp(−(i − r)²/(2σ²))` for i = 0..<size (size odd, r = size/2), as OpenCV's
    /// `getGaussianKernel` with σ > 0.
    static func gaussianKernel(size: Int, sigma: Double) -> [Float] {
        let r = size / 2
        let w = (0..<size).map { exp(-Double(($0 - r) * ($0 - r)) / (2 * sigma * sigma)) }
        let sum = w.reduce(0, +)
        return w.map { Float($0 / sum) }
    }

    /// Separable convolution with `kernel` in both directions, borders mirrored without repeating the edge
    /// (OpenCV's default BORDER_REFLECT_101), in Float, rounded half up.
    static func blur(_ image: Image, kernel: [Float]) -> Image {
        let w = image.width
        let h = image.height
        let n = image.channels
        let k = kernel.count
        let r = k / 2
        let rowLength = w * n
        // Column offsets (in samples) of every tap, for every output column, with the border rule applied.
        var taps = [Int](repeating: 0, count: w * k)
        for x in 0..<w {
            for t in 0..<k { taps[x * k + t] = (BorderMode.reflect.map(x + t - r, w) ?? 0) * n }
        }
        var horizontal = [Float](repeating: 0, count: h * rowLength)
        var acc = [Float](repeating: 0, count: rowLength)
        return image.withSamples { src in
            kernel.withUnsafeBufferPointer { kw in
                taps.withUnsafeBufferPointer { taps in
                    horizontal.withUnsafeMutableBufferPointer { hz in
                        acc.withUnsafeMutableBufferPointer { acc in
                            for y in 0..<h {
                                let s = src + y * rowLength
                                let d = hz.baseAddress! + y * rowLength
                                // Interior columns read contiguous samples; the r columns at each edge use taps.
                                for x in 0..<w {
                                    let interior = x >= r && x + r < w
                                    for c in 0..<n {
                                        var v: Float = 0
                                        if interior {
                                            let base = (x - r) * n + c
                                            for t in 0..<k { v += Float(s[base + t * n]) * kw[t] }
                                        } else {
                                            for t in 0..<k { v += Float(s[taps[x * k + t] + c]) * kw[t] }
                                        }
                                        d[x * n + c] = v
                                    }
                                }
                            }
                            return Image.build(width: w, height: h, channels: n) { dst in
                                for y in 0..<h {
                                    for i in 0..<rowLength { acc[i] = 0 }
                                    for t in 0..<k {
                                        let sy = BorderMode.reflect.map(y + t - r, h) ?? 0
                                        let row = hz.baseAddress! + sy * rowLength
                                        let wt = kw[t]
                                        for i in 0..<rowLength { acc[i] += row[i] * wt }
                                    }
                                    let d = dst + y * rowLength
                                    for i in 0..<rowLength {
                                        d[i] = UInt8(min(255, max(0, acc[i] + 0.5)).rounded(.down))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Rectangles

    /// Sets every sample of `rect` (clipped to the image) to `fill`'s value for its channel.
    static func fill(_ image: inout Image, _ rect: PixelRect, _ fill: PixelFill) {
        let w = image.width
        let n = image.channels
        let x0 = max(0, rect.x)
        let y0 = max(0, rect.y)
        let x1 = min(w, rect.x + rect.width)
        let y1 = min(image.height, rect.y + rect.height)
        guard x0 < x1, y0 < y1 else { return }
        let uniform = (0..<n).allSatisfy { fill.value(channel: $0) == fill.value(channel: 0) }
        let pixel = (0..<n).map { fill.value(channel: $0) }
        image.withMutableSamples { p in
            for y in y0..<y1 {
                let row = p + (y * w + x0) * n
                if uniform {
                    row.update(repeating: pixel[0], count: (x1 - x0) * n)
                } else {
                    for x in 0..<(x1 - x0) { for c in 0..<n { row[x * n + c] = pixel[c] } }
                }
            }
        }
    }

    /// Fills `rect` (clipped) with uniform random colour samples from the counter-based stream `key`; alpha
    /// is left as it was.
    static func fillRandom(_ image: inout Image, _ rect: PixelRect, key: UInt64) {
        let w = image.width
        let n = image.channels
        let colour = ColourKernels.colourChannels(n)
        let x0 = max(0, rect.x)
        let y0 = max(0, rect.y)
        let x1 = min(w, rect.x + rect.width)
        let y1 = min(image.height, rect.y + rect.height)
        guard x0 < x1, y0 < y1 else { return }
        image.withMutableSamples { p in
            var counter: UInt64 = 0
            var bits: UInt64 = 0
            var left = 0
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let q = p + (y * w + x) * n
                    for c in 0..<colour {
                        if left == 0 {
                            counter &+= 1
                            bits = AugmentRandom.mix(key &+ counter &* AugmentRandom.gamma)
                            left = 8
                        }
                        q[c] = UInt8(truncatingIfNeeded: bits)
                        bits >>= 8
                        left -= 1
                    }
                }
            }
        }
    }

    /// Copies `rect` (clipped) of `source` into the same place of `image`; both have the same size and channels.
    static func paste(_ image: inout Image, from source: Image, _ rect: PixelRect) {
        let w = image.width
        let n = image.channels
        let x0 = max(0, rect.x)
        let y0 = max(0, rect.y)
        let x1 = min(w, rect.x + rect.width)
        let y1 = min(image.height, rect.y + rect.height)
        guard x0 < x1, y0 < y1, source.width == w, source.height == image.height, source.channels == n else { return }
        source.withSamples { s in
            image.withMutableSamples { p in
                for y in y0..<y1 {
                    (p + (y * w + x0) * n).update(from: s + (y * w + x0) * n, count: (x1 - x0) * n)
                }
            }
        }
    }

    /// Copies all of `tile` into `image` with its top-left pixel at `(x, y)` (clipped); same channel count.
    static func place(_ image: inout Image, _ tile: Image, x: Int, y: Int) {
        let w = image.width
        let n = image.channels
        guard tile.channels == n else { return }
        let x0 = max(0, x)
        let y0 = max(0, y)
        let x1 = min(w, x + tile.width)
        let y1 = min(image.height, y + tile.height)
        guard x0 < x1, y0 < y1 else { return }
        tile.withSamples { s in
            image.withMutableSamples { p in
                for yy in y0..<y1 {
                    (p + (yy * w + x0) * n).update(
                        from: s + ((yy - y) * tile.width + (x0 - x)) * n, count: (x1 - x0) * n)
                }
            }
        }
    }

    /// `a ← ⌊(a·L + b·(2¹⁶ − L) + 2¹⁵) / 2¹⁶⌋` sample by sample, with `L = ⌊λ·2¹⁶ + ½⌋` (mixup; alpha blended
    /// too). Both images have the same size and channels.
    static func blend(_ image: inout Image, with other: Image, weight lambda: Double) {
        let l = Int32(max(0, min(65536, (lambda * 65536 + 0.5).rounded(.down))))
        let count = image.pixels.count
        guard other.pixels.count == count else { return }
        other.withSamples { b in
            image.withMutableSamples { a in
                for i in 0..<count {
                    let v = (Int32(a[i]) &* l &+ Int32(b[i]) &* (65536 - l) &+ 32768) >> 16
                    a[i] = UInt8(truncatingIfNeeded: v)
                }
            }
        }
    }
}
