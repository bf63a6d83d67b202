// Axis-aligned boxes in the three forms detection code meets: corner (xyxy), COCO (xywh) and centre (cxcywh).
//
// Conventions, for every type here:
// - Coordinates are Double, in pixels unless a function says "normalised" (then in [0, 1] of the image size).
// - Continuous coordinates: a box covering pixel columns 0...9 is x1 = 0, x2 = 10, width = x2 − x1 = 10.
//   (The Pascal VOC devkit's "+1" inclusive-pixel convention is applied only where its evaluation asks for it.)
// - The origin is the top-left corner of the image, x to the right, y down.
// - A box with x2 ≤ x1 or y2 ≤ y1 is empty: its area is 0. Boxes are not reordered silently.

/// A box in corner form: top-left `(x1, y1)`, bottom-right `(x2, y2)`.
public struct BoxXYXY: Hashable, Sendable, Codable {
    public var x1: Double
    public var y1: Double
    public var x2: Double
    public var y2: Double

    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
    }

    /// `x2 − x1` (negative for a reversed box).
    public var width: Double { x2 - x1 }
    /// `y2 − y1` (negative for a reversed box).
    public var height: Double { y2 - y1 }

    /// `max(0, width) · max(0, height)`: 0 for empty or reversed boxes.
    public var area: Double { max(0, x2 - x1) * max(0, y2 - y1) }

    /// True when the box has no area.
    public var isEmpty: Bool { !(x2 > x1 && y2 > y1) }

    /// True when every coordinate is finite (no NaN or infinity).
    public var isFinite: Bool { x1.isFinite && y1.isFinite && x2.isFinite && y2.isFinite }

    /// The box clipped to the image `[0, width] × [0, height]`. May become empty.
    public func clipped(width: Double, height: Double) -> BoxXYXY {
        BoxXYXY(
            x1: min(max(x1, 0), width), y1: min(max(y1, 0), height),
            x2: min(max(x2, 0), width), y2: min(max(y2, 0), height))
    }

    /// The overlap of two boxes; empty (possibly reversed) when they do not overlap.
    public func intersection(_ other: BoxXYXY) -> BoxXYXY {
        BoxXYXY(x1: max(x1, other.x1), y1: max(y1, other.y1), x2: min(x2, other.x2), y2: min(y2, other.y2))
    }

    /// The area of the overlap of two boxes (0 when they do not overlap).
    public func intersectionArea(_ other: BoxXYXY) -> Double {
        let w = min(x2, other.x2) - max(x1, other.x1)
        let h = min(y2, other.y2) - max(y1, other.y1)
        return w > 0 && h > 0 ? w * h : 0
    }

    /// Intersection over union. Defined as 0 when the union is 0 (two empty boxes), never NaN.
    public func iou(_ other: BoxXYXY) -> Double {
        let inter = intersectionArea(other)
        let union = area + other.area - inter
        return union > 0 ? inter / union : 0
    }

    /// The smallest box containing both.
    public func union(_ other: BoxXYXY) -> BoxXYXY {
        BoxXYXY(x1: min(x1, other.x1), y1: min(y1, other.y1), x2: max(x2, other.x2), y2: max(y2, other.y2))
    }

    /// The box with coordinates divided by the image size (x by `width`, y by `height`).
    public func normalized(width: Double, height: Double) -> BoxXYXY {
        BoxXYXY(x1: x1 / width, y1: y1 / height, x2: x2 / width, y2: y2 / height)
    }

    /// The box with normalised coordinates multiplied back to pixels.
    public func denormalized(width: Double, height: Double) -> BoxXYXY {
        BoxXYXY(x1: x1 * width, y1: y1 * height, x2: x2 * width, y2: y2 * height)
    }

    /// The tight box around a set of points (e.g. a box's four corners after a rotation). Nil for no points.
    public static func enclosing(_ points: some Sequence<(x: Double, y: Double)>) -> BoxXYXY? {
        var it = points.makeIterator()
        guard let first = it.next() else { return nil }
        var box = BoxXYXY(x1: first.x, y1: first.y, x2: first.x, y2: first.y)
        while let p = it.next() {
            box.x1 = min(box.x1, p.x)
            box.y1 = min(box.y1, p.y)
            box.x2 = max(box.x2, p.x)
            box.y2 = max(box.y2, p.y)
        }
        return box
    }

    /// The four corners, clockwise from the top-left.
    public var corners: [(x: Double, y: Double)] { [(x1, y1), (x2, y1), (x2, y2), (x1, y2)] }
}

/// A box in COCO form: top-left `(x, y)` and size `(width, height)`, as in COCO JSON's `bbox` field.
public struct BoxXYWH: Hashable, Sendable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// `width · height` as COCO computes a detection's area (negative sizes give 0).
    public var area: Double { max(0, width) * max(0, height) }

    public init(_ box: BoxXYXY) {
        self.init(x: box.x1, y: box.y1, width: box.x2 - box.x1, height: box.y2 - box.y1)
    }

    public var xyxy: BoxXYXY { BoxXYXY(x1: x, y1: y, x2: x + width, y2: y + height) }
}

/// A box in centre form: centre `(cx, cy)` and size `(width, height)`, as SSD's box coding and YOLO labels use.
public struct BoxCXCYWH: Hashable, Sendable, Codable {
    public var cx: Double
    public var cy: Double
    public var width: Double
    public var height: Double

    public init(cx: Double, cy: Double, width: Double, height: Double) {
        self.cx = cx
        self.cy = cy
        self.width = width
        self.height = height
    }

    public var area: Double { max(0, width) * max(0, height) }

    public init(_ box: BoxXYXY) {
        self.init(cx: (box.x1 + box.x2) / 2, cy: (box.y1 + box.y2) / 2, width: box.x2 - box.x1, height: box.y2 - box.y1)
    }

    public var xyxy: BoxXYXY {
        BoxXYXY(x1: cx - width / 2, y1: cy - height / 2, x2: cx + width / 2, y2: cy + height / 2)
    }
}

extension BoxXYXY {
    public init(_ box: BoxXYWH) { self = box.xyxy }
    public init(_ box: BoxCXCYWH) { self = box.xyxy }
    public var xywh: BoxXYWH { BoxXYWH(self) }
    public var cxcywh: BoxCXCYWH { BoxCXCYWH(self) }
}
