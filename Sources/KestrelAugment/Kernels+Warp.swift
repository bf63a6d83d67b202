import KestrelImage

// Affine warps: every output pixel samples the source at `inverse · (x, y, 1)` in pixel-index coordinates
// (pixel centres at integers, as OpenCV's `warpAffine` with `WARP_INVERSE_MAP`).
//
// Fixed point, shared by every path so they agree to the bit: source positions in 1/1024 pixel (the per-row
// start and the per-column step rounded separately, as OpenCV does), rounded to 1/256 pixel; bilinear weights
// are those 1/256 fractions, first along x then along y, and the result is rounded half up — within 1 grey
// level of exact bilinear interpolation. Nearest rounds the 1/1024 position half up.
//
// RGB bilinear has a vector path: per row, positions and weights for 16 pixels at a time, the two source pixel
// pairs of each output pixel fetched with two 8-byte loads, interpolation in 16 Int32 lanes per channel.
// Pixels whose four neighbours are not all inside the source take the scalar border path.

extension GeometryKernels {
    static func warpAffine(
        _ image: Image, inverse m: AffineMatrix, width ow: Int, height oh: Int, bilinear: Bool, border: BorderMode,
        fill: PixelFill
    ) -> Image {
        let warper = Warper(image: image, m: m, ow: ow, bilinear: bilinear, border: border, fill: fill)
        return image.withSamples { src in
            Image.build(width: ow, height: oh, channels: image.channels) { dst in
                switch image.channels {
                case 1: warper.run(src, dst, oh, C1.self)
                case 2: warper.run(src, dst, oh, C2.self)
                case 3: warper.run(src, dst, oh, C3.self)
                default: warper.run(src, dst, oh, C4.self)
                }
            }
        }
    }
}

/// The per-image state of a warp.
private struct Warper {
    let w: Int, h: Int, n: Int, ow: Int
    let m: AffineMatrix
    let bilinear: Bool
    let border: BorderMode
    let fill: [Int32]
    /// Per output column: `round(a·x·1024)` and `round(d·x·1024)`, padded to a multiple of 16 columns.
    let adx: [Int32], ady: [Int32]
    let padded: Int
    /// Whether the vector path's Int32 arithmetic cannot overflow for this map.
    let vectorSafe: Bool

    static let scale = 1024.0

    init(image: Image, m: AffineMatrix, ow: Int, bilinear: Bool, border: BorderMode, fill: PixelFill) {
        (w, h, n, self.ow, self.m, self.bilinear, self.border) =
            (image.width, image.height, image.channels, ow, m, bilinear, border)
        let f = fill.four
        self.fill = [Int32(f.0), Int32(f.1), Int32(f.2), Int32(f.3)]
        padded = (ow + 15) / 16 * 16
        // Positions stay far inside Int32 when every term is below 2^20 pixels (×1024 < 2^30).
        let limit = Double(1 << 20)
        let worst = [abs(m.a), abs(m.b), abs(m.d), abs(m.e)].max()! * Double(max(ow, 1) + 1 << 16)
        vectorSafe =
            abs(m.c) < limit && abs(m.f) < limit && worst < limit && image.height >= 2
            && image.width >= 2 && image.width * image.height * 3 < Int(Int32.max) / 2
        adx = (0..<padded).map { Int32(clamping: Int((m.a * Double($0) * Self.scale).rounded())) }
        ady = (0..<padded).map { Int32(clamping: Int((m.d * Double($0) * Self.scale).rounded())) }
    }

    @inline(__always)
    func rowStart(_ y: Int) -> (Int, Int) {
        (Int(((m.b * Double(y) + m.c) * Self.scale).rounded()), Int(((m.e * Double(y) + m.f) * Self.scale).rounded()))
    }

    func run<C: Channels>(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, _ oh: Int, _: C.Type) {
        if C.n == 3 && bilinear && vectorSafe && ow >= 16 {
            runVectorRGB(src, dst, oh)
            return
        }
        fill.withUnsafeBufferPointer { fv in
            for y in 0..<oh {
                let (x0, y0) = rowStart(y)
                let d = dst + y * ow * C.n
                for x in 0..<ow {
                    let sx = x0 &+ Int(adx[x])
                    let sy = y0 &+ Int(ady[x])
                    if bilinear {
                        bilinearPixel(src, (sx &+ 2) >> 2, (sy &+ 2) >> 2, d + x * C.n, fv, C.self)
                    } else {
                        nearestPixel(src, (sx &+ 512) >> 10, (sy &+ 512) >> 10, d + x * C.n, fv, C.self)
                    }
                }
            }
        }
    }

