import KestrelImage

// Flips, quarter turns, crops/pads and affine warps of interleaved 8-bit images.

enum GeometryKernels {
    // MARK: Flips

    static func flipHorizontal(_ image: Image) -> Image {
        switch image.channels {
        case 1: flipHorizontal(image, C1.self)
        case 2: flipHorizontal(image, C2.self)
        case 3: flipHorizontal3(image)
        default: flipHorizontal(image, C4.self)
        }
    }

    private static func flipHorizontal<C: Channels>(_ image: Image, _: C.Type) -> Image {
        let w = image.width
        let h = image.height
        let n = C.n
        return image.withSamples { src in
            Image.build(width: w, height: h, channels: n) { dst in
                for y in 0..<h {
                    let s = src + y * w * n
                    let d = dst + y * w * n
                    for x in 0..<w {
                        let sp = s + (w - 1 - x) * n
                        for c in 0..<n { d[x * n + c] = sp[c] }
                    }
                }
            }
        }
    }

    /// RGB: 16 pixels at a time, reversed by a byte shuffle (see `reverse3`); the rest one pixel at a time.
    private static func flipHorizontal3(_ image: Image) -> Image {
        let w = image.width
        let h = image.height
        return image.withSamples { src in
            Image.build(width: w, height: h, channels: 3) { dst in
                let rowBytes = w * 3
                for y in 0..<h {
                    let s = UnsafeRawPointer(src + y * rowBytes)
                    let d = UnsafeMutableRawPointer(dst + y * rowBytes)
                    var x = 0
                    while x + 16 <= w {
                        // Output pixels x..<x+16 are source pixels w−1−x down to w−16−x.
                        let block = (w - 16 - x) * 3
                        let (o0, o1, o2) = reverse3(
                            s.loadUnaligned(fromByteOffset: block, as: SIMD16<UInt8>.self),
                            s.loadUnaligned(fromByteOffset: block + 16, as: SIMD16<UInt8>.self),
                            s.loadUnaligned(fromByteOffset: block + 32, as: SIMD16<UInt8>.self))
                        d.storeBytes(of: o0, toByteOffset: 3 * x, as: SIMD16<UInt8>.self)
                        d.storeBytes(of: o1, toByteOffset: 3 * x + 16, as: SIMD16<UInt8>.self)
                        d.storeBytes(of: o2, toByteOffset: 3 * x + 32, as: SIMD16<UInt8>.self)
                        x += 16
                    }
                    while x < w {
                        let o = (w - 1 - x) * 3
                        for c in 0..<3 {
                            d.storeBytes(of: s.load(fromByteOffset: o + c, as: UInt8.self), toByteOffset: 3 * x + c, as: UInt8.self)
                        }
                        x += 1
                    }
                }
            }
        }
    }

    static func flipVertical(_ image: Image) -> Image {
        let w = image.width
        let h = image.height
        let c = image.channels
        let row = w * c
        return image.withSamples { src in
            Image.build(width: w, height: h, channels: c) { dst in
                for y in 0..<h {
                    (dst + y * row).update(from: src + (h - 1 - y) * row, count: row)
                }
            }
        }
    }

    // MARK: Quarter turns

    /// `k` quarter turns counter-clockwise (numpy's `rot90(m, k)`), k in 0...3.
    static func rotate90(_ image: Image, k: Int) -> Image {
        switch image.channels {
        case 1: rotate90(image, k: k, C1.self)
        case 2: rotate90(image, k: k, C2.self)
        case 3: rotate90(image, k: k, C3.self)
        default: rotate90(image, k: k, C4.self)
        }
    }

    private static func rotate90<C: Channels>(_ image: Image, k: Int, _: C.Type) -> Image {
        let w = image.width
        let h = image.height
        let n = C.n
        let k = ((k % 4) + 4) % 4
        if k == 0 { return image }
        let (ow, oh) = k == 2 ? (w, h) : (h, w)
        return image.withSamples { src in
            Image.build(width: ow, height: oh, channels: n) { dst in
                // For each output pixel (x', y'), the source pixel (sx, sy) = origin + x'·dx + y'·dy.
                let (origin, dx, dy): (Int, Int, Int)
                switch k {
                case 1: (origin, dx, dy) = (w - 1, w, -1)  // out(x', y') = in(w−1−y', x')
                case 2: (origin, dx, dy) = ((h - 1) * w + w - 1, -1, -w)  // in(w−1−x', h−1−y')
                default: (origin, dx, dy) = ((h - 1) * w, -w, 1)  // in(y', h−1−x')
                }
                for y in 0..<oh {
                    var s = origin + y * dy
                    let d = dst + y * ow * n
                    for x in 0..<ow {
                        let sp = src + s * n
                        for c in 0..<n { d[x * n + c] = sp[c] }
                        s += dx
                    }
                }
            }
        }
    }

