import KestrelImage

// Per-pixel colour kernels. Every kernel changes the colour channels (1 for gray, 3 for RGB) and leaves an
// alpha channel (channels 2 and 4) untouched. Kernels work in place: the caller owns the sample, so a
// uniquely referenced image is changed without a copy.

enum ColourKernels {
    /// The number of colour channels of an image with `channels` channels (alpha excluded).
    @inline(__always)
    static func colourChannels(_ channels: Int) -> Int { channels == 2 || channels == 4 ? channels - 1 : channels }

    /// `v ← clamp(⌊(v·scale + offset) / 2¹⁶⌋, 0, 255)` for every colour sample. Callers fold the rounding into
    /// `offset` (+2¹⁵ for round half up). Plain integer arithmetic in a flat loop, which the compiler vectorises;
    /// written out of place (one read and one write per sample, never a copy first).
    static func linear(_ image: inout Image, scale: Int32, offset: Int32) {
        let n = image.channels
        let count = image.pixels.count
        let source = image
        image = source.withSamples { p in
            Image.build(width: source.width, height: source.height, channels: n) { d in
                if n == 1 || n == 3 {
                    for i in 0..<count {
                        let v = (Int32(p[i]) &* scale &+ offset) >> 16
                        d[i] = UInt8(truncatingIfNeeded: min(255, max(0, v)))
                    }
                } else {
                    for i in 0..<count {
                        let v = (Int32(p[i]) &* scale &+ offset) >> 16
                        d[i] = i % n == n - 1 ? p[i] : UInt8(truncatingIfNeeded: min(255, max(0, v)))
                    }
                }
            }
        }
    }

    /// `v ← table[v]` for every colour sample, out of place.
    static func lookUp(_ image: inout Image, _ table: [UInt8]) {
        precondition(table.count == 256)
        let n = image.channels
        let count = image.pixels.count
        let source = image
        image = table.withUnsafeBufferPointer { t in
            source.withSamples { p in
                Image.build(width: source.width, height: source.height, channels: n) { d in
                    if n == 1 || n == 3 {
                        for i in 0..<count { d[i] = t[Int(p[i])] }
                    } else {
                        for i in 0..<count { d[i] = i % n == n - 1 ? p[i] : t[Int(p[i])] }
                    }
                }
            }
        }
    }

    /// The mean luma `0.299·R̄ + 0.587·Ḡ + 0.114·B̄` of an image (per-channel means, no per-pixel rounding;
    /// weights 19595, 38470, 7471 / 65536 exactly as Kestrel's grayscale). For gray images, the mean value.
    static func meanLuma(_ image: Image) -> Double {
        let n = image.channels
        let pixels = image.pixelCount
        return image.withSamples { p in
            if n <= 2 {
                var sum = 0
                for i in 0..<pixels { sum &+= Int(p[i * n]) }
                return Double(sum) / Double(pixels)
            }
            var r = 0, g = 0, b = 0
            if n == 3 {
                // 16 pixels (48 bytes) per step into three Int32 accumulators; lane j of accumulator k holds
                // channel (16k + j) mod 3. Flushed to Int before a lane could overflow.
                let raw = UnsafeRawPointer(p)
                var i = 0
                while i + 16 <= pixels {
                    var a0 = SIMD16<Int32>(), a1 = SIMD16<Int32>(), a2 = SIMD16<Int32>()
                    let end = min(pixels, i + 16 * 1 << 20)
                    while i + 16 <= end {
                        a0 &+= widen(raw.loadUnaligned(fromByteOffset: 3 * i, as: SIMD16<UInt8>.self))
                        a1 &+= widen(raw.loadUnaligned(fromByteOffset: 3 * i + 16, as: SIMD16<UInt8>.self))
                        a2 &+= widen(raw.loadUnaligned(fromByteOffset: 3 * i + 32, as: SIMD16<UInt8>.self))
                        i += 16
                    }
                    for j in 0..<16 {
                        for (k, acc) in [a0, a1, a2].enumerated() {
                            switch (16 * k + j) % 3 {
                            case 0: r += Int(acc[j])
                            case 1: g += Int(acc[j])
                            default: b += Int(acc[j])
                            }
                        }
                    }
                }
                while i < pixels {
                    r += Int(p[3 * i])
                    g += Int(p[3 * i + 1])
                    b += Int(p[3 * i + 2])
                    i += 1
                }
            } else {
                for i in 0..<pixels {
                    r += Int(p[i * n])
                    g += Int(p[i * n + 1])
                    b += Int(p[i * n + 2])
                }
            }
            let weighted = 19595 * Double(r) + 38470 * Double(g) + 7471 * Double(b)
            return weighted / 65536 / Double(pixels)
        }
    }

