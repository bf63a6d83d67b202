import KestrelGeometry

/// Assigns ground-truth boxes to default boxes, as the original SSD (Caffe's `MatchBBox`, bipartite then
/// per-prediction):
/// 1. Bipartite: repeatedly take the (ground truth, default box) pair of highest IoU among ground truths and
///    default boxes not yet matched, and match them; so every ground truth gets its own best available default
///    box. When two ground truths want the same default box, the pair with the higher IoU takes it and the
///    other ground truth takes its next best free box. Ties go to the lower ground-truth index, then the lower
///    default-box index. Ground truths with no overlap at all stay unmatched here.
/// 2. Per prediction: every default box still unmatched whose best IoU with any ground truth is ≥ `threshold`
///    takes that ground truth (ties: the lower index).
public struct Matcher: Sendable, Equatable {
    public var threshold: Double

    public init(threshold: Double = 0.5) { self.threshold = threshold }

    /// For each default box, the index of its ground truth, or nil for background.
    public func match(groundTruth: [BoxXYXY], defaults: [BoxXYXY]) -> [Int?] {
        let g = groundTruth.count, p = defaults.count
        var result = [Int?](repeating: nil, count: p)
        guard g > 0 else { return result }
        var iou = [Double](repeating: 0, count: g * p)
        for i in 0..<g {
            for j in 0..<p { iou[i * p + j] = groundTruth[i].iou(defaults[j]) }
        }
        // 1. Bipartite greedy.
        var gtDone = [Bool](repeating: false, count: g)
        var boxTaken = [Bool](repeating: false, count: p)
        for _ in 0..<g {
            var best = 0.0, bi = -1, bj = -1
            for i in 0..<g where !gtDone[i] {
                for j in 0..<p where !boxTaken[j] && iou[i * p + j] > best {
                    best = iou[i * p + j]
                    bi = i
                    bj = j
                }
            }
            guard bi >= 0 else { break }
            result[bj] = bi
            gtDone[bi] = true
            boxTaken[bj] = true
        }
        // 2. Per prediction.
        for j in 0..<p where !boxTaken[j] {
            var best = -1.0, bi = -1
            for i in 0..<g where iou[i * p + j] > best {
                best = iou[i * p + j]
                bi = i
            }
            if best >= threshold { result[j] = bi }
        }
        return result
    }
}
