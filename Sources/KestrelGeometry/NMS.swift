#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Non-maximum suppression: greedy, class-aware (batched) and soft-NMS.
//
// Conventions shared by every function here:
// - Boxes are corner form (`BoxXYXY`), any units; IoU is `BoxXYXY.iou(_:)` (0 for an empty union).
// - Candidates are visited by score, highest first; equal scores are visited in increasing original index
//   (a stable order), so results never depend on the sorting algorithm.
// - A box is suppressed when its IoU with an already kept box is strictly greater than the threshold
//   (`IoU > t`; a pair exactly at `t` survives), as in torchvision, OpenCV and ONNX Runtime.
// - Results are indices into the input arrays, in the order boxes were kept (decreasing score).
// - At most Int32.max boxes.
// - Boxes whose score is NaN are dropped. Boxes with non-finite coordinates take part with whatever IoU the
//   arithmetic gives (NaN comparisons are false: such a box neither suppresses nor is suppressed).

/// Options for ``NMS/greedy(_:scores:options:)`` and ``NMS/batched(_:scores:classes:options:)``.
public struct NMSOptions: Sendable, Equatable {
    /// A box is suppressed when its IoU with a kept box is strictly greater than this.
    public var iouThreshold: Double
    /// When set, boxes whose score is not strictly greater than this are dropped before suppression
    /// (the rule of ONNX Runtime's `score_threshold` and OpenCV's `score_threshold`).
    public var scoreThreshold: Double?
    /// When set, at most this many boxes are returned (the first kept, i.e. the highest scoring): top-k.
    public var maxOutput: Int?

    public init(iouThreshold: Double = 0.5, scoreThreshold: Double? = nil, maxOutput: Int? = nil) {
        self.iouThreshold = iouThreshold
        self.scoreThreshold = scoreThreshold
        self.maxOutput = maxOutput
    }
}

/// How soft-NMS lowers the score of a box overlapping a selected one (Bodla et al., ICCV 2017).
public enum SoftNMSMethod: Sendable, Equatable {
    /// `s ← s · (1 − IoU)` when `IoU > threshold`, unchanged otherwise.
    case linear(iouThreshold: Double)
    /// `s ← s · exp(−IoU² / sigma)` for every remaining box that overlaps (`sigma` > 0; the paper uses 0.5).
    case gaussian(sigma: Double)
}

/// Options for ``NMS/soft(_:scores:options:)``.
public struct SoftNMSOptions: Sendable, Equatable {
    public var method: SoftNMSMethod
    /// Boxes whose (possibly lowered) score falls below this are discarded; the original paper's default is
    /// 0.001. Boxes whose input score is already below it never take part.
    public var scoreThreshold: Double
    /// When set, selection stops after this many boxes.
    public var maxOutput: Int?

    public init(method: SoftNMSMethod = .gaussian(sigma: 0.5), scoreThreshold: Double = 0.001, maxOutput: Int? = nil) {
        self.method = method
        self.scoreThreshold = scoreThreshold
        self.maxOutput = maxOutput
    }
}

/// One box selected by soft-NMS: its index in the input and its lowered score.
public struct SoftNMSSelection: Sendable, Equatable {
    public var index: Int
    public var score: Double

    public init(index: Int, score: Double) {
        self.index = index
        self.score = score
    }
}

public enum NMS {
    /// Greedy NMS: visit boxes by decreasing score (ties: lower index first); keep a box unless its IoU with
    /// a box kept before it is `> options.iouThreshold`.
    ///
    /// `boxes` and `scores` have one entry per box (`precondition`). Returns the kept indices in decreasing
    /// score order. Exact: it returns what the obvious O(N·K) loop returns; a uniform grid only skips pairs
    /// whose IoU provably cannot exceed the threshold.
    public static func greedy(_ boxes: [BoxXYXY], scores: [Double], options: NMSOptions = NMSOptions()) -> [Int] {
        precondition(boxes.count == scores.count, "NMS: \(boxes.count) boxes but \(scores.count) scores")
        let order = candidateOrder(scores: scores, scoreThreshold: options.scoreThreshold)
        let limit = max(0, options.maxOutput ?? Int.max)
        return GreedySuppressor.run(boxes: boxes, order: order, threshold: options.iouThreshold, limit: limit)
    }