    /// Kestrel's gray value of an RGB pixel: Pillow's `(19595 R + 38470 G + 7471 B + 2¹⁵) >> 16`.
    static func grayscale(_ image: inout Image) {
        let n = image.channels
        guard n >= 3 else { return }
        let pixels = image.pixelCount
        image.withMutableSamples { p in
            for i in 0..<pixels {
                let q = p + i * n
                let l = (19595 * Int32(q[0]) + 38470 * Int32(q[1]) + 7471 * Int32(q[2]) + 32768) >> 16
                let v = UInt8(truncatingIfNeeded: l)
                q[0] = v
                q[1] = v
                q[2] = v
            }
        }
    }

    // MARK: Hue and saturation
    //
    // Both work on Float32 values with a fixed order of operations (no fused multiply–add: Swift does not
    // contract), so numpy's float32 arithmetic reproduces them bit for bit. For a pixel with channels r, g, b:
    //   hue rotation by s sixths of a turn (s = degrees / 60), when Δ = max − min > 0:
    //     h = base + num · (1/Δ), with (base, num) = (0, g − b) if max = r, else (2, b − r) if max = g, else
    //         (4, r − g); 1/Δ is the correctly rounded Float32 reciprocal
    //     h ← h + s, then +6 if h < 0, −6 if h ≥ 6, and 0 if still ≥ 6
    //     k = ⌊h⌋, f = h − k, t = Δ·f, rising = rint(min + t), falling = rint(max − t)
    //     (r, g, b) by sector k: 0 (max, rising, min), 1 (falling, max, min), 2 (min, max, rising),
    //     3 (min, falling, max), 4 (rising, min, max), 5 (max, min, falling)
    //   saturation by factor σ: L = (19595 r + 38470 g + 7471 b) · 2⁻¹⁶ (exact), v ← rint(L + σ·(v − L)),
    //     clamped to 0...255
    // rint rounds to nearest, ties to even (the IEEE default; computed by adding 1.5·2²³).

    static let roundingMagic: Float = 0x1.8p23

    /// rint(v) for 0 ≤ v < 2²², by the add-and-subtract trick (exact, ties to even).
    @inline(__always)
    static func rint(_ v: Float) -> Int32 {
        Int32(bitPattern: (v + roundingMagic).bitPattern) &- 0x4B40_0000
    }

    /// Rotates the hue by `shift` sixths of a turn, then (if `saturation` is not nil) applies the saturation
    /// factor; see the definitions above. Gray and gray+alpha images are unchanged; alpha is kept.
    ///
    /// Written as a plain loop over pixels with branch-free selects, which LLVM's loop vectoriser turns into
    /// 16-lane code (hand-written SIMD16 versions with lane-by-lane shuffles came out 2–4× slower).
    static func hueSaturation(_ image: inout Image, shift: Float, saturation: Float?) {
        let n = image.channels
        guard n >= 3 else { return }
        var s6 = shift.truncatingRemainder(dividingBy: 6)
        if s6 < 0 { s6 += 6 }
        let k = saturation ?? 1
        let source = image
        image = source.withSamples { src in
            Image.build(width: source.width, height: source.height, channels: n) { dst in
                let pixels = source.pixelCount
                switch (n == 3, s6 != 0, saturation != nil) {
                case (true, true, true): colourLoop(src, dst, pixels, s6, k, C3.self, Both.self)
                case (true, true, false): colourLoop(src, dst, pixels, s6, k, C3.self, HueOnly.self)
                case (true, false, true): colourLoop(src, dst, pixels, s6, k, C3.self, SaturationOnly.self)
                case (false, true, true): colourLoop(src, dst, pixels, s6, k, C4.self, Both.self)
                case (false, true, false): colourLoop(src, dst, pixels, s6, k, C4.self, HueOnly.self)
                case (false, false, true): colourLoop(src, dst, pixels, s6, k, C4.self, SaturationOnly.self)
                default: dst.update(from: src, count: pixels * n)
                }
            }
        }
    }

