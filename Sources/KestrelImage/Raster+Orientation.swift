extension Raster {
    /// The image turned upright for an EXIF orientation value (see ``ImageInfo/orientation``):
    /// 1 unchanged, 2 mirror left-right, 3 rotate 180°, 4 mirror top-bottom, 5 transpose, 6 rotate 90° clockwise,
    /// 7 transverse, 8 rotate 90° counter-clockwise. Orientations 5–8 swap width and height. Values outside
    /// 1...8 return the image unchanged. Matches Pillow's `ImageOps.exif_transpose`.
    public func oriented(_ orientation: Int) -> Raster {
        guard (2...8).contains(orientation) else { return self }
        let w = width, h = height, c = channels
        let swaps = orientation >= 5
        let ow = swaps ? h : w
        let oh = swaps ? w : h
        // For output pixel (ox, oy), the source pixel is (sx, sy) = (x0 + ox·dxx + oy·dxy, y0 + ox·dyx + oy·dyy).
        let (x0, dxx, dxy, y0, dyx, dyy): (Int, Int, Int, Int, Int, Int) =
            switch orientation {
            case 2: (w - 1, -1, 0, 0, 0, 1)
            case 3: (w - 1, -1, 0, h - 1, 0, -1)
            case 4: (0, 1, 0, h - 1, 0, -1)
            case 5: (0, 0, 1, 0, 1, 0)
            case 6: (0, 0, 1, h - 1, -1, 0)
            case 7: (w - 1, 0, -1, h - 1, -1, 0)
            default: (w - 1, 0, -1, 0, 1, 0)  // 8
            }
        let out = [Sample](unsafeUninitializedCapacity: pixels.count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                var o = 0
                for oy in 0..<oh {
                    var sx = x0 + oy * dxy
                    var sy = y0 + oy * dyy
                    for _ in 0..<ow {
                        let s = (sy * w + sx) * c
                        for k in 0..<c { dst[o + k] = src[s + k] }
                        o += c
                        sx += dxx
                        sy += dyx
                    }
                }
            }
            initialized = pixels.count
        }
        return Raster(uncheckedWidth: ow, height: oh, channels: c, pixels: out)
    }
}
