/// The FCN paper's segmentation metrics, from one confusion matrix accumulated over a whole dataset
/// (Long et al. 2015, §5; the reference's `score.py`):
/// with n_ij the pixels of class i predicted as j, t_i = Σ_j n_ij and k classes,
/// pixel accuracy Σ_i n_ii / Σ_i t_i; mean class accuracy (1/k)Σ_i n_ii/t_i; mean IU
/// (1/k)Σ_i n_ii/(t_i + Σ_j n_ji − n_ii); frequency-weighted IU (Σ_k t_k)⁻¹ Σ_i t_i·n_ii/(t_i + Σ_j n_ji − n_ii).
/// Pixels whose true label is outside 0..<k (255, "ignore") are not counted. Classes that never occur in the
/// ground truth have no accuracy and are left out of the mean class accuracy; classes with an empty union have
/// no IU and are left out of mean IU (numpy's nanmean, as the reference).
public struct SegmentationConfusion: Sendable, Equatable, Codable {
    public let classes: Int
    /// `counts[truth][prediction]` in pixels.
    public private(set) var counts: [[Int]]

    public init(classes: Int) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    /// Adds label maps of equal length (row-major pixels). Truth outside 0..<classes is ignored; a prediction
    /// outside it is a programming error.
    public mutating func add(truth: [UInt8], prediction: [UInt8]) {
        precondition(truth.count == prediction.count, "truth and prediction differ in size")
        for (t, p) in zip(truth, prediction) where Int(t) < classes {
            counts[Int(t)][Int(p)] += 1
        }
    }

    public mutating func add(_ other: SegmentationConfusion) {
        precondition(other.classes == classes)
        for i in 0..<classes { for j in 0..<classes { counts[i][j] += other.counts[i][j] } }
    }

    var truthTotals: [Int] { counts.map { $0.reduce(0, +) } }
    var predictionTotals: [Int] { (0..<classes).map { j in counts.reduce(0) { $0 + $1[j] } } }
    public var pixels: Int { truthTotals.reduce(0, +) }

    public var pixelAccuracy: Double {
        pixels > 0 ? Double((0..<classes).reduce(0) { $0 + counts[$1][$1] }) / Double(pixels) : 0
    }

    /// n_ii / t_i, nil for classes absent from the ground truth.
    public var classAccuracy: [Double?] {
        let t = truthTotals
        return (0..<classes).map { t[$0] > 0 ? Double(counts[$0][$0]) / Double(t[$0]) : nil }
    }

    /// Intersection over union per class, nil where the union is empty.
    public var iou: [Double?] {
        let t = truthTotals, p = predictionTotals
        return (0..<classes).map { i in
            let union = t[i] + p[i] - counts[i][i]
            return union > 0 ? Double(counts[i][i]) / Double(union) : nil
        }
    }

    public var meanClassAccuracy: Double { mean(classAccuracy) }
    public var meanIoU: Double { mean(iou) }

    public var frequencyWeightedIoU: Double {
        let t = truthTotals
        let total = Double(t.reduce(0, +))
        guard total > 0 else { return 0 }
        return zip(t, iou).reduce(0.0) { acc, pair in
            guard pair.0 > 0, let u = pair.1 else { return acc }
            return acc + Double(pair.0) / total * u
        }
    }

    private func mean(_ values: [Double?]) -> Double {
        let v = values.compactMap { $0 }
        return v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count)
    }
}
