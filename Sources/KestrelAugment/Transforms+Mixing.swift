import KestrelGeometry
import KestrelImage

// Mixing transforms combine the sample with other samples of the dataset (its "partners", drawn uniformly
// from the context's PartnerSource, never the sample itself when there is another). Partners are used as given
// to the pipeline (not augmented), resized to the needed size with bilinear interpolation (masks nearest) and
// converted to the sample's channel count. Where a mask is needed from a sample that has none, the pixels get
// 255 (ignore).

/// The partner prepared for mixing into a `width × height` sample with `channels` channels.
func fitted(_ partner: Sample, width: Int, height: Int, channels: Int) -> Sample {
    var p = partner
    if p.image.channels != channels, let converted = try? p.image.converted(toChannels: channels) {
        p.image = converted
    }
    resizeSample(&p, width: width, height: height, interpolation: .bilinear)
    return p
}

/// A mask for `sample`: its own, or all-ignore when it has none.
func maskOrIgnore(_ sample: Sample) -> Image {
    sample.mask
        ?? Image.build(width: sample.width, height: sample.height, channels: 1) {
            $0.update(repeating: 255, count: sample.width * sample.height)
        }
}

/// `λ·a + (1 − λ)·b` for soft labels of the same length; otherwise `a`.
func mixLabels(_ a: [Double]?, _ b: [Double]?, _ lambda: Double) -> [Double]? {
    guard let a, let b, a.count == b.count else { return a }
    return zip(a, b).map { lambda * $0 + (1 - lambda) * $1 }
}

/// mixup (Zhang et al. 2018): `image = λ·image + (1 − λ)·partner` with λ ~ Beta(α, α).
///
/// - classification: soft labels mixed with the same λ;
/// - detection: the boxes of both images are kept (the partner's scaled to this image's size);
/// - segmentation: the mask of the image with the larger weight (λ ≥ ½: this one), since class ids cannot be
///   blended.
public struct MixUp: Transform {
    public let alpha: Double

    public struct Parameters: Sendable {
        /// The weight of this sample, in [0, 1].
        public var lambda: Double
        public var partner: Sample
        public init(lambda: Double, partner: Sample) { (self.lambda, self.partner) = (lambda, partner) }
    }

    public init(alpha: Double = 1.0) throws(AugmentError) {
        guard alpha > 0, alpha <= 1000 else { throw .parameter("mixup alpha must be in (0, 1000], got \(alpha)") }
        self.alpha = alpha
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) throws(AugmentError) -> Parameters {
        let lambda = context.random.beta(alpha, alpha)
        return Parameters(lambda: lambda, partner: try context.partner(for: "mixup"))
    }

    public func apply(_ p: Parameters, to sample: inout Sample) {
        let other = fitted(p.partner, width: sample.width, height: sample.height, channels: sample.image.channels)
        FilterKernels.blend(&sample.image, with: other.image, weight: p.lambda)
        sample.boxes += other.boxes
        if sample.mask != nil || other.mask != nil {
            sample.mask = p.lambda >= 0.5 ? maskOrIgnore(sample) : maskOrIgnore(other)
        }
        sample.softLabel = mixLabels(sample.softLabel, other.softLabel, p.lambda)
    }
}

/// CutMix (Yun et al. 2019): a rectangle of the partner pasted into the image. λ ~ Beta(α, α); the rectangle is
/// `⌊W·√(1−λ)⌋ × ⌊H·√(1−λ)⌋` centred at a uniformly random pixel and clipped to the image (torchvision's
/// rule), and λ is then corrected to the area actually kept.
///
/// - classification: soft labels mixed with the corrected λ;
/// - detection: this image's boxes lose the part under the rectangle (see ``BoxPolicy``); the partner's boxes
///   are clipped to the rectangle, their visibility the fraction inside it;
/// - segmentation: the partner's mask is pasted with its pixels.
public struct CutMix: Transform {
    public let alpha: Double

