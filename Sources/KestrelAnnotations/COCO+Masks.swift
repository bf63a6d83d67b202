#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// COCO instance masks as pycocotools rasterises them (`maskApi.c`: rleFrPoly, rleFrString, rleDecode), so a mask
// Kestrel draws from an annotation equals `COCO.annToMask` pixel for pixel (goldens from pycocotools 2.0.11 in
// tools/make_mask_goldens.py).

/// A COCO run-length encoding of a binary mask of `height × width` pixels: alternating runs of 0s and 1s
/// (starting with 0s, so the first run may be empty) over the pixels in **column-major** order (pycocotools'
/// Fortran order: down the first column, then the next).
public struct RunLengthMask: Sendable, Equatable {
    public var height: Int
    public var width: Int
    public var counts: [Int]

    /// Runs must be non-negative and cover exactly `height·width` pixels.
    public init(height: Int, width: Int, counts: [Int]) throws(AnnotationError) {
        guard height >= 0, width >= 0 else { throw AnnotationError(.invalidValue, "RLE size must not be negative") }
        guard counts.allSatisfy({ $0 >= 0 }) else { throw AnnotationError(.invalidValue, "RLE counts must not be negative") }
        let total = counts.reduce(0, +)
        guard total == height * width else {
            throw AnnotationError(.invalidValue, "RLE counts cover \(total) pixels; size \(height)x\(width) has \(height * width)")
        }
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// Decodes COCO's compressed `counts` string (pycocotools `rleFrString`): each count is a little-endian run
    /// of 5-bit groups in characters `'0' + value` (bit 0x20 marks "more follows", 0x10 of the last group is the
    /// sign); from the fourth count on, the value is stored as the difference from the count two places back.
    public init(height: Int, width: Int, compressed: String) throws(AnnotationError) {
        var counts: [Int] = []
        var bytes = Array(compressed.utf8)[...]
        while !bytes.isEmpty {
            var x = 0, k = 0, more = true
            while more {
                guard let byte = bytes.popFirst() else {
                    throw AnnotationError(.invalidValue, "compressed RLE string ends inside a count")
                }
                guard byte >= 48, byte < 48 + 64 else {
                    throw AnnotationError(.invalidValue, "compressed RLE string has an invalid character (byte \(byte))")
                }
                let c = Int(byte) - 48
                guard k < 12 else { throw AnnotationError(.invalidValue, "compressed RLE count is too long") }
                x |= (c & 0x1f) << (5 * k)
                more = c & 0x20 != 0
                k += 1
                if !more && c & 0x10 != 0 { x |= -1 << (5 * k) }
            }
            if counts.count > 2 { x += counts[counts.count - 2] }
            counts.append(x)
        }
        try self.init(height: height, width: width, counts: counts)
    }

    /// COCO's compressed string for these counts (pycocotools `rleToString`), the inverse of
    /// ``init(height:width:compressed:)``.
    public var compressed: String {
        var out: [UInt8] = []
        for (i, count) in counts.enumerated() {
            var x = count
            if i > 2 { x -= counts[i - 2] }
            var more = true
            while more {
                var c = x & 0x1f
                x >>= 5
                more = c & 0x10 != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                out.append(UInt8(c + 48))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The mask, row-major `[height · width]`, 1 inside and 0 outside.
    public func decode() -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: height * width)
        guard height > 0 else { return mask }
        var p = 0
        for (i, run) in counts.enumerated() {
            if i % 2 == 1 {
                for q in p..<(p + run) { mask[(q % height) * width + q / height] = 1 }
            }
            p += run
        }
        return mask
    }

    /// The encoding of a row-major mask (nonzero = inside).
    public init(mask: [UInt8], height: Int, width: Int) {
        precondition(mask.count == height * width, "mask has \(mask.count) pixels, not \(height)x\(width)")
        var counts: [Int] = []
        var current: UInt8 = 0, run = 0
        for x in 0..<width {
            for y in 0..<height {
                let v: UInt8 = mask[y * width + x] != 0 ? 1 : 0
                if v == current {
                    run += 1
                } else {
                    counts.append(run)
                    current = v
                    run = 1
                }
            }
        }
        counts.append(run)
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// A polygon rasterised as pycocotools' `rleFrPoly` does: the vertices `[x0, y0, x1, y1, …]` (pixel
    /// coordinates, continuous: pixel (i, j) covers [i, i + 1) × [j, j + 1)) are scaled by 5 and rounded, the
    /// edges traced densely, and a pixel is inside when its centre is, decided per column from the crossings of
    /// the edges with the column's centre line. Parts outside the image are clipped.
    public init(polygon xy: [Double], height h: Int, width w: Int) {
        let k = xy.count / 2
        let scale = 5.0
        // Vertices on the 5x grid, closed.
        var x = [Int](repeating: 0, count: k + 1), y = [Int](repeating: 0, count: k + 1)
        for j in 0..<k {
            x[j] = Int(scale * xy[2 * j] + 0.5)  // C's (int) cast: truncation toward zero
            y[j] = Int(scale * xy[2 * j + 1] + 0.5)
        }
        if k > 0 {
            x[k] = x[0]
            y[k] = y[0]
        }
        // Every grid point along every edge.
        var u: [Int] = [], v: [Int] = []
        for j in 0..<k {
            var (xs, xe, ys, ye) = (x[j], x[j + 1], y[j], y[j + 1])
            let dx = abs(xe - xs), dy = abs(ys - ye)
            let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
            if flip {
                swap(&xs, &xe)
                swap(&ys, &ye)
            }
            let s = dx >= dy ? Double(ye - ys) / Double(dx) : Double(xe - xs) / Double(dy)
            if dx >= dy {
                for d in 0...dx {
                    let t = flip ? dx - d : d
                    u.append(t + xs)
                    v.append(Int(Double(ys) + s * Double(t) + 0.5))
                }
            } else {
                for d in 0...dy {
                    let t = flip ? dy - d : d
                    v.append(t + ys)
                    u.append(Int(Double(xs) + s * Double(t) + 0.5))
                }
            }
        }
        // Where the boundary crosses a column centre: (column, first row below the crossing).
        var a: [Int] = []
        for j in 1..<max(u.count, 1) where u[j] != u[j - 1] {
            var xd = Double(u[j] < u[j - 1] ? u[j] : u[j] - 1)
            xd = (xd + 0.5) / scale - 0.5
            if floor(xd) != xd || xd < 0 || xd > Double(w - 1) { continue }
            var yd = Double(v[j] < v[j - 1] ? v[j] : v[j - 1])
            yd = (yd + 0.5) / scale - 0.5
            if yd < 0 { yd = 0 } else if yd > Double(h) { yd = Double(h) }
            yd = ceil(yd)
            a.append(Int(xd) * h + Int(yd))
        }
        // Sorted crossing positions in column-major order become the runs (equal positions cancel).
        a.append(h * w)
        a.sort()
        var previous = 0
        for j in a.indices {
            let t = a[j]
            a[j] -= previous
            previous = t
        }
        var b: [Int] = []
        var j = 0
        if !a.isEmpty {
            b.append(a[0])
            j = 1
        }
        while j < a.count {
            if a[j] > 0 {
                b.append(a[j])
                j += 1
            } else {
                j += 1
                if j < a.count {
                    b[b.count - 1] += a[j]
                    j += 1
                }
            }
        }
        height = h
        width = w
        counts = b
    }
}

/// The `segmentation` of a COCO annotation: polygons (`[[x0, y0, x1, y1, …], …]`) or a run-length encoding
/// (`{"size": [h, w], "counts": [...]}` uncompressed, or `"counts": "..."` compressed).
public enum COCOSegmentation: Sendable, Equatable {
    case polygons([[Double]])
    case runLength(RunLengthMask)

    /// Parses an annotation's raw `segmentation` value for an image of `height × width`. An RLE's `size` must
    /// equal the image's; a polygon needs an even number of coordinates, all finite.
    public init(_ raw: RawJSON, height: Int, width: Int) throws(AnnotationError) {
        self = try JSONScanner.scan(Array(raw.text.utf8), file: nil) { s throws(AnnotationError) in
            s.skipWhitespace()
            if s.peek() == UInt8(ascii: "[") {
                var polygons: [[Double]] = []
                try s.beginArray("a list of polygons")
                var first = true
                while try s.nextElement(first: first) {
                    first = false
                    var coordinates: [Double] = []
                    try s.beginArray("a polygon (a list of x, y coordinates)")
                    var firstNumber = true
                    while try s.nextElement(first: firstNumber) {
                        firstNumber = false
                        let value = try s.readNumber("a coordinate")
                        guard value.isFinite else { throw s.error(.invalidValue, "polygon coordinates must be finite") }
                        coordinates.append(value)
                    }
                    guard coordinates.count % 2 == 0 else {
                        throw AnnotationError(.invalidValue, "a polygon has an odd number of coordinates (\(coordinates.count))",
                                              path: "[\(polygons.count)]")
                    }
                    polygons.append(coordinates)
                }
                return .polygons(polygons)
            }
            var size: [Int]?
            var list: [Int]?
            var string: String?
            try s.beginObject("polygons or an RLE object")
            var first = true
            while let key = try s.nextKey(first: first) {
                first = false
                if s.key(key, is: "size") {
                    var values: [Int] = []
                    try s.beginArray("[height, width]")
                    var f = true
                    while try s.nextElement(first: f) {
                        f = false
                        values.append(try s.readInt("an integer"))
                    }
                    size = values
                } else if s.key(key, is: "counts") {
                    s.skipWhitespace()
                    if s.peek() == UInt8(ascii: "\"") {
                        string = try s.readString("a compressed RLE string")
                    } else {
                        var values: [Int] = []
                        try s.beginArray("a list of run lengths or a compressed RLE string")
                        var f = true
                        while try s.nextElement(first: f) {
                            f = false
                            values.append(try s.readInt("a run length"))
                        }
                        list = values
                    }
                } else {
                    try s.skipValue()
                }
            }
            guard let size, size.count == 2 else { throw AnnotationError(.missingField, "an RLE needs \"size\": [height, width]") }
            guard size[0] == height, size[1] == width else {
                throw AnnotationError(.inconsistent, "RLE size \(size[0])x\(size[1]) differs from the image's \(height)x\(width)")
            }
            if let list { return .runLength(try RunLengthMask(height: height, width: width, counts: list)) }
            if let string { return .runLength(try RunLengthMask(height: height, width: width, compressed: string)) }
            throw AnnotationError(.missingField, "an RLE needs \"counts\"")
        }
    }

    /// The binary mask, row-major `[height · width]`, 1 inside: `COCO.annToMask` (polygons of one annotation are
    /// united).
    public func mask(height: Int, width: Int) -> [UInt8] {
        switch self {
        case .runLength(let rle):
            return rle.decode()
        case .polygons(let polygons):
            var out = [UInt8](repeating: 0, count: height * width)
            for p in polygons {
                for (i, v) in RunLengthMask(polygon: p, height: height, width: width).decode().enumerated() where v != 0 {
                    out[i] = 1
                }
            }
            return out
        }
    }
}