    // MARK: Crop and pad

    /// The `width × height` window whose top-left corner is source pixel `(x0, y0)`; parts outside the source
    /// come from `border` (constant: `fill`).
    static func extract(
        _ image: Image, x0: Int, y0: Int, width ow: Int, height oh: Int, border: BorderMode, fill: PixelFill
    ) -> Image {
        let w = image.width
        let h = image.height
        let n = image.channels
        let fillPixel = (0..<n).map { fill.value(channel: $0) }
        // Column map: source column for each output column, -1 for fill.
        let xmap = (0..<ow).map { border.map(x0 + $0, w) ?? -1 }
        // The longest run of output columns that copy a contiguous source run starts at the first inside column.
        let inside = (0..<ow).filter { x0 + $0 >= 0 && x0 + $0 < w }
        let runStart = inside.first ?? 0
        let runCount = inside.count
        return image.withSamples { src in
            Image.build(width: ow, height: oh, channels: n) { dst in
                xmap.withUnsafeBufferPointer { xmap in
                    fillPixel.withUnsafeBufferPointer { fp in
                        for y in 0..<oh {
                            let d = dst + y * ow * n
                            guard let sy = border.map(y0 + y, h) else {
                                for x in 0..<ow { for c in 0..<n { d[x * n + c] = fp[c] } }
                                continue
                            }
                            let s = src + sy * w * n
                            for x in 0..<runStart { copyPixel(s, xmap[x], d + x * n, n, fp) }
                            if runCount > 0 {
                                (d + runStart * n).update(from: s + (x0 + runStart) * n, count: runCount * n)
                            }
                            for x in (runStart + runCount)..<ow { copyPixel(s, xmap[x], d + x * n, n, fp) }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func copyPixel(
        _ row: UnsafePointer<UInt8>, _ sx: Int, _ d: UnsafeMutablePointer<UInt8>, _ n: Int,
        _ fill: UnsafeBufferPointer<UInt8>
    ) {
        if sx < 0 {
            for c in 0..<n { d[c] = fill[c] }
        } else {
            for c in 0..<n { d[c] = row[sx * n + c] }
        }
    }

    // MARK: Affine warp

    /// Samples `image` at `inverse · (x, y, 1)` for every output pixel `(x, y)` of a `width × height` image, in
    /// pixel-index coordinates (pixel centres at integers, as OpenCV's `warpAffine` with `WARP_INVERSE_MAP`).
    ///
    /// Fixed point: source positions are computed in 1/1024 pixel (the per-row start and the per-column step
    /// rounded separately, as OpenCV does), then rounded to 1/256 pixel; bilinear weights are those 1/256
    /// fractions, and the result is rounded half up — within 1 grey level of exact bilinear interpolation.
    static func warpAffine(
        _ image: Image, inverse m: AffineMatrix, width ow: Int, height oh: Int, bilinear: Bool, border: BorderMode,
        fill: PixelFill
    ) -> Image {
        switch image.channels {
        case 1: warp(image, m, ow, oh, bilinear, border, fill, C1.self)
        case 2: warp(image, m, ow, oh, bilinear, border, fill, C2.self)
        case 3: warp(image, m, ow, oh, bilinear, border, fill, C3.self)
        default: warp(image, m, ow, oh, bilinear, border, fill, C4.self)
        }
    }

    private static func warp<C: Channels>(
        _ image: Image, _ m: AffineMatrix, _ ow: Int, _ oh: Int, _ bilinear: Bool, _ border: BorderMode,
        _ fill: PixelFill, _: C.Type
    ) -> Image {
        let w = image.width
        let h = image.height
        let n = C.n
        let scale = 1024.0
        let adx = (0..<ow).map { Int((m.a * Double($0) * scale).rounded()) }
        let ady = (0..<ow).map { Int((m.d * Double($0) * scale).rounded()) }
        let f = fill.four
        let fillValues: [Int32] = [Int32(f.0), Int32(f.1), Int32(f.2), Int32(f.3)]
        return image.withSamples { src in
            Image.build(width: ow, height: oh, channels: n) { dst in
                adx.withUnsafeBufferPointer { adx in
                    ady.withUnsafeBufferPointer { ady in
                        fillValues.withUnsafeBufferPointer { fv in
                            for y in 0..<oh {
                                let x0 = Int(((m.b * Double(y) + m.c) * scale).rounded())
                                let y0 = Int(((m.e * Double(y) + m.f) * scale).rounded())
                                let d = dst + y * ow * n
                                if bilinear {
                                    warpRowBilinear(
                                        src, w, h, d, ow, x0, y0, adx, ady, border, fv, C.self)
                                } else {
                                    warpRowNearest(src, w, h, d, ow, x0, y0, adx, ady, border, fv, C.self)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func warpRowBilinear<C: Channels>(
        _ src: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ d: UnsafeMutablePointer<UInt8>, _ ow: Int,
        _ x0: Int, _ y0: Int, _ adx: UnsafeBufferPointer<Int>, _ ady: UnsafeBufferPointer<Int>,
        _ border: BorderMode, _ fill: UnsafeBufferPointer<Int32>, _: C.Type
    ) {
        let n = C.n
        let stride = w * n
        for x in 0..<ow {
            let sx = (x0 + adx[x] + 2) >> 2  // 1/256 pixel
            let sy = (y0 + ady[x] + 2) >> 2
            let ix = sx >> 8
            let iy = sy >> 8
            let fx = Int32(sx & 255)
            let fy = Int32(sy & 255)
            let out = d + x * n
            if ix >= 0 && iy >= 0 && ix < w - 1 && iy < h - 1 {
                let p = src + iy * stride + ix * n
                for c in 0..<n {
                    let p00 = Int32(p[c])
                    let p01 = Int32(p[c + n])
                    let p10 = Int32(p[c + stride])
                    let p11 = Int32(p[c + stride + n])
                    let top = (p00 << 8) + (p01 - p00) * fx
                    let bottom = (p10 << 8) + (p11 - p10) * fx
                    out[c] = UInt8(truncatingIfNeeded: ((top << 8) + (bottom - top) * fy + 32768) >> 16)
                }
            } else {
                // Edge or outside: each of the four neighbours through the border rule.
                let cx0 = border.map(ix, w)
                let cx1 = border.map(ix + 1, w)
                let cy0 = border.map(iy, h)
                let cy1 = border.map(iy + 1, h)
                if cx0 == nil && cx1 == nil || cy0 == nil && cy1 == nil {
                    for c in 0..<n { out[c] = UInt8(truncatingIfNeeded: fill[c]) }
                    continue
                }
                for c in 0..<n {
                    @inline(__always) func at(_ xx: Int?, _ yy: Int?) -> Int32 {
                        guard let xx, let yy else { return fill[c] }
                        return Int32(src[yy * stride + xx * n + c])
                    }
                    let p00 = at(cx0, cy0)
                    let p01 = at(cx1, cy0)
                    let p10 = at(cx0, cy1)
                    let p11 = at(cx1, cy1)
                    let top = (p00 << 8) + (p01 - p00) * fx
                    let bottom = (p10 << 8) + (p11 - p10) * fx
                    out[c] = UInt8(truncatingIfNeeded: ((top << 8) + (bottom - top) * fy + 32768) >> 16)
                }
            }
        }
    }

    @inline(__always)
    private static func warpRowNearest<C: Channels>(
        _ src: UnsafePointer<UInt8>, _ w: Int, _ h: Int, _ d: UnsafeMutablePointer<UInt8>, _ ow: Int,
        _ x0: Int, _ y0: Int, _ adx: UnsafeBufferPointer<Int>, _ ady: UnsafeBufferPointer<Int>,
        _ border: BorderMode, _ fill: UnsafeBufferPointer<Int32>, _: C.Type
    ) {
        let n = C.n
        let stride = w * n
        for x in 0..<ow {
            // Round the 1/1024 position to the nearest pixel (half up).
            let ix = (x0 + adx[x] + 512) >> 10
            let iy = (y0 + ady[x] + 512) >> 10
            let out = d + x * n
            if ix >= 0 && iy >= 0 && ix < w && iy < h {
                let p = src + iy * stride + ix * n
                for c in 0..<n { out[c] = p[c] }
            } else if let cx = border.map(ix, w), let cy = border.map(iy, h) {
                let p = src + cy * stride + cx * n
                for c in 0..<n { out[c] = p[c] }
            } else {
                for c in 0..<n { out[c] = UInt8(truncatingIfNeeded: fill[c]) }
            }
        }
    }
}
