#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import KestrelNN

/// SSD's training targets for one batch: per image and default box, the class (0 = background) and, for
/// positives, the encoded box offsets.
public struct MultiBoxTargets: Sendable {
    /// `[N·P]` class per default box, 0 for background (image-major).
    public var labels: [Int]
    /// `[N·P·4]` encoded offsets (only read where the label is positive).
    public var offsets: [Float]
    public let images: Int
    public let defaults: Int

    public init(labels: [Int], offsets: [Float], images: Int, defaults: Int) {
        precondition(labels.count == images * defaults && offsets.count == images * defaults * 4)
        self.labels = labels
        self.offsets = offsets
        self.images = images
        self.defaults = defaults
    }
}

/// The multibox loss and its parts, averaged over the positives.
public struct MultiBoxLossResult {
    /// (L_conf + α·L_loc) / max(1, positives): the variable to back-propagate.
    public let total: Variable
    public let classification: Float
    public let localization: Float
    public let positives: Int
    public let negatives: Int
}

/// SSD's multibox loss (Liu et al. 2016, eq. 1, with hard negative mining as the Caffe reference):
/// `(L_conf + α·L_loc) / N`, N = max(1, number of positive default boxes in the batch).
/// - L_loc: Smooth L1 (β = 1) between predicted and target offsets, summed over positives and the 4 offsets.
/// - L_conf: softmax cross-entropy (class 0 = background), summed over the positives and, per image, the
///   `negativeRatio`·(its positives) negatives with the highest background loss −log p₀ (ties: lower index
///   first; an image without positives contributes no negatives).
///
/// Shapes: `confidences [N, P, classes + 1]` (logits), `offsets [N, P, 4]`.
public func multiBoxLoss(confidences: Variable, offsets: Variable, targets: MultiBoxTargets, negativeRatio: Int = 3,
                         alpha: Float = 1) -> MultiBoxLossResult {
    let (n, p, c) = (confidences.shape[0], confidences.shape[1], confidences.shape[2])
    precondition(n == targets.images && p == targets.defaults && offsets.shape == [n, p, 4],
                 "confidences \(confidences.shape), offsets \(offsets.shape) and targets for \(targets.images)x\(targets.defaults)")
    // log-softmax over classes, per default box
    let logp = confidences.value.reshaped([n * p, c])
    var lsm = [Float](repeating: 0, count: n * p * c)
    logp.withUnsafeBufferPointer { x in
        for r in 0..<(n * p) {
            var m = -Float.infinity
            for k in 0..<c { m = max(m, x[r * c + k]) }
            var s: Float = 0
            for k in 0..<c { s += expf(x[r * c + k] - m) }
            let lse = m + logf(s)
            for k in 0..<c { lsm[r * c + k] = x[r * c + k] - lse }
        }
    }
    // Which default boxes count for the confidence loss.
    var selected = [Bool](repeating: false, count: n * p)
    var positives = 0, negatives = 0
    for img in 0..<n {
        var pos = 0
        var negs: [(loss: Float, index: Int)] = []
        for j in 0..<p {
            let r = img * p + j
            let label = targets.labels[r]
            precondition(label >= 0 && label < c, "target class \(label) outside 0..<\(c)")
            if label > 0 {
                selected[r] = true
                pos += 1
            } else {
                negs.append((-lsm[r * c], j))
            }
        }
        let k = min(negativeRatio * pos, negs.count)
        if k > 0 {
            negs.sort { $0.loss > $1.loss || ($0.loss == $1.loss && $0.index < $1.index) }
            for e in negs.prefix(k) { selected[img * p + e.index] = true }
        }
        positives += pos
        negatives += k
    }
    let norm = Float(max(1, positives))
    var confLoss = 0.0, locLoss = 0.0
    for r in 0..<(n * p) where selected[r] { confLoss -= Double(lsm[r * c + targets.labels[r]]) }
    let loc = offsets.value.scalars
    for r in 0..<(n * p) where targets.labels[r] > 0 {
        for q in 0..<4 {
            let d = abs(Double(loc[r * 4 + q]) - Double(targets.offsets[r * 4 + q]))
            locLoss += d < 1 ? 0.5 * d * d : d - 0.5
        }
    }
    let total = Float((confLoss + Double(alpha) * locLoss) / Double(norm))
    let lsmSaved = lsm, selectedSaved = selected
    let variable = recordOp("multibox_loss", [confidences, offsets], Tensor(total)) { gy, needs in
        let g = gy.item / norm
        var dconf: Tensor? = nil, dloc: Tensor? = nil
        if needs[0] {
            dconf = Tensor(shape: confidences.shape) { d in
                d.update(repeating: 0)
                for r in 0..<(n * p) where selectedSaved[r] {
                    let label = targets.labels[r]
                    for k in 0..<c { d[r * c + k] = g * (expf(lsmSaved[r * c + k]) - (k == label ? 1 : 0)) }
                }
            }
        }
        if needs[1] {
            dloc = Tensor(shape: offsets.shape) { d in
                d.update(repeating: 0)
                for r in 0..<(n * p) where targets.labels[r] > 0 {
                    for q in 0..<4 {
                        let diff = loc[r * 4 + q] - targets.offsets[r * 4 + q]
                        d[r * 4 + q] = g * alpha * (abs(diff) < 1 ? diff : (diff > 0 ? 1 : -1))
                    }
                }
            }
        }
        return [dconf, dloc]
    }
    return MultiBoxLossResult(total: variable, classification: Float(confLoss) / norm, localization: Float(locLoss) / norm,
                              positives: positives, negatives: negatives)
}
