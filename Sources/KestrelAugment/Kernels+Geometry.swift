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
                            d.storeBytes(
                                of: s.load(fromByteOffset: o + c, as: UInt8.self), toByteOffset: 3 * x + c,
                                as: UInt8.self)
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
}
