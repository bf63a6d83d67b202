import KestrelGeometry
import KestrelImage

/// A box with its class, carried through a pipeline.
///
/// `box` is in corner form, in pixels of the sample's current image, continuous coordinates (a box covering
/// pixel columns 0...9 has x1 = 0, x2 = 10; see `KestrelGeometry`).
public struct LabeledBox: Sendable, Equatable {
    public var box: BoxXYXY
    /// The class id.
    public var label: Int
    /// An opaque value the pipeline carries unchanged (e.g. the index of the source annotation), so callers can
    /// find what each surviving box came from.
    public var tag: Int
    /// The fraction of the box's area that is still visible, relative to the box given to the pipeline:
    /// multiplied by each transform that clips or hides part of it (crop, cutout, rotation past the edge, …).
    /// Starts at 1. Boxes whose visibility falls below ``BoxPolicy/minVisibility`` are dropped.
    public var visibility: Double

    public init(_ box: BoxXYXY, label: Int, tag: Int = 0, visibility: Double = 1) {
        self.box = box
        self.label = label
        self.tag = tag
        self.visibility = visibility
    }
}

/// One training sample: an image with optional boxes, an optional label mask and an optional soft class label.
///
/// - `image`: 8-bit, layout `[height, width, channels]` (HWC), 1–4 channels. Photometric transforms change the
///   colour channels and keep alpha.
/// - `boxes`: corner form in pixels of `image` (see ``LabeledBox``).
/// - `mask`: a 1-channel image of class ids, the same size as `image`; 255 conventionally means "ignore".
///   Geometric transforms move it with nearest interpolation; new pixels get each transform's `maskFill`.
/// - `softLabel`: class probabilities for classification (one-hot for a plain label); mixup and cutmix
///   blend it. Nil when the sample has no class label.
public struct Sample: Sendable, Equatable {
    public var image: Image
    public var boxes: [LabeledBox]
    public var mask: Image?
    public var softLabel: [Double]?

    /// Throws when the mask is not 1-channel or not the image's size, or a box coordinate is not finite.
    public init(
        image: Image, boxes: [LabeledBox] = [], mask: Image? = nil, softLabel: [Double]? = nil
    ) throws(AugmentError) {
        if let mask {
            guard mask.channels == 1 else {
                throw AugmentError(.invalidSample("the mask has \(mask.channels) channels; it must have 1"))
            }
            guard mask.width == image.width, mask.height == image.height else {
                throw AugmentError(
                    .invalidSample(
                        "the mask is \(mask.width)x\(mask.height) but the image is \(image.width)x\(image.height)"))
            }
        }
        for b in boxes where !b.box.isFinite {
            throw AugmentError(.invalidSample("box \(b.box) has a coordinate that is not finite"))
        }
        self.image = image
        self.boxes = boxes
        self.mask = mask
        self.softLabel = softLabel
    }

    /// A sample with a class label given as an index: `softLabel` is one-hot over `classes`.
    public init(image: Image, classIndex: Int, classes: Int) throws(AugmentError) {
        guard classes > 0, (0..<classes).contains(classIndex) else {
            throw AugmentError(.invalidSample("class \(classIndex) is not in 0..<\(classes)"))
        }
        var label = [Double](repeating: 0, count: classes)
        label[classIndex] = 1
        try self.init(image: image, softLabel: label)
    }

    /// For code in this module that keeps the invariants by construction.
    init(unchecked image: Image, boxes: [LabeledBox], mask: Image?, softLabel: [Double]?) {
        self.image = image
        self.boxes = boxes
        self.mask = mask
        self.softLabel = softLabel
    }

    public var width: Int { image.width }
    public var height: Int { image.height }
}

// MARK: - Box formats

/// How box coordinates are written outside Kestrel: which four numbers, and whether they are in pixels or
/// normalised to [0, 1] by the image size (x by width, y by height).
public struct BoxEncoding: Sendable, Equatable, Hashable {
    /// The four numbers of a box.
    public enum Form: String, Sendable, CaseIterable {
        /// `x1, y1, x2, y2` — Pascal VOC, torchvision.
        case xyxy
        /// `x, y, width, height` of the top-left corner — COCO.
        case xywh
        /// `cx, cy, width, height` — YOLO (normalised), SSD.
        case cxcywh
    }

    public var form: Form
    public var normalized: Bool

    public init(_ form: Form, normalized: Bool = false) {
        self.form = form
        self.normalized = normalized
    }

    public static let pixelsXYXY = BoxEncoding(.xyxy)
    public static let coco = BoxEncoding(.xywh)
    public static let yolo = BoxEncoding(.cxcywh, normalized: true)

    /// The corner-form pixel box that `values` (four numbers in this encoding) describe, for an image of the
    /// given size.
    public func decode(_ values: (Double, Double, Double, Double), width: Int, height: Int) -> BoxXYXY {
        let sx = normalized ? Double(width) : 1
        let sy = normalized ? Double(height) : 1
        let (a, b, c, d) = (values.0 * sx, values.1 * sy, values.2 * sx, values.3 * sy)
        switch form {
        case .xyxy: return BoxXYXY(x1: a, y1: b, x2: c, y2: d)
        case .xywh: return BoxXYWH(x: a, y: b, width: c, height: d).xyxy
        case .cxcywh: return BoxCXCYWH(cx: a, cy: b, width: c, height: d).xyxy
        }
    }

    /// The four numbers of `box` (corner form, pixels) in this encoding, for an image of the given size.
    public func encode(_ box: BoxXYXY, width: Int, height: Int) -> (Double, Double, Double, Double) {
        let sx = normalized ? 1 / Double(width) : 1
        let sy = normalized ? 1 / Double(height) : 1
        switch form {
        case .xyxy: return (box.x1 * sx, box.y1 * sy, box.x2 * sx, box.y2 * sy)
        case .xywh:
            let b = box.xywh
            return (b.x * sx, b.y * sy, b.width * sx, b.height * sy)
        case .cxcywh:
            let b = box.cxcywh
            return (b.cx * sx, b.cy * sy, b.width * sx, b.height * sy)
        }
    }
}

extension Sample {
    /// A sample whose boxes are given as four numbers each in `encoding`, with their labels.
    public init(
        image: Image, boxes: [(Double, Double, Double, Double)], labels: [Int], encoding: BoxEncoding,
        mask: Image? = nil
    ) throws(AugmentError) {
        guard boxes.count == labels.count else {
            throw AugmentError(.invalidSample("\(boxes.count) boxes but \(labels.count) labels"))
        }
        var labelled: [LabeledBox] = []
        labelled.reserveCapacity(boxes.count)
        for (i, values) in boxes.enumerated() {
            labelled.append(
                LabeledBox(
                    encoding.decode(values, width: image.width, height: image.height), label: labels[i], tag: i))
        }
        try self.init(image: image, boxes: labelled, mask: mask)
    }

    /// The boxes as four numbers each in `encoding`, for the current image size.
    public func boxValues(_ encoding: BoxEncoding) -> [(Double, Double, Double, Double)] {
        boxes.map { encoding.encode($0.box, width: width, height: height) }
    }
}