    public struct Parameters: Sendable {
        /// The pasted rectangle, in this sample's pixels.
        public var rect: PixelRect
        public var partner: Sample
        public init(rect: PixelRect, partner: Sample) { (self.rect, self.partner) = (rect, partner) }
    }

    public init(alpha: Double = 1.0) throws(AugmentError) {
        guard alpha > 0, alpha <= 1000 else { throw .parameter("cutmix alpha must be in (0, 1000], got \(alpha)") }
        self.alpha = alpha
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) throws(AugmentError) -> Parameters {
        let w = sample.width
        let h = sample.height
        let lambda = context.random.beta(alpha, alpha)
        let cut = (1 - lambda).squareRoot()
        let cw = Int(Double(w) * cut)
        let ch = Int(Double(h) * cut)
        let cx = context.random.integer(in: 0...(w - 1))
        let cy = context.random.integer(in: 0...(h - 1))
        let x1 = max(0, min(w, cx - cw / 2))
        let y1 = max(0, min(h, cy - ch / 2))
        let x2 = max(0, min(w, cx + cw / 2))
        let y2 = max(0, min(h, cy + ch / 2))
        let rect = PixelRect(x: x1, y: y1, width: x2 - x1, height: y2 - y1)
        return Parameters(rect: rect, partner: try context.partner(for: "cutmix"))
    }

    public func apply(_ p: Parameters, to sample: inout Sample) {
        let w = sample.width
        let h = sample.height
        let r = PixelRect(
            x: max(0, p.rect.x), y: max(0, p.rect.y), width: max(0, min(w, p.rect.x + p.rect.width) - max(0, p.rect.x)),
            height: max(0, min(h, p.rect.y + p.rect.height) - max(0, p.rect.y)))
        guard r.width > 0, r.height > 0 else { return }
        let other = fitted(p.partner, width: w, height: h, channels: sample.image.channels)
        FilterKernels.paste(&sample.image, from: other.image, r)
        if sample.mask != nil || other.mask != nil {
            var mask = maskOrIgnore(sample)
            FilterKernels.paste(&mask, from: maskOrIgnore(other), r)
            sample.mask = mask
        }
        let hole = BoxXYXY(
            x1: Double(r.x), y1: Double(r.y), x2: Double(r.x + r.width), y2: Double(r.y + r.height))
        for i in sample.boxes.indices { sample.boxes[i].hide(under: [hole]) }
        for var b in other.boxes {
            let inside = b.box.intersection(hole)
            let area = b.box.area
            b.visibility *= area > 0 && !inside.isEmpty ? inside.area / area : 0
            b.box = inside.isEmpty ? BoxXYXY(x1: 0, y1: 0, x2: 0, y2: 0) : inside
            sample.boxes.append(b)
        }
        let kept = 1 - Double(r.width * r.height) / Double(w * h)
        sample.softLabel = mixLabels(sample.softLabel, other.softLabel, kept)
    }
}

/// Mosaic (YOLOv4/v5): the sample and three partners tiled 2 × 2 around a random centre on a `width × height`
/// canvas (default: the sample's size). The centre is drawn uniformly from `center` (fractions of the canvas).
/// Each image is scaled, keeping its aspect ratio, just enough to cover its quadrant, and the part of it next
/// to the centre is kept: quadrants top-left (this sample), top-right, bottom-left, bottom-right (partners).
/// Boxes are scaled, moved and clipped to their quadrant; masks travel with the pixels. Soft labels are mixed
/// by area.
public struct Mosaic: Transform {
    public let width: Int?
    public let height: Int?
    public let center: ClosedRange<Double>
    /// How the tiles are resized (masks: nearest).
    public let interpolation: Interpolation

    public struct Parameters: Sendable {
        public var cx: Int
        public var cy: Int
        public var width: Int
        public var height: Int
        public var partners: [Sample]
        public init(cx: Int, cy: Int, width: Int, height: Int, partners: [Sample]) {
            (self.cx, self.cy, self.width, self.height, self.partners) = (cx, cy, width, height, partners)
        }
    }

