import KestrelImage

// Resizing, with OpenCV `cv2.resize`'s sampling positions:
// - nearest: source index floor((x + ½)·w/W) — pixel centres, as INTER_NEAREST_EXACT (not INTER_NEAREST, whose
//   floor(x·w/W) shifts the image by up to half a pixel);
// - bilinear: INTER_LINEAR, half-pixel centres, edge indices clamped, no antialiasing; weights in 1/2048 and
//   rounding half up (OpenCV's own fixed point rounds differently: results agree within 1 grey level);
// - area: INTER_AREA — when neither axis grows, each output pixel is the mean of the source area it covers
//   (fractional pixels weighted by coverage, computed in Float); otherwise OpenCV's area-weighted linear
//   coefficients on both axes.

enum ResizeKernels {
    static func resize(_ image: Image, width ow: Int, height oh: Int, interpolation: Interpolation) -> Image {
        if ow == image.width && oh == image.height { return image }
        switch interpolation {
        case .nearest: return nearest(image, ow, oh)
        case .bilinear:
            return linear(image, ow, oh, linearTable(image.width, ow), linearTable(image.height, oh))
        case .area:
            if image.width >= ow && image.height >= oh { return areaShrink(image, ow, oh) }
            return linear(image, ow, oh, areaLinearTable(image.width, ow), areaLinearTable(image.height, oh))
        }
    }

    // MARK: Nearest

    static func nearest(_ image: Image, _ ow: Int, _ oh: Int) -> Image {
        let w = image.width
        let h = image.height
        let n = image.channels
        let xmap = (0..<ow).map { min(w - 1, ((2 * $0 + 1) * w) / (2 * ow)) * n }
        return image.withSamples { src in
            Image.build(width: ow, height: oh, channels: n) { dst in
                xmap.withUnsafeBufferPointer { xmap in
                    for y in 0..<oh {
                        let sy = min(h - 1, ((2 * y + 1) * h) / (2 * oh))
                        let s = src + sy * w * n
                        let d = dst + y * ow * n
                        switch n {
                        case 1: for x in 0..<ow { d[x] = s[xmap[x]] }
                        case 3:
                            for x in 0..<ow {
                                let p = s + xmap[x]
                                d[3 * x] = p[0]
                                d[3 * x + 1] = p[1]
                                d[3 * x + 2] = p[2]
                            }
                        default:
                            for x in 0..<ow { for c in 0..<n { d[x * n + c] = s[xmap[x] + c] } }
                        }
                    }
                }
            }
        }
    }

    // MARK: Linear

    /// For each output index: the first source index and the weight (in 1/2048) of the second one.
    struct Table {
        var index: [Int]
        var weight: [Int32]
    }

    static let coefficientBits: Int32 = 11

    static func linearTable(_ n: Int, _ outN: Int) -> Table {
        let scale = Double(n) / Double(outN)
        var t = Table(index: [], weight: [])
        for x in 0..<outN {
            var f = (Double(x) + 0.5) * scale - 0.5
            var s = Int(f.rounded(.down))
            f -= Double(s)
            if s < 0 {
                s = 0
                f = 0
            }
            if s >= n - 1 {
                s = n - 1
                f = 0
            }
            t.index.append(s)
            t.weight.append(Int32((f * 2048).rounded()))
        }
        return t
    }

    /// OpenCV's INTER_AREA coefficients when enlarging: `s = floor(x·n/N)`, `f = (x+1) − (s+1)·N/n`, kept only
    /// when positive and reduced to its fractional part.
    static func areaLinearTable(_ n: Int, _ outN: Int) -> Table {
        let scale = Double(n) / Double(outN)
        let inverse = Double(outN) / Double(n)
        var t = Table(index: [], weight: [])
        for x in 0..<outN {
            var s = Int((Double(x) * scale).rounded(.down))
            var f = Double(x + 1) - Double(s + 1) * inverse
            f = f <= 0 ? 0 : f - f.rounded(.down)
            if s < 0 {
                s = 0
                f = 0
            }
            if s >= n - 1 {
                s = n - 1
                f = 0
            }
            t.index.append(s)
            t.weight.append(Int32((f * 2048).rounded()))
        }
        return t
    }

