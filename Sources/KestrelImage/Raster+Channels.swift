extension Raster {
    /// The image with `channels` channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA).
    ///
    /// Conventions: gray → colour replicates the gray value; colour → gray is ITU-R 601-2 luma computed as
    /// Pillow does (`(19595·R + 38470·G + 7471·B + 32768) >> 16`); an added alpha channel is opaque (the
    /// sample maximum); a dropped alpha channel is discarded, not composited.
    public func converted(toChannels target: Int) throws(ImageError) -> Raster {
        guard (1...4).contains(target) else {
            throw ImageError(.invalidArgument("channels must be 1...4, got \(target)"))
        }
        if target == channels { return self }
        let n = pixelCount
        let sc = channels
        let srcColour = sc >= 3
        let srcAlpha = sc == 2 || sc == 4
        let dstColour = target >= 3
        let dstAlpha = target == 2 || target == 4
        let opaque = Sample.max
        let out = [Sample](unsafeUninitializedCapacity: n * target) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                for i in 0..<n {
                    let s = i * sc
                    let d = i * target
                    if dstColour {
                        if srcColour {
                            dst[d] = src[s]
                            dst[d + 1] = src[s + 1]
                            dst[d + 2] = src[s + 2]
                        } else {
                            dst[d] = src[s]
                            dst[d + 1] = src[s]
                            dst[d + 2] = src[s]
                        }
                    } else {
                        dst[d] = srcColour ? Self.luma(src[s], src[s + 1], src[s + 2]) : src[s]
                    }
                    if dstAlpha { dst[d + target - 1] = srcAlpha ? src[s + sc - 1] : opaque }
                }
            }
            initialized = n * target
        }
        return Raster(uncheckedWidth: width, height: height, channels: target, pixels: out)
    }

    @inline(__always)
    static func luma(_ r: Sample, _ g: Sample, _ b: Sample) -> Sample {
        Sample(truncatingIfNeeded: (19595 &* Int(r) &+ 38470 &* Int(g) &+ 7471 &* Int(b) &+ 0x8000) >> 16)
    }
}

extension Raster where Sample == UInt8 {
    /// The same image with 16-bit samples: each 8-bit value v becomes v·257, so 0 → 0 and 255 → 65535.
    public func widened() -> Image16 {
        Image16(uncheckedWidth: width, height: height, channels: channels, pixels: pixels.map { UInt16($0) &* 257 })
    }
}

extension Raster where Sample == UInt16 {
    /// The same image with 8-bit samples, keeping the high byte of each sample (as libpng's strip_16 and
    /// Pillow do), so decoding a 16-bit PNG to ``Image`` and narrowing its ``Image16`` agree exactly.
    public func narrowed() -> Image {
        Image(uncheckedWidth: width, height: height, channels: channels, pixels: pixels.map { UInt8($0 >> 8) })
    }
}

extension Raster {
    /// The image without its alpha channel, composited over a uniform `background` value:
    /// `out = (v·a + background·(max − a)) / max`, rounded to nearest. Images without alpha are returned as is.
    public func flattened(onto background: Sample) -> Raster {
        guard channels == 2 || channels == 4 else { return self }
        let colour = channels - 1
        let n = pixelCount
        let maxValue = UInt64(Sample.max)
        let bg = UInt64(background)
        let out = [Sample](unsafeUninitializedCapacity: n * colour) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                for i in 0..<n {
                    let a = UInt64(src[i * channels + colour])
                    for k in 0..<colour {
                        let v = UInt64(src[i * channels + k])
                        dst[i * colour + k] = Sample(truncatingIfNeeded: (v * a + bg * (maxValue - a) + maxValue / 2) / maxValue)
                    }
                }
            }
            initialized = n * colour
        }
        return Raster(uncheckedWidth: width, height: height, channels: colour, pixels: out)
    }
}
