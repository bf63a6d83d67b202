/// Reads the one EXIF field Kestrel acts on: the orientation tag (0x0112).
///
/// Orientation values (TIFF 6.0 / EXIF 2.3), and what `Raster.oriented(_:)` does to display the image upright:
/// 1 as stored · 2 mirror left-right · 3 rotate 180° · 4 mirror top-bottom · 5 transpose ·
/// 6 rotate 90° clockwise · 7 transverse · 8 rotate 90° counter-clockwise.
enum EXIF {
    /// The orientation in a TIFF-structured EXIF payload (starting with `II*\0` or `MM\0*`), or nil when it is
    /// absent, out of range or the structure is damaged. Never reads outside `tiff`.
    static func orientation(tiff: UnsafeRawBufferPointer) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[o]) | Int(tiff[o + 1]) << 8 : Int(tiff[o]) << 8 | Int(tiff[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for i in 0..<count {
            let entry = ifd + 2 + 12 * i
            guard let tag = u16(entry) else { return nil }
            guard tag == 0x0112, let type = u16(entry + 2) else { continue }
            // SHORT is the standard type; some writers use LONG.
            let value = type == 4 ? u32(entry + 8) : u16(entry + 8)
            if let value, (1...8).contains(value) { return value }
            return nil
        }
        return nil
    }

    /// The orientation from a JPEG's first APP1 `Exif\0\0` segment, scanning markers up to the first SOS.
    static func jpegOrientation(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 2  // after SOI
        while i + 4 <= bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            if marker == 0xFF {  // fill byte
                i += 1
                continue
            }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {  // standalone markers
                i += 2
                continue
            }
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 2, i + 2 + length <= bytes.count else { return nil }
            let start = i + 4
            let end = i + 2 + length
            if marker == 0xE1, end - start >= 6,
                bytes[start..<start + 6].elementsEqual([0x45, 0x78, 0x69, 0x66, 0, 0])
            {
                return orientation(tiff: UnsafeRawBufferPointer(rebasing: bytes[(start + 6)..<end]))
            }
            i = end
        }
        return nil
    }
}