    /// Separable linear interpolation: each needed source row is interpolated horizontally once into an Int32
    /// row (values ×2048), then pairs of rows are blended vertically (×2048 again) and rounded.
    static func linear(_ image: Image, _ ow: Int, _ oh: Int, _ tx: Table, _ ty: Table) -> Image {
        let w = image.width
        let h = image.height
        let n = image.channels
        let rowLength = ow * n
        // Horizontal tables per output sample: source sample offsets and weights.
        var offset0 = [Int](repeating: 0, count: rowLength)
        var offset1 = [Int](repeating: 0, count: rowLength)
        var weight = [Int32](repeating: 0, count: rowLength)
        for x in 0..<ow {
            let s0 = tx.index[x]
            let s1 = min(s0 + 1, w - 1)
            for c in 0..<n {
                offset0[x * n + c] = s0 * n + c
                offset1[x * n + c] = s1 * n + c
                weight[x * n + c] = tx.weight[x]
            }
        }
        var rows = [Int32](repeating: 0, count: 2 * rowLength)
        var rowSource = (-1, -1)  // which source row each half of `rows` holds
        return image.withSamples { src in
            Image.build(width: ow, height: oh, channels: n) { dst in
                offset0.withUnsafeBufferPointer { o0 in
                    offset1.withUnsafeBufferPointer { o1 in
                        weight.withUnsafeBufferPointer { wt in
                            rows.withUnsafeMutableBufferPointer { rows in
                                let r0 = rows.baseAddress!
                                let r1 = r0 + rowLength
                                func horizontal(_ sy: Int, into r: UnsafeMutablePointer<Int32>) {
                                    let s = src + sy * w * n
                                    for i in 0..<rowLength {
                                        let a = Int32(s[o0[i]])
                                        let b = Int32(s[o1[i]])
                                        r[i] = (a << 11) + (b - a) * wt[i]
                                    }
                                }
                                for y in 0..<oh {
                                    let sy0 = ty.index[y]
                                    let sy1 = min(sy0 + 1, h - 1)
                                    let beta = ty.weight[y]
                                    if rowSource.0 != sy0 {
                                        if rowSource.1 == sy0 {
                                            r0.update(from: r1, count: rowLength)
                                        } else {
                                            horizontal(sy0, into: r0)
                                        }
                                        rowSource.0 = sy0
                                        rowSource.1 = -1
                                    }
                                    let d = dst + y * rowLength
                                    if beta == 0 {
                                        for i in 0..<rowLength {
                                            d[i] = UInt8(truncatingIfNeeded: (r0[i] + 1024) >> 11)
                                        }
                                        continue
                                    }
                                    if rowSource.1 != sy1 {
                                        horizontal(sy1, into: r1)
                                        rowSource.1 = sy1
                                    }
                                    for i in 0..<rowLength {
                                        let a = r0[i]
                                        let v = (a << 11) &+ (r1[i] - a) &* beta
                                        d[i] = UInt8(truncatingIfNeeded: (v &+ (1 << 21)) >> 22)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Area

    /// Coverage weights of one axis: for each output index, (source index, weight) pairs summing to 1.
    static func areaWeights(_ n: Int, _ outN: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(outN)
        return (0..<outN).map { x in
            let start = Double(x) * scale
            let end = Double(x + 1) * scale
            var pairs: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < n {
                let cover = min(end, Double(i + 1)) - max(start, Double(i))
                if cover > 1e-9 { pairs.append((i, Float(cover / scale))) }
                i += 1
            }
            return pairs
        }
    }

    static func areaShrink(_ image: Image, _ ow: Int, _ oh: Int) -> Image {
        let w = image.width
        let h = image.height
        let n = image.channels
        let wx = areaWeights(w, ow)
        let wy = areaWeights(h, oh)
        let rowLength = ow * n
        var acc = [Float](repeating: 0, count: rowLength)
        var horizontal = [Float](repeating: 0, count: rowLength)
        return image.withSamples { src in
            Image.build(width: ow, height: oh, channels: n) { dst in
                for y in 0..<oh {
                    for i in 0..<rowLength { acc[i] = 0 }
                    for (sy, ky) in wy[y] {
                        let s = src + sy * w * n
                        for x in 0..<ow {
                            for c in 0..<n {
                                var v: Float = 0
                                for (sx, kx) in wx[x] { v += Float(s[sx * n + c]) * kx }
                                horizontal[x * n + c] = v
                            }
                        }
                        for i in 0..<rowLength { acc[i] += horizontal[i] * ky }
                    }
                    let d = dst + y * rowLength
                    for i in 0..<rowLength {
                        d[i] = UInt8(min(255, max(0, (acc[i] + 0.5).rounded(.down))))
                    }
                }
            }
        }
    }
}
