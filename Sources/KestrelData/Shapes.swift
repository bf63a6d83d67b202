#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import KestrelGeometry
import KestrelImage

/// The synthetic "shapes" detection and segmentation data: circles, squares, triangles and stars of random
/// colour, size, rotation and overlap over photographic or procedural backgrounds, with exact per-pixel labels.
///
/// Scenes are a pure function of (seed, index): generating them in any order or on any number of threads gives
/// the same images. Class ids: 0 background, 1 circle, 2 square, 3 triangle, 4 star. Shapes are anti-aliased in
/// the image (4×4 supersampling); a pixel is labelled with the topmost shape covering its centre. A new shape
/// may not hide more than half of an earlier one, so every annotated object stays at least half visible.
public enum Shapes {
    public static let classNames = ["circle", "square", "triangle", "star"]

    /// One object of a scene.
    public struct Instance: Sendable, Equatable {
        /// 1...4 (see ``Shapes``).
        public var classID: Int
        /// Tight box around the object's visible pixels, pixels, continuous coordinates.
        public var box: BoxXYXY
        /// Visible pixels (those labelled with this object).
        public var area: Int
        /// The object's outline (before occlusion), clipped to the image: circles as 32-gons.
        public var polygon: [(x: Double, y: Double)]

        public static func == (a: Instance, b: Instance) -> Bool {
            a.classID == b.classID && a.box == b.box && a.area == b.area && a.polygon.elementsEqual(b.polygon) { $0 == $1 }
        }
    }

    /// A generated image with its label map (`[H, W, 1]`, class ids) and objects.
    public struct Scene: Sendable, Equatable {
        public var image: Image
        public var mask: Image
        public var instances: [Instance]
    }

    /// Generator settings.
    public struct Options: Sendable {
        public var width = 128
        public var height = 128
        public var minShapes = 1
        public var maxShapes = 4
        /// Shape radius as a fraction of min(width, height).
        public var minRadius = 0.08
        public var maxRadius = 0.25
        /// Photographs to crop backgrounds from (decoded RGB); with none, every background is procedural.
        public var photos: [Image] = []
        /// Fraction of backgrounds cropped from `photos` (the rest procedural).
        public var photoFraction = 0.5

        public init() {}
    }