    /// One bilinear output pixel at source position `(sx, sy)` in 1/256 pixel, with the border rule.
    @inline(__always)
    func bilinearPixel<C: Channels>(
        _ src: UnsafePointer<UInt8>, _ sx: Int, _ sy: Int, _ out: UnsafeMutablePointer<UInt8>,
        _ fill: UnsafeBufferPointer<Int32>, _: C.Type
    ) {
        let n = C.n
        let stride = w * n
        let ix = sx >> 8
        let iy = sy >> 8
        let fx = Int32(truncatingIfNeeded: sx & 255)
        let fy = Int32(truncatingIfNeeded: sy & 255)
        @inline(__always) func blend(_ p00: Int32, _ p01: Int32, _ p10: Int32, _ p11: Int32) -> UInt8 {
            let top = (p00 << 8) &+ (p01 &- p00) &* fx
            let bottom = (p10 << 8) &+ (p11 &- p10) &* fx
            return UInt8(truncatingIfNeeded: ((top << 8) &+ (bottom &- top) &* fy &+ 32768) >> 16)
        }
        if ix >= 0 && iy >= 0 && ix < w - 1 && iy < h - 1 {
            let p = src + iy * stride + ix * n
            for c in 0..<n {
                out[c] = blend(Int32(p[c]), Int32(p[c + n]), Int32(p[c + stride]), Int32(p[c + stride + n]))
            }
            return
        }
        if border == .constant && (ix < -1 || iy < -1 || ix >= w || iy >= h) {
            for c in 0..<n { out[c] = UInt8(truncatingIfNeeded: fill[c]) }
            return
        }
        let cx0 = border.map(ix, w)
        let cx1 = border.map(ix + 1, w)
        let cy0 = border.map(iy, h)
        let cy1 = border.map(iy + 1, h)
        if cx0 == nil && cx1 == nil || cy0 == nil && cy1 == nil {
            for c in 0..<n { out[c] = UInt8(truncatingIfNeeded: fill[c]) }
            return
        }
        for c in 0..<n {
            @inline(__always) func at(_ xx: Int?, _ yy: Int?) -> Int32 {
                guard let xx, let yy else { return fill[c] }
                return Int32(src[yy * stride + xx * n + c])
            }
            out[c] = blend(at(cx0, cy0), at(cx1, cy0), at(cx0, cy1), at(cx1, cy1))
        }
    }

    @inline(__always)
    func nearestPixel<C: Channels>(
        _ src: UnsafePointer<UInt8>, _ ix: Int, _ iy: Int, _ out: UnsafeMutablePointer<UInt8>,
        _ fill: UnsafeBufferPointer<Int32>, _: C.Type
    ) {
        let n = C.n
        if let cx = border.map(ix, w), let cy = border.map(iy, h) {
            let p = src + (cy * w + cx) * n
            for c in 0..<n { out[c] = p[c] }
        } else {
            for c in 0..<n { out[c] = UInt8(truncatingIfNeeded: fill[c]) }
        }
    }

    typealias V = SIMD16<Int32>

