#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import KestrelGeometry

/// One detected object: corner-form box in the pixels of the original image, class 1…K, score.
public struct DetectedObject: Sendable, Equatable {
    public var box: BoxXYXY
    public var label: Int
    public var score: Double

    public init(box: BoxXYXY, label: Int, score: Double) {
        (self.box, self.label, self.score) = (box, label, score)
    }
}

/// SSD's inference rule (the Caffe reference's `DetectionOutput` and torchvision's `postprocess_detections`):
/// softmax over classes per default box; per class, boxes whose probability is above `scoreThreshold`, at most
/// the `topK` best, decoded, then greedy NMS at `nmsThreshold`; the survivors of all classes sorted by score and
/// cut to `keep`.
public struct PostprocessOptions: Sendable, Equatable {
    public var scoreThreshold: Double = 0.01
    public var topK: Int = 400
    public var nmsThreshold: Double = 0.45
    public var keep: Int = 200

    public init(scoreThreshold: Double = 0.01, topK: Int = 400, nmsThreshold: Double = 0.45, keep: Int = 200) {
        (self.scoreThreshold, self.topK, self.nmsThreshold, self.keep) = (scoreThreshold, topK, nmsThreshold, keep)
    }
}

extension SSD {
    /// Detections for a batch of inputs `[N, 3, S, S]`; `sizes` are the original images' (width, height), to
    /// which boxes are scaled back (the input is the image resized to S×S).
    public func detect(_ images: Tensor, sizes: [(width: Int, height: Int)], options: PostprocessOptions = PostprocessOptions(),
                       coder: BoxCoder = BoxCoder()) -> [[DetectedObject]] {
        let (scores, offsets) = GradMode.withoutGradients { predict(Variable(images)) }
        return postprocess(scores: scores.value, offsets: offsets.value, sizes: sizes, options: options, coder: coder)
    }

    /// The inference rule on raw outputs: `scores [N, P, classes + 1]` (logits), `offsets [N, P, 4]` (encoded
    /// against ``defaultBoxes``), `sizes` the images' (width, height) that the normalised boxes are scaled to.
    public func postprocess(scores: Tensor, offsets: Tensor, sizes: [(width: Int, height: Int)],
                            options: PostprocessOptions = PostprocessOptions(), coder: BoxCoder = BoxCoder()) -> [[DetectedObject]] {
        let n = scores.shape[0], p = defaultBoxes.count, c = classes + 1
        precondition(scores.shape == [n, p, c] && offsets.shape == [n, p, 4] && sizes.count == n,
                     "scores \(scores.shape), offsets \(offsets.shape) for \(sizes.count) images of \(p) default boxes")
        let s = scores.scalars, o = offsets.scalars
        var out: [[DetectedObject]] = []
        for img in 0..<n {
            // Per-box softmax.
            var probs = [Double](repeating: 0, count: p * c)
            for j in 0..<p {
                let base = (img * p + j) * c
                var m = -Double.infinity
                for k in 0..<c { m = max(m, Double(s[base + k])) }
                var total = 0.0
                for k in 0..<c {
                    let e = exp(Double(s[base + k]) - m)
                    probs[j * c + k] = e
                    total += e
                }
                for k in 0..<c { probs[j * c + k] /= total }
            }
            let (w, h) = (Double(sizes[img].width), Double(sizes[img].height))
            var found: [DetectedObject] = []
            for cls in 1..<c {
                var cands = (0..<p).filter { probs[$0 * c + cls] > options.scoreThreshold }
                cands.sort { probs[$0 * c + cls] > probs[$1 * c + cls] || (probs[$0 * c + cls] == probs[$1 * c + cls] && $0 < $1) }
                if cands.count > options.topK { cands.removeLast(cands.count - options.topK) }
                guard !cands.isEmpty else { continue }
                let boxes = cands.map { j -> BoxXYXY in
                    let base = (img * p + j) * 4
                    let d = coder.decode((Double(o[base]), Double(o[base + 1]), Double(o[base + 2]), Double(o[base + 3])),
                                         relativeTo: defaultBoxes[j]).xyxy
                    return BoxXYXY(x1: d.x1 * w, y1: d.y1 * h, x2: d.x2 * w, y2: d.y2 * h).clipped(width: w, height: h)
                }
                let candScores = cands.map { probs[$0 * c + cls] }
                for k in NMS.greedy(boxes, scores: candScores, options: NMSOptions(iouThreshold: options.nmsThreshold)) {
                    found.append(DetectedObject(box: boxes[k], label: cls, score: candScores[k]))
                }
            }
            found.sort { $0.score > $1.score }
            if found.count > options.keep { found.removeLast(found.count - options.keep) }
            out.append(found)
        }
        return out
    }
}
