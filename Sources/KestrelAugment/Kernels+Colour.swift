import KestrelImage

// Per-pixel colour kernels. Every kernel changes the colour channels (1 for gray, 3 for RGB) and leaves an
// alpha channel (channels 2 and 4) untouched. Kernels work in place: the caller owns the sample, so a
// uniquely referenced image is changed without a copy.

enum ColourKernels {
    /// The number of colour channels of an image with `channels` channels (alpha excluded).
    @inline(__always)
    static func colourChannels(_ channels: Int) -> Int { channels == 2 || channels == 4 ? channels - 1 : channels }

    /// `v ← clamp(⌊(v·scale + offset) / 2¹⁶⌋, 0, 255)` for every colour sample. Callers fold the rounding into
    /// `offset` (+2¹⁵ for round half up). Plain integer arithmetic in a flat loop: the compiler vectorises it.
    static func linear(_ image: inout Image, scale: Int32, offset: Int32) {
        let n = image.channels
        let count = image.pixels.count
        image.withMutableSamples { p in
            if n == 1 || n == 3 {
                for i in 0..<count {
                    let v = (Int32(p[i]) &* scale &+ offset) >> 16
                    p[i] = UInt8(truncatingIfNeeded: min(255, max(0, v)))
                }
            } else {
                for i in 0..<count where i % n != n - 1 {
                    let v = (Int32(p[i]) &* scale &+ offset) >> 16
                    p[i] = UInt8(truncatingIfNeeded: min(255, max(0, v)))
                }
            }
        }
    }