    protocol ColourMode {
        static var hue: Bool { get }
        static var saturation: Bool { get }
    }
    enum HueOnly: ColourMode {
        static var hue: Bool { true }
        static var saturation: Bool { false }
    }
    enum SaturationOnly: ColourMode {
        static var hue: Bool { false }
        static var saturation: Bool { true }
    }
    enum Both: ColourMode {
        static var hue: Bool { true }
        static var saturation: Bool { true }
    }

    /// 0 or −1 (all bits) from a Bool, and a bitwise select; they keep the loop free of branches.
    @inline(__always)
    static func mask(_ b: Bool) -> Int32 { 0 &- Int32(truncatingIfNeeded: unsafeBitCast(b, to: UInt8.self)) }

    @inline(__always)
    static func select(_ m: Int32, _ a: Int32, _ b: Int32) -> Int32 { (a & m) | (b & ~m) }

    @inline(__always)
    static func select(_ m: Int32, _ a: Float, _ b: Float) -> Float {
        Float(
            bitPattern: UInt32(bitPattern: select(m, Int32(bitPattern: a.bitPattern), Int32(bitPattern: b.bitPattern))))
    }

    @inline(__always)
    static func bit(_ b: Bool) -> Int32 { Int32(truncatingIfNeeded: unsafeBitCast(b, to: UInt8.self)) }

    /// rint of v clamped to 0...255.
    @inline(__always)
    static func rintByte(_ v: Float) -> Int32 {
        rint(select(mask(v < 0), Float(0), select(mask(v > 255), Float(255), v)))
    }

    static func colourLoop<C: Channels, M: ColourMode>(
        _ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, _ pixels: Int, _ s6: Float, _ k: Float,
        _: C.Type, _: M.Type
    ) {
        let n = C.n
        for i in 0..<pixels {
            let q = src + i &* n
            var r = Int32(q[0])
            var g = Int32(q[1])
            var b = Int32(q[2])
            if M.hue {
                let mx = max(r, max(g, b))
                let mn = min(r, min(g, b))
                let delta = mx &- mn
                let maxIsR = mask(mx == r)
                let maxIsG = mask(mx == g)
                let num = select(maxIsR, g &- b, select(maxIsG, b &- r, r &- g))
                let base = select(maxIsR, Int32(0), select(maxIsG, Int32(2), Int32(4)))
                let gray = mask(delta == 0)
                let safe = select(gray, Int32(1), delta)
                var h = Float(base) + Float(num) * (1 / Float(safe))
                h = h + s6
                h = select(mask(h < 0), h + 6, h)
                h = select(mask(h >= 6), h - 6, h)
                h = select(mask(h >= 6), Float(0), h)
                let sector = bit(h >= 1) &+ bit(h >= 2) &+ bit(h >= 3) &+ bit(h >= 4) &+ bit(h >= 5)
                let t = Float(safe) * (h - Float(sector))
                let rising = rint(Float(mn) + t)
                let falling = rint(Float(mx) - t)
                // Red by sector: max, falling, min, min, rising, max; green is red two sectors on, blue four.
                @inline(__always) func pick(_ s: Int32) -> Int32 {
                    select(
                        mask(s == 1), falling,
                        select(mask(s == 4), rising, select(mask(UInt32(bitPattern: s &- 2) <= 1), mn, mx)))
                }
                let sg = sector &+ select(mask(sector >= 2), Int32(-2), Int32(4))
                let sb = sector &+ select(mask(sector >= 4), Int32(-4), Int32(2))
                r = select(gray, r, pick(sector))
                g = select(gray, g, pick(sg))
                b = select(gray, b, pick(sb))
            }
            if M.saturation {
                let fr = Float(r)
                let fg = Float(g)
                let fb = Float(b)
                let l = ((fr * 19595 + fg * 38470) + fb * 7471) * 0x1p-16
                r = rintByte(l + k * (fr - l))
                g = rintByte(l + k * (fg - l))
                b = rintByte(l + k * (fb - l))
            }
            let d = dst + i &* n
            d[0] = UInt8(truncatingIfNeeded: r)
            d[1] = UInt8(truncatingIfNeeded: g)
            d[2] = UInt8(truncatingIfNeeded: b)
            if n == 4 { d[3] = q[3] }
        }
    }
}