    /// The vector path for RGB bilinear (see the file header).
    func runVectorRGB(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, _ oh: Int) {
        let stride = w * 3
        // A pixel takes the fast path when its 2×2 neighbourhood is inside and the two 8-byte loads at its
        // top-left neighbour and the one below stay inside the image buffer.
        let lastLoad = Int32(w * h * 3 - stride - 8)
        // Per-row scratch: offsets, −1 flags for border pixels (and per 16-pixel block), weights, fetched pairs.
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: padded * 32 + padded / 16 * 4 + 64, alignment: 64)
        defer { scratch.deallocate() }
        let offsets = scratch
        let outside = scratch + padded * 4
        let fxs = scratch + padded * 8
        let fys = scratch + padded * 12
        let top = scratch + padded * 16
        let bottom = scratch + padded * 24
        let blockOutside = scratch + padded * 32
        let tail = blockOutside + padded / 16 * 4
        let rs = UnsafeRawPointer(src)
        let below = rs + stride
        let maxX = V(repeating: Int32(w - 2))
        let maxY = V(repeating: Int32(h - 2))
        let loadLimit = V(repeating: lastLoad - 1)
        adx.withUnsafeBytes { adx in
            ady.withUnsafeBytes { ady in
                fill.withUnsafeBufferPointer { fv in
                    for y in 0..<oh {
                        let (x0, y0) = rowStart(y)
                        let d = dst + y * ow * 3
                        // 1. Positions, weights, offsets; `outside` is −1 where the fast path does not apply (a
                        //    sign-bit test, as Swift compiles some SIMD comparisons lane by lane).
                        for x in Swift.stride(from: 0, to: padded, by: 16) {
                            let sx = (adx.loadUnaligned(fromByteOffset: x * 4, as: V.self) &+ Int32(x0) &+ 2) &>> 2
                            let sy = (ady.loadUnaligned(fromByteOffset: x * 4, as: V.self) &+ Int32(y0) &+ 2) &>> 2
                            let ix = sx &>> 8
                            let iy = sy &>> 8
                            let o = iy &* Int32(stride) &+ ix &* 3
                            let bad = (ix | (maxX &- ix) | iy | (maxY &- iy) | o | (loadLimit &- o)) &>> 31
                            offsets.storeBytes(of: o & ~bad, toByteOffset: x * 4, as: V.self)
                            outside.storeBytes(of: bad, toByteOffset: x * 4, as: V.self)
                            blockOutside.storeBytes(of: bad.wrappedSum(), toByteOffset: x / 4, as: Int32.self)
                            fxs.storeBytes(of: sx & 255, toByteOffset: x * 4, as: V.self)
                            fys.storeBytes(of: sy & 255, toByteOffset: x * 4, as: V.self)
                        }
                        // 2. The two source pixel pairs of every output pixel (border pixels read offset 0).
                        let offsetPointer = offsets.assumingMemoryBound(to: Int32.self)
                        let topPointer = top.assumingMemoryBound(to: UInt64.self)
                        let bottomPointer = bottom.assumingMemoryBound(to: UInt64.self)
                        for x in 0..<padded {
                            let o = Int(offsetPointer[x])
                            topPointer[x] = rs.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                            bottomPointer[x] = below.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                        }
                        // 3. Interpolate 16 pixels at a time; the last partial block goes through `tail`.
                        for x in Swift.stride(from: 0, to: ow, by: 16) {
                            let (o0, o1, o2) = interpolate16(
                                top.load(fromByteOffset: x * 8, as: SIMD16<UInt64>.self),
                                bottom.load(fromByteOffset: x * 8, as: SIMD16<UInt64>.self),
                                fxs.load(fromByteOffset: x * 4, as: V.self), fys.load(fromByteOffset: x * 4, as: V.self)
                            )
                            let out = x + 16 <= ow ? UnsafeMutableRawPointer(d + x * 3) : tail
                            out.storeBytes(of: o0, as: SIMD16<UInt8>.self)
                            out.storeBytes(of: o1, toByteOffset: 16, as: SIMD16<UInt8>.self)
                            out.storeBytes(of: o2, toByteOffset: 32, as: SIMD16<UInt8>.self)
                            if x + 16 > ow {
                                (d + x * 3).update(from: tail.assumingMemoryBound(to: UInt8.self), count: (ow - x) * 3)
                            }
                        }
                        // 4. Pixels near or past the border, one at a time.
                        for block in 0..<(padded / 16)
                        where blockOutside.load(fromByteOffset: block * 4, as: Int32.self) != 0 {
                            for x in (block * 16)..<min(ow, block * 16 + 16)
                            where outside.load(fromByteOffset: x * 4, as: Int32.self) != 0 {
                                let sx = x0 &+ Int(adx.load(fromByteOffset: x * 4, as: Int32.self))
                                let sy = y0 &+ Int(ady.load(fromByteOffset: x * 4, as: Int32.self))
                                bilinearPixel(src, (sx &+ 2) >> 2, (sy &+ 2) >> 2, d + x * 3, fv, C3.self)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Bilinear interpolation of 16 RGB pixels from their top and bottom source pairs (each 8 bytes: the left
    /// pixel in bytes 0–2, the right one in bytes 3–5), in 16 Int32 lanes per channel.
    @inline(__always)
    func interpolate16(_ t: SIMD16<UInt64>, _ b: SIMD16<UInt64>, _ fx: V, _ fy: V)
        -> (SIMD16<UInt8>, SIMD16<UInt8>, SIMD16<UInt8>)
    {
        let t0 = V(truncatingIfNeeded: t)
        let t1 = V(truncatingIfNeeded: t &>> 24)
        let b0 = V(truncatingIfNeeded: b)
        let b1 = V(truncatingIfNeeded: b &>> 24)
        @inline(__always) func channel(_ shift: Int32) -> V {
            let p00 = (t0 &>> shift) & 255
            let p01 = (t1 &>> shift) & 255
            let p10 = (b0 &>> shift) & 255
            let p11 = (b1 &>> shift) & 255
            let upper = (p00 &<< 8) &+ (p01 &- p00) &* fx
            let lower = (p10 &<< 8) &+ (p11 &- p10) &* fx
            return ((upper &<< 8) &+ (lower &- upper) &* fy &+ 32768) &>> 16
        }
        return interleave3(narrow(channel(0)), narrow(channel(8)), narrow(channel(16)))
    }
}