    public init(
        width: Int? = nil, height: Int? = nil, center: ClosedRange<Double> = 0.25...0.75,
        interpolation: Interpolation = .bilinear
    ) throws(AugmentError) {
        try checkSide("mosaic width", width)
        try checkSide("mosaic height", height)
        try checkRange("mosaic center", center, within: 0...1)
        (self.width, self.height, self.center, self.interpolation) = (width, height, center, interpolation)
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) throws(AugmentError) -> Parameters {
        let w = width ?? sample.width
        let h = height ?? sample.height
        let cx = Int((Double(w) * context.random.uniform(center)).rounded())
        let cy = Int((Double(h) * context.random.uniform(center)).rounded())
        var partners: [Sample] = []
        for k in 0..<3 {
            var child = context.child(k)
            partners.append(try child.partner(for: "mosaic"))
        }
        return Parameters(cx: cx, cy: cy, width: w, height: h, partners: partners)
    }

    public func apply(_ p: Parameters, to sample: inout Sample) {
        let w = p.width
        let h = p.height
        let cx = max(0, min(w, p.cx))
        let cy = max(0, min(h, p.cy))
        let channels = sample.image.channels
        let tiles = [sample] + p.partners.prefix(3)
        // Quadrant rectangles on the canvas, and which corner of the tile touches the centre.
        let quadrants: [(PixelRect, Bool, Bool)] = [  // (rect, tile anchored right, tile anchored bottom)
            (PixelRect(x: 0, y: 0, width: cx, height: cy), true, true),
            (PixelRect(x: cx, y: 0, width: w - cx, height: cy), false, true),
            (PixelRect(x: 0, y: cy, width: cx, height: h - cy), true, false),
            (PixelRect(x: cx, y: cy, width: w - cx, height: h - cy), false, false),
        ]
        var canvas = Image.build(width: w, height: h, channels: channels) {
            $0.update(repeating: 0, count: w * h * channels)
        }
        let anyMask = tiles.contains { $0.mask != nil }
        var mask: Image? =
            anyMask ? Image.build(width: w, height: h, channels: 1) { $0.update(repeating: 255, count: w * h) } : nil
        var boxes: [LabeledBox] = []
        var label: [Double]? = nil
        for (k, tile) in tiles.enumerated() where k < quadrants.count {
            let (q, right, bottom) = quadrants[k]
            guard q.width > 0, q.height > 0 else { continue }
            var t = tile
            if t.image.channels != channels, let c = try? t.image.converted(toChannels: channels) { t.image = c }
            let s = max(Double(q.width) / Double(t.width), Double(q.height) / Double(t.height))
            let rw = min(maxAugmentSide, max(q.width, Int((Double(t.width) * s).rounded())))
            let rh = min(maxAugmentSide, max(q.height, Int((Double(t.height) * s).rounded())))
            resizeSample(&t, width: rw, height: rh, interpolation: interpolation)
            let window = PixelRect(
                x: right ? rw - q.width : 0, y: bottom ? rh - q.height : 0, width: q.width, height: q.height)
            cropSample(&t, window, border: .constant, fill: .black, maskFill: 255)
            FilterKernels.place(&canvas, t.image, x: q.x, y: q.y)
            if mask != nil { FilterKernels.place(&mask!, maskOrIgnore(t), x: q.x, y: q.y) }
            for var b in t.boxes {
                b.box = BoxXYXY(
                    x1: b.box.x1 + Double(q.x), y1: b.box.y1 + Double(q.y), x2: b.box.x2 + Double(q.x),
                    y2: b.box.y2 + Double(q.y))
                boxes.append(b)
            }
            let share = Double(q.width * q.height) / Double(w * h)
            if let l = t.softLabel {
                if label == nil { label = [Double](repeating: 0, count: l.count) }
                if label!.count == l.count { for i in l.indices { label![i] += share * l[i] } }
            }
        }
        sample = Sample(unchecked: canvas, boxes: boxes, mask: mask, softLabel: label)
    }
}
