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
                // Three running sums over 16 pixels (48 bytes) at a time keep the loop simple to vectorise.
                var i = 0
                let count = pixels * 3
                while i + 3 <= count {
                    r &+= Int(p[i])
                    g &+= Int(p[i + 1])
                    b &+= Int(p[i + 2])
                    i += 3
                }
            } else {
                for i in 0..<pixels {
                    r &+= Int(p[i * n])
                    g &+= Int(p[i * n + 1])
                    b &+= Int(p[i * n + 2])
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

    /// Saturation blend with each pixel's luma L = (19595 R + 38470 G + 7471 B) / 2¹⁶ (not rounded):
    /// `v ← clamp(⌊(S·v·2¹⁶ + (2¹⁶ − S)·L·2¹⁶ + 2³¹) / 2³²⌋)` with `S = ⌊s·2¹⁶ + ½⌋`.
    @inline(__always)
    static func saturate(_ r: inout Int32, _ g: inout Int32, _ b: inout Int32, _ s: Int64) {
        let l = Int64(19595 * r + 38470 * g + 7471 * b)
        let rest = (65536 - s) * l + (1 << 31)
        r = clamp8((s * (Int64(r) << 16) + rest) >> 32)
        g = clamp8((s * (Int64(g) << 16) + rest) >> 32)
        b = clamp8((s * (Int64(b) << 16) + rest) >> 32)
    }

    @inline(__always)
    static func clamp8(_ v: Int64) -> Int32 { Int32(truncatingIfNeeded: min(255, max(0, v))) }

    /// Reciprocals 1/Δ for Δ = 0...255 (index 0 unused), so hue needs no division per pixel.
    static let reciprocals: [Float] = (0..<256).map { $0 == 0 ? 0 : 1 / Float($0) }

    /// Rotates the HSV hue by `shift` sixths of a turn (degrees / 60), keeping V = max and chroma max − min;
    /// the middle channel is `min + Δ·f` or `max − Δ·f` rounded half up (Float arithmetic). Then, if
    /// `saturation` is not nil, blends with luma (see `saturate`; S in 1/65536).
    static func hueSaturation(_ image: inout Image, shift: Float, saturation: Int64?) {
        let n = image.channels
        guard n >= 3 else { return }
        let pixels = image.pixelCount
        var shift6 = shift.truncatingRemainder(dividingBy: 6)
        if shift6 < 0 { shift6 += 6 }
        let rotate = shift6 != 0
        Self.reciprocals.withUnsafeBufferPointer { rcp in
            image.withMutableSamples { p in
                for i in 0..<pixels {
                    let q = p + i * n
                    var r = Int32(q[0])
                    var g = Int32(q[1])
                    var b = Int32(q[2])
                    if rotate {
                        let mx = max(r, max(g, b))
                        let mn = min(r, min(g, b))
                        let delta = mx - mn
                        if delta != 0 {
                            let inv = rcp[Int(delta)]
                            var h: Float
                            if mx == r {
                                h = Float(g - b) * inv
                            } else if mx == g {
                                h = 2 + Float(b - r) * inv
                            } else {
                                h = 4 + Float(r - g) * inv
                            }
                            h += shift6
                            if h < 0 { h += 6 }
                            if h >= 6 { h -= 6 }
                            if h >= 6 { h = 0 }
                            let sector = Int(h)
                            let f = h - Float(sector)
                            let span = Float(delta) * f
                            let rising = Int32(Float(mn) + span + 0.5)  // min + Δ·f, rounded half up
                            let falling = Int32(Float(mx) - span + 0.5)  // max − Δ·f
                            switch sector {
                            case 0: (r, g, b) = (mx, rising, mn)
                            case 1: (r, g, b) = (falling, mx, mn)
                            case 2: (r, g, b) = (mn, mx, rising)
                            case 3: (r, g, b) = (mn, falling, mx)
                            case 4: (r, g, b) = (rising, mn, mx)
                            default: (r, g, b) = (mx, mn, falling)
                            }
                        }
                    }
                    if let s = saturation { saturate(&r, &g, &b, s) }
                    q[0] = UInt8(truncatingIfNeeded: r)
                    q[1] = UInt8(truncatingIfNeeded: g)
                    q[2] = UInt8(truncatingIfNeeded: b)
                }
            }
        }
    }
}