    /// Scene `index` of the stream `seed`.
    public static func scene(seed: UInt64, index: Int, options o: Options) -> Scene {
        var rng = SplitMix(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03) &+ 0x5851_F42D_4C95_7F2D)
        let (w, h) = (o.width, o.height)
        var pixels = background(w, h, options: o, rng: &rng)
        var labels = [UInt8](repeating: 0, count: w * h)
        var owner = [Int16](repeating: -1, count: w * h)  // instance index per pixel
        var shapes: [(cls: Int, poly: [(x: Double, y: Double)], circle: (Double, Double, Double)?)] = []
        var counts: [Int] = []
        let target = Int.random(in: o.minShapes...o.maxShapes, using: &rng)
        var attempts = 0
        while shapes.count < target && attempts < 40 {
            attempts += 1
            let cls = Int.random(in: 1...4, using: &rng)
            let r = Double.random(in: o.minRadius...o.maxRadius, using: &rng) * Double(min(w, h))
            let cx = Double.random(in: r * 0.6...(Double(w) - r * 0.6), using: &rng)
            let cy = Double.random(in: r * 0.6...(Double(h) - r * 0.6), using: &rng)
            let angle = Double.random(in: 0..<(2 * Double.pi), using: &rng)
            let poly = outline(cls, cx: cx, cy: cy, r: r, angle: angle)
            let circle: (Double, Double, Double)? = cls == 1 ? (cx, cy, r) : nil
            // Coverage map over the shape's bounding box (4×4 samples per pixel).
            let bx0 = max(0, Int((cx - r).rounded(.down)) - 1), by0 = max(0, Int((cy - r).rounded(.down)) - 1)
            let bx1 = min(w, Int((cx + r).rounded(.up)) + 1), by1 = min(h, Int((cy + r).rounded(.up)) + 1)
            guard bx1 > bx0, by1 > by0 else { continue }
            var coverage = [Float](repeating: 0, count: (bx1 - bx0) * (by1 - by0))
            var centre = [Bool](repeating: false, count: coverage.count)
            for y in by0..<by1 {
                for x in bx0..<bx1 {
                    var inside = 0
                    for sy in 0..<4 {
                        for sx in 0..<4 {
                            let px = Double(x) + (Double(sx) + 0.5) / 4, py = Double(y) + (Double(sy) + 0.5) / 4
                            if contains(px, py, poly: poly, circle: circle) { inside += 1 }
                        }
                    }
                    let k = (y - by0) * (bx1 - bx0) + (x - bx0)
                    coverage[k] = Float(inside) / 16
                    centre[k] = contains(Double(x) + 0.5, Double(y) + 0.5, poly: poly, circle: circle)
                }
            }
            // Would it hide more than half of an earlier shape (or cover nothing)?
            var hidden = [Int](repeating: 0, count: shapes.count)
            var own = 0
            for y in by0..<by1 {
                for x in bx0..<bx1 where centre[(y - by0) * (bx1 - bx0) + (x - bx0)] {
                    own += 1
                    let o = owner[y * w + x]
                    if o >= 0 { hidden[Int(o)] += 1 }
                }
            }
            if own < 30 || zip(hidden, counts).contains(where: { 2 * $0 > $1 }) { continue }
            // Draw: a random saturated colour, blended by coverage.
            let colour = vividColour(&rng)
            for y in by0..<by1 {
                for x in bx0..<bx1 {
                    let k = (y - by0) * (bx1 - bx0) + (x - bx0)
                    let a = coverage[k]
                    if a > 0 {
                        for c in 0..<3 {
                            let p = (y * w + x) * 3 + c
                            pixels[p] = UInt8((Float(pixels[p]) * (1 - a) + Float(colour[c]) * a).rounded())
                        }
                    }
                    if centre[k] {
                        let old = owner[y * w + x]
                        if old >= 0 { counts[Int(old)] -= 1 }
                        owner[y * w + x] = Int16(shapes.count)
                        labels[y * w + x] = UInt8(cls)
                    }
                }
            }
            shapes.append((cls, poly, circle))
            counts.append(own)
        }
        // Instances from the final label ownership.
        var instances: [Instance] = []
        for (i, s) in shapes.enumerated() {
            var x0 = w, y0 = h, x1 = -1, y1 = -1, area = 0
            for y in 0..<h {
                for x in 0..<w where owner[y * w + x] == Int16(i) {
                    area += 1
                    x0 = min(x0, x)
                    y0 = min(y0, y)
                    x1 = max(x1, x)
                    y1 = max(y1, y)
                }
            }
            guard area > 0 else { continue }
            let clipped = s.poly.map { (x: min(max($0.x, 0), Double(w)), y: min(max($0.y, 0), Double(h))) }
            instances.append(Instance(classID: s.cls, box: BoxXYXY(x1: Double(x0), y1: Double(y0), x2: Double(x1 + 1), y2: Double(y1 + 1)),
                                      area: area, polygon: clipped))
        }
        let image = try! Image(width: w, height: h, channels: 3, pixels: pixels)  // sizes are ours, always valid
        let mask = try! Image(width: w, height: h, channels: 1, pixels: labels)
        return Scene(image: image, mask: mask, instances: instances)
    }

    /// The shape's outline: square (4 corners), triangle (3), star (10 alternating radii) rotated by `angle`;
    /// circles as a 32-gon (for the polygon annotation; pixels use the exact circle).
    static func outline(_ cls: Int, cx: Double, cy: Double, r: Double, angle: Double) -> [(x: Double, y: Double)] {
        let (n, radius): (Int, (Int) -> Double) =
            switch cls {
            case 1: (32, { _ in r })
            case 2: (4, { _ in r })
            case 3: (3, { _ in r })
            default: (10, { $0 % 2 == 0 ? r : r * 0.45 })
            }
        return (0..<n).map { k in
            let t = angle + 2 * Double.pi * Double(k) / Double(n)
            return (cx + radius(k) * cos(t), cy + radius(k) * sin(t))
        }
    }

    static func contains(_ x: Double, _ y: Double, poly: [(x: Double, y: Double)], circle: (Double, Double, Double)?) -> Bool {
        if let (cx, cy, r) = circle { return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r }
        var inside = false
        var j = poly.count - 1
        for i in 0..<poly.count {
            let (xi, yi, xj, yj) = (poly[i].x, poly[i].y, poly[j].x, poly[j].y)
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }

    static func vividColour(_ rng: inout SplitMix) -> [UInt8] {
        // HSV with full saturation and a bright or dark value, so shapes stand out from most backgrounds.
        let hue = Double.random(in: 0..<6, using: &rng)
        let v = Bool.random(using: &rng) ? Double.random(in: 0.75...1, using: &rng) : Double.random(in: 0.25...0.45, using: &rng)
        let s = Double.random(in: 0.7...1, using: &rng)
        let c = v * s, x = c * (1 - abs(hue.truncatingRemainder(dividingBy: 2) - 1)), m = v - c
        let (r, g, b): (Double, Double, Double) =
            switch Int(hue) {
            case 0: (c, x, 0)
            case 1: (x, c, 0)
            case 2: (0, c, x)
            case 3: (0, x, c)
            case 4: (x, 0, c)
            default: (c, 0, x)
            }
        return [r, g, b].map { UInt8((($0 + m) * 255).rounded()) }
    }

    static func background(_ w: Int, _ h: Int, options o: Options, rng: inout SplitMix) -> [UInt8] {
        if !o.photos.isEmpty && Double.random(in: 0..<1, using: &rng) < o.photoFraction {
            let photo = o.photos[Int.random(in: 0..<o.photos.count, using: &rng)]
            if photo.width >= w && photo.height >= h && photo.channels == 3 {
                let x0 = Int.random(in: 0...(photo.width - w), using: &rng), y0 = Int.random(in: 0...(photo.height - h), using: &rng)
                var out = [UInt8](repeating: 0, count: w * h * 3)
                for y in 0..<h {
                    for x in 0..<w {
                        for c in 0..<3 { out[(y * w + x) * 3 + c] = photo.pixels[((y0 + y) * photo.width + x0 + x) * 3 + c] }
                    }
                }
                return out
            }
        }
        // Procedural: a two-colour gradient with stripes or checks and grain.
        let a = (0..<3).map { _ in Double.random(in: 40...215, using: &rng) }
        let b = (0..<3).map { _ in Double.random(in: 40...215, using: &rng) }
        let angle = Double.random(in: 0..<Double.pi, using: &rng)
        let period = Double.random(in: 6...24, using: &rng)
        let pattern = Int.random(in: 0..<3, using: &rng)
        let amplitude = Double.random(in: 8...30, using: &rng)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let t = (Double(x) * cos(angle) + Double(y) * sin(angle)) / Double(max(w, h))
                let p: Double =
                    switch pattern {
                    case 0: sin(2 * Double.pi * (Double(x) * cos(angle) - Double(y) * sin(angle)) / period)
                    case 1: (Int(Double(x) / period) + Int(Double(y) / period)) % 2 == 0 ? 1 : -1
                    default: 0
                    }
                let grain = Double(Int(rng.next() % 17) - 8)
                for c in 0..<3 {
                    let v = a[c] * (1 - t) + b[c] * t + amplitude * p + grain
                    out[(y * w + x) * 3 + c] = UInt8(min(255, max(0, v.rounded())))
                }
            }
        }
        return out
    }
}