    /// `v ← table[v]` for every colour sample.
    static func lookUp(_ image: inout Image, _ table: [UInt8]) {
        precondition(table.count == 256)
        let n = image.channels
        let count = image.pixels.count
        table.withUnsafeBufferPointer { t in
            image.withMutableSamples { p in
                if n == 1 || n == 3 {
                    var i = 0
                    while i + 4 <= count {
                        let a = t[Int(p[i])], b = t[Int(p[i + 1])], c = t[Int(p[i + 2])], d = t[Int(p[i + 3])]
                        p[i] = a
                        p[i + 1] = b
                        p[i + 2] = c
                        p[i + 3] = d
                        i += 4
                    }
                    while i < count {
                        p[i] = t[Int(p[i])]
                        i += 1
                    }
                } else {
                    for i in 0..<count where i % n != n - 1 { p[i] = t[Int(p[i])] }
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

    @inline(__always)
    static func rint(_ v: SIMD16<Float>) -> SIMD16<Int32> {
        unsafeBitCast(v + SIMD16(repeating: roundingMagic), to: SIMD16<Int32>.self) &- 0x4B40_0000
    }

    /// Float(v) for 0 ≤ v < 2²², the reverse of the trick.
    @inline(__always)
    static func float(_ v: SIMD16<Int32>) -> SIMD16<Float> {
        unsafeBitCast(v &+ 0x4B40_0000, to: SIMD16<Float>.self) - SIMD16(repeating: roundingMagic)
    }

    /// Rotates the hue by `shift` sixths of a turn, then (if `saturation` is not nil) applies the saturation
    /// factor; see the definitions above. Gray and gray+alpha images are unchanged.
    static func hueSaturation(_ image: inout Image, shift: Float, saturation: Float?) {
        let n = image.channels
        guard n >= 3 else { return }
        var s6 = shift.truncatingRemainder(dividingBy: 6)
        if s6 < 0 { s6 += 6 }
        let pixels = image.pixelCount
        image.withMutableSamples { p in
            if n == 3 {
                var i = 0
                while i + 16 <= pixels {
                    hueSaturation16(UnsafeMutableRawPointer(p + 3 * i), s6, saturation)
                    i += 16
                }
                if i < pixels {  // the last pixels through a 48-byte buffer, so they get the same arithmetic
                    var tail = [UInt8](repeating: 0, count: 48)
                    let count = (pixels - i) * 3
                    tail.withUnsafeMutableBytes { t in
                        t.baseAddress!.copyMemory(from: p + 3 * i, byteCount: count)
                        hueSaturation16(t.baseAddress!, s6, saturation)
                        (p + 3 * i).update(from: t.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)
                    }
                }
            } else {
                // RGBA: gather 16 pixels' RGB into a buffer, process, scatter back; alpha untouched.
                var block = [UInt8](repeating: 0, count: 48)
                block.withUnsafeMutableBytes { b in
                    let q = b.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    var i = 0
                    while i < pixels {
                        let count = min(16, pixels - i)
                        for k in 0..<count { for c in 0..<3 { q[3 * k + c] = p[(i + k) * n + c] } }
                        hueSaturation16(b.baseAddress!, s6, saturation)
                        for k in 0..<count { for c in 0..<3 { p[(i + k) * n + c] = q[3 * k + c] } }
                        i += 16
                    }
                }
            }
        }
    }

    typealias F = SIMD16<Float>
    typealias I = SIMD16<Int32>

    /// 16 RGB pixels (48 bytes at `p`) in place.
    ///
    /// Written with vector–vector operations only: Swift's SIMD overloads that take a scalar (`v .== 0`,
    /// `replacing(with: 1, …)`) and mask combinations (`.&`, `.!`) are compiled lane by lane.
    @inline(__always)
    static func hueSaturation16(_ p: UnsafeMutableRawPointer, _ s6: Float, _ saturation: Float?) {
        let (r8, g8, b8) = deinterleave3(
            p.loadUnaligned(as: SIMD16<UInt8>.self), p.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self),
            p.loadUnaligned(fromByteOffset: 32, as: SIMD16<UInt8>.self))
        var r = widen(r8)
        var g = widen(g8)
        var b = widen(b8)
        let zero = I(repeating: 0)
        if s6 != 0 {
            var mx = r.replacing(with: g, where: r .< g)
            mx = mx.replacing(with: b, where: mx .< b)
            var mn = r.replacing(with: g, where: g .< r)
            mn = mn.replacing(with: b, where: b .< mn)
            let delta = mx &- mn
            // (base, num) for max = b, overridden where max = g, then where max = r (r wins ties, then g).
            var num = r &- g
            var base = I(repeating: 4)
            let maxIsG = mx .== g
            num = num.replacing(with: b &- r, where: maxIsG)
            base = base.replacing(with: I(repeating: 2), where: maxIsG)
            let maxIsR = mx .== r
            num = num.replacing(with: g &- b, where: maxIsR)
            base = base.replacing(with: zero, where: maxIsR)
            let gray = delta .== zero
            let safeDelta = delta.replacing(with: I(repeating: 1), where: gray)
            let inverse = F(repeating: 1) / float(safeDelta)
            var h = float(base) + (float(num &+ I(repeating: 256)) - F(repeating: 256)) * inverse
            h += F(repeating: s6)
            let six = F(repeating: 6)
            h = h.replacing(with: h + six, where: h .< F(repeating: 0))
            h = h.replacing(with: h - six, where: h .>= six)
            h = h.replacing(with: F(repeating: 0), where: h .>= six)
            var sector = zero
            let one = I(repeating: 1)
            for k in 1...5 { sector = sector.replacing(with: sector &+ one, where: h .>= F(repeating: Float(k))) }
            let t = float(safeDelta) * (h - float(sector))
            let rising = rint(float(mn) + t)
            let falling = rint(float(mx) - t)
            var nr = mx, ng = rising, nb = mn  // sector 0
            let s1 = sector .== one
            nr = nr.replacing(with: falling, where: s1)
            ng = ng.replacing(with: mx, where: s1)
            let s2 = sector .== I(repeating: 2)
            nr = nr.replacing(with: mn, where: s2)
            ng = ng.replacing(with: mx, where: s2)
            nb = nb.replacing(with: rising, where: s2)
            let s3 = sector .== I(repeating: 3)
            nr = nr.replacing(with: mn, where: s3)
            ng = ng.replacing(with: falling, where: s3)
            nb = nb.replacing(with: mx, where: s3)
            let s4 = sector .== I(repeating: 4)
            nr = nr.replacing(with: rising, where: s4)
            ng = ng.replacing(with: mn, where: s4)
            nb = nb.replacing(with: mx, where: s4)
            let s5 = sector .== I(repeating: 5)
            ng = ng.replacing(with: mn, where: s5)
            nb = nb.replacing(with: falling, where: s5)
            r = nr.replacing(with: r, where: gray)
            g = ng.replacing(with: g, where: gray)
            b = nb.replacing(with: b, where: gray)
        }
        if let sigma = saturation {
            let l = ((float(r) * F(repeating: 19595) + float(g) * F(repeating: 38470)) + float(b) * F(repeating: 7471))
                * F(repeating: 0x1p-16)
            let k = F(repeating: sigma)
            let lowest = F(repeating: 0)
            let highest = F(repeating: 255)
            @inline(__always) func blend(_ v: I) -> I {
                let y = l + k * (float(v) - l)
                return rint(y.replacing(with: lowest, where: y .< lowest).replacing(with: highest, where: y .> highest))
            }
            r = blend(r)
            g = blend(g)
            b = blend(b)
        }
        let (o0, o1, o2) = interleave3(narrow(r), narrow(g), narrow(b))
        p.storeBytes(of: o0, as: SIMD16<UInt8>.self)
        p.storeBytes(of: o1, toByteOffset: 16, as: SIMD16<UInt8>.self)
        p.storeBytes(of: o2, toByteOffset: 32, as: SIMD16<UInt8>.self)
    }
}