    /// Class-aware NMS: boxes suppress only boxes of the same class (`classes[i]` is box `i`'s class).
    /// Equivalent to running ``greedy(_:scores:options:)`` per class and merging by score (ties: lower index
    /// first); `maxOutput` then applies to the merged list.
    public static func batched(
        _ boxes: [BoxXYXY], scores: [Double], classes: [Int], options: NMSOptions = NMSOptions()
    ) -> [Int] {
        precondition(boxes.count == scores.count && boxes.count == classes.count,
                     "NMS: \(boxes.count) boxes, \(scores.count) scores, \(classes.count) classes")
        let order = candidateOrder(scores: scores, scoreThreshold: options.scoreThreshold)
        var groups: [Int: [Int32]] = [:]
        for i in order { groups[classes[Int(i)], default: []].append(i) }
        var kept: [Int] = []
        for (_, group) in groups {
            kept += GreedySuppressor.run(boxes: boxes, order: group, threshold: options.iouThreshold, limit: Int.max)
        }
        kept.sort { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        if let k = options.maxOutput, kept.count > max(0, k) { kept.removeLast(kept.count - max(0, k)) }
        return kept
    }

    /// Soft-NMS: repeatedly select the remaining box with the highest current score (ties: lower index), then
    /// lower the scores of the remaining boxes by their IoU with it (see ``SoftNMSMethod``) and discard those
    /// that fall below `options.scoreThreshold`. O(N²). Returns the selections in order, with their lowered
    /// scores (non-increasing).
    public static func soft(
        _ boxes: [BoxXYXY], scores: [Double], options: SoftNMSOptions = SoftNMSOptions()
    ) -> [SoftNMSSelection] {
        precondition(boxes.count == scores.count, "NMS: \(boxes.count) boxes but \(scores.count) scores")
        var remaining = scores.indices.filter { !scores[$0].isNaN && scores[$0] >= options.scoreThreshold }
        var current = scores
        var out: [SoftNMSSelection] = []
        let limit = max(0, options.maxOutput ?? Int.max)
        while !remaining.isEmpty && out.count < limit {
            var best = 0
            for r in 1..<remaining.count {
                let i = remaining[r], b = remaining[best]
                if current[i] > current[b] || (current[i] == current[b] && i < b) { best = r }
            }
            let picked = remaining.remove(at: best)
            out.append(SoftNMSSelection(index: picked, score: current[picked]))
            let box = boxes[picked]
            remaining.removeAll { j in
                let iou = box.iou(boxes[j])
                switch options.method {
                case .linear(let t): if iou > t { current[j] *= 1 - iou }
                case .gaussian(let sigma): if iou != 0 { current[j] *= (-(iou * iou) / sigma).exponential }
                }
                return !(current[j] >= options.scoreThreshold)
            }
        }
        return out
    }

    /// Indices of the boxes that take part, sorted by decreasing score, ties by increasing index.
    static func candidateOrder(scores: [Double], scoreThreshold: Double?) -> [Int32] {
        var kept: [Int32] = []
        var keptScores: [Double] = []
        kept.reserveCapacity(scores.count)
        keptScores.reserveCapacity(scores.count)
        for (i, s) in scores.enumerated() where !s.isNaN {
            if let t = scoreThreshold, !(s > t) { continue }
            kept.append(Int32(truncatingIfNeeded: i))
            keptScores.append(s)
        }
        return ScoreOrder.descending(keptScores).map { kept[Int($0)] }
    }
}

extension Double {
    /// e^self from the C library (this module imports no Foundation).
    fileprivate var exponential: Double { exp(self) }
}
